"""Print jobs: plain functions over a SQLAlchemy session, no Flask and no Socket.IO.

A job is one ticket to print on one kiosk device's printer. A job for the
kiosk agent waits as ``pending`` until the agent acknowledges it; the agent
may acknowledge the same job twice (its first answer was lost), which changes
nothing the second time. A server-side print is ``pending`` while the
server's printer works on it, then ``printed`` (the printer confirmed it),
``unknown`` (sent, never confirmed: a printer that cannot answer or did not) or
``failed``, so staff can see and reprint what failed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.job_messages import MAX_ERROR, valid_id
from kiosk.print_outcome import NO_ANSWER
from kiosk.slip_data import slip_to_data
from server.models import ApiToken, PrintJob, Ticket

from .lookup import ticket_slip

PENDING, PRINTED, UNKNOWN, FAILED = "pending", "printed", "unknown", "failed"
STATUSES = (PENDING, PRINTED, UNKNOWN, FAILED)
ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
AGENT_ERROR_DEFAULT = "printer_error"


@dataclass(frozen=True)
class Ack:
    """The agent's word on one job: printed (``ok``) or not, and why."""

    job_id: int
    ok: bool
    error_code: str | None = None
    message: str | None = None
    confirmed: bool = True  # ok, and the printer said it took the job (not only sent)


@dataclass(frozen=True)
class AckOutcome:
    job_id: int
    ticket_id: int
    status: str
    failed_now: bool  # this acknowledgement recorded a failure: staff are to be told


def parse_ack(data: Any) -> Ack | None:
    """A ``print.ack`` message, checked field by field; ``None`` when it is malformed.

    ``{"job_id": int, "ok": bool, "status": "printed"|"unknown"?, "error_code": str?,
    "message": str?}``; other keys are ignored (an older agent sends no status: printed).
    """
    if not isinstance(data, dict):
        return None
    job_id, ok = data.get("job_id"), data.get("ok")
    if not valid_id(job_id) or type(ok) is not bool:
        return None
    if ok:
        status = data.get("status", PRINTED)
        if status not in (PRINTED, UNKNOWN):
            return None
        code = data.get("error_code")
        reason = code if isinstance(code, str) and ERROR_CODE.fullmatch(code) else None
        return Ack(job_id, True, reason, confirmed=status == PRINTED)
    code = data.get("error_code", AGENT_ERROR_DEFAULT)
    message = data.get("message")
    if not isinstance(code, str) or not ERROR_CODE.fullmatch(code):
        return None
    if message is not None and (not isinstance(message, str) or len(message) > MAX_ERROR):
        return None
    return Ack(job_id, False, code, message or None)


def error_record(code: str, message: str | None) -> str:
    """``last_error`` as staff read it: the code, then the printer's own words."""
    return (f"{code}: {message}" if message else code)[:MAX_ERROR]


def create_job(
    session: Session,
    *,
    site_id: int,
    ticket_id: int,
    device_id: int,
    now: datetime,
    status: str = PENDING,
    error: str | None = None,
) -> PrintJob:
    """Add a job (flushed, so it has its id); a finished status counts one attempt."""
    job = PrintJob(
        site_id=site_id,
        ticket_id=ticket_id,
        device_id=device_id,
        status=status,
        attempts=0 if status == PENDING else 1,
        last_error=error,
        created_at=now,
        printed_at=now if status == PRINTED else None,
    )
    session.add(job)
    session.flush()
    return job


def pending_jobs(session: Session, device_id: int) -> Sequence[PrintJob]:
    """The device's jobs still waiting for its agent, oldest first."""
    query = (
        select(PrintJob)
        .where(PrintJob.device_id == device_id, PrintJob.status == PENDING)
        .order_by(PrintJob.id)
    )
    return session.execute(query).scalars().all()


def job_message(
    session: Session,
    job: PrintJob,
    *,
    now: datetime,
    base_url: str | None,
    footer: str | None,
    paper: int,
) -> dict[str, Any]:
    """The ``print.job`` payload: the job id and the slip's words (people ahead as of ``now``)."""
    slip = ticket_slip(
        session, job.ticket_id, now, base_url=base_url, footer=footer, site_id=job.site_id
    )
    return {
        "job_id": job.id,
        "ticket_id": job.ticket_id,
        "number": slip.number,
        "paper": paper,
        "slip": slip_to_data(slip),
    }


def mark_printed(job: PrintJob, now: datetime) -> None:
    job.attempts += 1
    job.status = PRINTED
    job.printed_at = now


def mark_unknown(job: PrintJob, reason: str | None) -> None:
    """Sent to the printer, never confirmed: not printed as far as anyone knows, not failed."""
    job.attempts += 1
    job.status = UNKNOWN
    job.last_error = error_record(reason, None) if reason else None


def mark_failed(job: PrintJob, code: str, message: str | None) -> None:
    job.attempts += 1
    job.status = FAILED
    job.last_error = error_record(code, message)


def acknowledge(session: Session, device_id: int, ack: Ack, now: datetime) -> AckOutcome | None:
    """Record the agent's answer and commit; ``None`` if the job is not this device's.

    A device acknowledges its own jobs only. A job once printed stays printed:
    a repeated acknowledgement (the first one was lost on the way) changes nothing.
    """
    job = session.get(PrintJob, ack.job_id, with_for_update=True)
    if job is None or job.device_id != device_id:
        return None
    if job.status == PRINTED:
        return AckOutcome(job.id, job.ticket_id, PRINTED, failed_now=False)
    if ack.ok and ack.confirmed:
        mark_printed(job, now)
    elif ack.ok:
        mark_unknown(job, ack.error_code)
    else:
        mark_failed(job, ack.error_code or AGENT_ERROR_DEFAULT, ack.message)
    session.commit()
    failed_now = not ack.ok or ack.error_code == NO_ANSWER  # staff hear of a silent printer
    return AckOutcome(job.id, job.ticket_id, job.status, failed_now=failed_now)


@dataclass(frozen=True)
class JobRow:
    """A job as staff list it."""

    id: int
    ticket_id: int
    number: str
    device_id: int
    device_label: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    printed_at: datetime | None


def list_jobs(
    session: Session,
    site_id: int,
    *,
    status: str | None = None,
    job_id: int | None = None,
    limit: int = 50,
) -> list[JobRow]:
    """A site's jobs, newest first, optionally of one status or one id."""
    query = (
        select(PrintJob, Ticket.number, ApiToken.label)
        .join(Ticket, Ticket.id == PrintJob.ticket_id)
        .join(ApiToken, ApiToken.id == PrintJob.device_id)
        .where(PrintJob.site_id == site_id)
        .order_by(PrintJob.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(PrintJob.status == status)
    if job_id is not None:
        query = query.where(PrintJob.id == job_id)
    return [
        JobRow(
            job.id,
            job.ticket_id,
            number,
            job.device_id,
            label,
            job.status,
            job.attempts,
            job.last_error,
            job.created_at,
            job.printed_at,
        )
        for job, number, label in session.execute(query).all()
    ]
