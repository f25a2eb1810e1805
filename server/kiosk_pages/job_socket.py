"""The Socket.IO side of print jobs: a kiosk connects, gets its jobs, acknowledges them.

- On connect, a kiosk joins ``device:<token id>`` and is sent every job still
  pending for it (``print.job``), oldest first: a job created while its agent
  was away, or whose acknowledgement was lost, is never lost.
- ``print.ack`` ``{"job_id": int, "ok": bool, "error_code"?: str, "message"?: str}``
  records the agent's answer; a failure is also sent to staff (``printer.failed``).
- ``print.sync`` asks for the pending jobs again (the agent does so now and
  then, so a job staff put back to pending reaches it without a reconnect).

A message that is malformed, or about another device's job, is ignored with
a log line and changes nothing; the reply (a Socket.IO acknowledgement) says so.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from flask import session as flask_session
from flask_socketio import emit, join_room

from kiosk.device_settings import DEFAULT_PAPER, print_settings
from kiosk.errors import PrintError
from kiosk.job_messages import valid_id
from kiosk.settings import ticket_footer
from server.models import ApiToken, Site, Ticket
from server.runtime import runtime
from server.tokens import Principal

from . import jobs, notify

log = logging.getLogger(__name__)

DEVICE_KEY = "xephang_device"


def _paper(settings: Any) -> int:
    try:
        return print_settings(settings).paper
    except PrintError:
        return DEFAULT_PAPER


def _agent_prints(settings: Any) -> bool:
    try:
        return print_settings(settings).placement == "agent"
    except PrintError:
        return False


def send_pending(device_id: int) -> int:
    """Send this connection every pending job of the device; returns how many."""
    rt = runtime()
    with rt.db.reads() as session:
        token = session.get(ApiToken, device_id)
        if not _agent_prints(token.settings if token else None):
            return 0  # its pending jobs are the server's own printer's, still at work
        paper = _paper(token.settings if token else None)
        messages = [
            jobs.job_message(
                session,
                job,
                now=rt.clock(),
                base_url=notify.base_url(),
                footer=ticket_footer(current_app.config),
                paper=paper,
            )
            for job in jobs.pending_jobs(session, device_id)
        ]
    for message in messages:
        emit(notify.PRINT_JOB, message)
    if messages:
        log.info("sent %d pending print jobs to device %s", len(messages), device_id)
    return len(messages)


def kiosk_connected(principal: Principal) -> None:
    """A kiosk (its page or its agent) connected: its device room, then its pending jobs."""
    flask_session[DEVICE_KEY] = principal.token_id
    join_room(notify.device_room(principal.token_id))
    send_pending(principal.token_id)


def _device_id() -> int | None:
    device_id = flask_session.get(DEVICE_KEY)
    return device_id if valid_id(device_id) else None


def _refused(reason: str) -> dict[str, Any]:
    return {"accepted": False, "reason": reason}


def _tell_staff(device_id: int, outcome: jobs.AckOutcome, ack: jobs.Ack) -> None:
    rt = runtime()
    with rt.db.reads() as session:
        token = session.get(ApiToken, device_id)
        ticket = session.get(Ticket, outcome.ticket_id)
        site = session.get(Site, ticket.site_id) if ticket else None
        if token is None or ticket is None or site is None:
            return
        label, number, site_code = token.label, ticket.number, site.code
    notify.printer_failed(
        site_code=site_code,
        device_id=device_id,
        device_label=label,
        ticket_id=outcome.ticket_id,
        number=number,
        job_id=outcome.job_id,
        placement="agent",
        error_code=ack.error_code or jobs.AGENT_ERROR_DEFAULT,
        detail=ack.message,
        at=rt.clock(),
    )


def on_print_ack(data: Any = None) -> dict[str, Any]:
    device_id = _device_id()
    if device_id is None:
        log.warning("print.ack from a connection that is not a kiosk: ignored")
        return _refused("not_a_kiosk")
    ack = jobs.parse_ack(data)
    if ack is None:
        log.warning("malformed print.ack from device %s ignored: %.200r", device_id, data)
        return _refused("invalid_message")
    rt = runtime()
    with rt.db.writes() as session:
        outcome = jobs.acknowledge(session, device_id, ack, rt.clock())
    if outcome is None:
        log.warning(
            "device %s acknowledged job %s, not one of its own: ignored", device_id, ack.job_id
        )
        return _refused("job_not_found")
    if outcome.failed_now:
        _tell_staff(device_id, outcome, ack)
    else:
        log.info("job %s acknowledged by device %s: %s", outcome.job_id, device_id, outcome.status)
    return {"accepted": True, "job_id": outcome.job_id, "status": outcome.status}


def on_print_sync(_data: Any = None) -> dict[str, Any]:
    device_id = _device_id()
    if device_id is None:
        return _refused("not_a_kiosk")
    return {"accepted": True, "pending": send_pending(device_id)}


def register_print_handlers(socketio: Any, guard: Any = None) -> None:
    """``guard`` wraps each handler (the server's per-connection message budget)."""
    wrap = guard or (lambda handler: handler)
    socketio.on_event("print.ack", wrap(on_print_ack))
    socketio.on_event("print.sync", wrap(on_print_sync))
