"""Printing a failed job again, once its printer is back (``xephang print-jobs --retry``).

Runs in the app's context, usually a command line on the server machine: a
job of a server-driven printer is printed from here; a job of a kiosk agent
goes back to ``pending`` and reaches the agent at once (through Redis, when
configured) or at its next ``print.sync`` (about a minute) or reconnection.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from kiosk.device_settings import PrintSettings, print_settings
from kiosk.errors import PrintError, PrinterUnavailable
from kiosk.settings import ticket_footer
from server.models import ApiToken, PrintJob
from server.runtime import runtime

from . import jobs, notify
from .dispatch import print_ticket, printer_lock
from .lookup import ticket_slip


@dataclass(frozen=True)
class Retried:
    job_id: int
    status: str  # printed, unknown, pending (sent back to the agent), failed, or skipped
    message: str


def _print_here(job_id: int, settings: PrintSettings) -> Retried:
    rt = runtime()
    assert settings.spec is not None
    with rt.db.reads() as session:
        job = session.get(PrintJob, job_id)
        assert job is not None
        slip = ticket_slip(
            session,
            job.ticket_id,
            rt.clock(),
            base_url=notify.base_url(),
            footer=ticket_footer(current_app.config),
            site_id=job.site_id,
        )
    failure: PrintError | None = None
    outcome = None
    try:
        with printer_lock(settings.spec.url):
            outcome = print_ticket(slip, settings.spec, settings.paper)
    except PrinterUnavailable as err:
        failure = err
    with rt.db.writes() as session:
        job = session.get(PrintJob, job_id)
        assert job is not None
        if failure is not None:
            jobs.mark_failed(job, failure.code, failure.message)
        elif outcome is not None and outcome.printed:
            jobs.mark_printed(job, rt.clock())
        else:
            jobs.mark_unknown(job, outcome.unknown if outcome else None)
        session.commit()
    if failure is not None:
        return Retried(job_id, jobs.FAILED, failure.message)
    if outcome is not None and not outcome.printed:
        return Retried(
            job_id,
            jobs.UNKNOWN,
            f"Đã gửi lại phiếu {slip.number} tới {settings.printer}, máy in chưa xác nhận đã in.",
        )
    return Retried(job_id, jobs.PRINTED, f"Đã in lại phiếu {slip.number} trên {settings.printer}.")


def _back_to_agent(job_id: int, paper: int) -> Retried:
    rt = runtime()
    with rt.db.writes() as session:
        job = session.get(PrintJob, job_id)
        assert job is not None
        job.status = jobs.PENDING
        message = jobs.job_message(
            session,
            job,
            now=rt.clock(),
            base_url=notify.base_url(),
            footer=ticket_footer(current_app.config),
            paper=paper,
        )
        device_id = job.device_id
        session.commit()
    if notify.send_job(device_id, message):
        return Retried(job_id, jobs.PENDING, "Đã gửi lại lệnh in cho máy kiosk.")
    return Retried(
        job_id,
        jobs.PENDING,
        "Lệnh in chờ máy kiosk: kiosk nhận lại trong khoảng một phút hoặc khi kết nối lại.",
    )


def retry_job(job_id: int) -> Retried:
    """Print a failed job again where its kiosk prints now; other jobs are left alone."""
    with runtime().db.reads() as session:
        job = session.get(PrintJob, job_id)
        if job is None:
            return Retried(job_id, "skipped", "Không có lệnh in này.")
        if job.status != jobs.FAILED:
            return Retried(job_id, "skipped", "Chỉ in lại lệnh in bị lỗi (failed).")
        token = session.get(ApiToken, job.device_id)
        raw = token.settings if token else None
        ticket_id = job.ticket_id
    try:
        settings = print_settings(raw)
    except PrintError as err:
        return Retried(job_id, "skipped", err.message)
    if settings.placement == "server":
        return _print_here(job_id, settings)
    if settings.placement == "agent":
        return _back_to_agent(job_id, settings.paper)
    return Retried(
        job_id,
        "skipped",
        f"Kiosk này hiện in bằng “{settings.printer}”: dùng "
        f"`xephang print-ticket {ticket_id} --printer URL` để in lại phiếu.",
    )
