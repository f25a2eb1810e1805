"""Sending print jobs and printer failures over Socket.IO.

Two messages leave from here:

- ``print.job`` to the room ``device:<token id>`` of one kiosk: a job for its agent.
- ``printer.failed`` to the site's room ``site:<code>``: a ticket was issued but
  not printed, for staff. It is a notice, not a change of the queue's state, so
  it carries no ``seq`` (clients must not treat it as a gap in the sequence).

Either goes through the app's Socket.IO (a serving process) or through the
Redis message queue (a command-line process, when ``XEPHANG_REDIS_URL`` is
set); a process with neither only logs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context, request
from flask_socketio import SocketIO

from kiosk.print_messages import device_name, staff_text
from kiosk.settings import public_url
from server.runtime import runtime

log = logging.getLogger(__name__)

PRINT_JOB = "print.job"
PRINTER_FAILED = "printer.failed"
WRITE_ONLY_KEY = "xephang_print_socketio"


def device_room(device_id: int) -> str:
    return f"device:{device_id}"


def site_room(site_code: str) -> str:
    return f"site:{site_code}"  # the same room as server.realtime's site_room


def base_url() -> str | None:
    """The address the ticket's QR code starts with: the public URL, else this request's root."""
    configured = public_url(current_app.config)
    if configured:
        return configured
    return request.url_root if has_request_context() else None


def _socketio() -> Any:
    """The serving app's Socket.IO, or (a command line) a write-only handle on Redis."""
    app = current_app
    found = app.extensions.get("socketio") or getattr(runtime().publisher, "socketio", None)
    if found is not None:
        return found
    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        return None
    if WRITE_ONLY_KEY not in app.extensions:
        channel = app.config.get("REDIS_CHANNEL", "flask-socketio")
        app.extensions[WRITE_ONLY_KEY] = SocketIO(message_queue=redis_url, channel=channel)
    return app.extensions[WRITE_ONLY_KEY]


def send(name: str, payload: dict[str, Any], room: str) -> bool:
    """Emit one message to a room; False (and a log line) when it could not be sent."""
    socketio = _socketio()
    if socketio is None:
        log.info("%s to %s not sent: no Socket.IO in this process", name, room)
        return False
    try:
        socketio.emit(name, payload, to=room)
    except Exception:  # the job is stored; the agent gets it again when it reconnects
        log.exception("sending %s to %s failed", name, room)
        return False
    return True


def send_job(device_id: int, message: dict[str, Any]) -> bool:
    return send(PRINT_JOB, message, device_room(device_id))


def printer_failed(
    *,
    site_code: str,
    device_id: int,
    device_label: str | None,
    ticket_id: int | None,
    number: str | None,
    job_id: int | None,
    placement: str,
    error_code: str,
    detail: str | None,
    at: datetime,
) -> dict[str, Any]:
    """Log a failed print and tell the site's staff; returns the ``printer.failed`` payload."""
    message = staff_text(
        error_code, detail, device=device_name(device_label, device_id), number=number
    )
    log.warning(
        "ticket %s (id %s) not printed by device %s (%s): %s",
        number,
        ticket_id,
        device_id,
        placement,
        message,
    )
    payload = {
        "site": site_code,
        "device_id": device_id,
        "device_label": device_label or "",
        "ticket_id": ticket_id,
        "number": number,
        "job_id": job_id,
        "placement": placement,
        "error_code": error_code,
        "message": message,
        "at": at.isoformat(),
    }
    send(PRINTER_FAILED, payload, site_room(site_code))
    return payload
