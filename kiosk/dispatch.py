"""Printing a ticket the kiosk just issued, wherever that kiosk prints.

The kiosk device's settings (``kiosk.device_settings``) choose the placement:
the server drives a printer itself, the kiosk agent gets a print job, the
kiosk page prints through the browser, or nothing is printed. The ticket is
already issued when this runs, and nothing here can take it back: every
failure becomes a ``PrintResult`` with a Vietnamese message for the screen,
a log line and a ``printer.failed`` message to the site's staff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app

from server.engine.errors import QueueError
from server.messages import error_text
from server.models import ApiToken, Site, Ticket
from server.runtime import runtime
from server.tokens import Principal

from . import jobs, notify
from .device_settings import PrintSettings, print_settings
from .errors import PrintError, PrinterUnavailable
from .lookup import ticket_slip
from .print_messages import NO_PRINTER_TEXT, QUEUED_TEXT, screen_text
from .printing import print_ticket
from .settings import ticket_footer

log = logging.getLogger(__name__)

PRINT_ERROR = "print_error"  # anything unexpected: the ticket stands, staff are told


@dataclass
class PrintResult:
    """What the kiosk screen says about the paper ticket.

    ``placement``: server, agent, browser or none. ``status``: printed (by the
    server), queued (for the agent), browser (the page prints it), skipped
    (this kiosk prints nothing) or failed (``error_code`` says why).
    ``message`` is Vietnamese, for the screen, or None when there is nothing to say.
    """

    placement: str
    status: str
    job_id: int | None = None
    error_code: str | None = None
    message: str | None = None


# One job at a time per printer in this process: a network printer takes one
# connection at a time, and two tickets must not interleave on a USB device.
_printer_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextmanager
def printer_lock(url: str) -> Iterator[None]:
    with _locks_guard:
        lock = _printer_locks.setdefault(url, threading.Lock())
    with lock:
        yield


@dataclass(frozen=True)
class _Device:
    id: int
    site_id: int
    label: str
    settings: Any
    site_code: str
    number: str | None


def _device(principal: Principal, ticket_id: int) -> _Device:
    with runtime().db.reads() as session:
        token = session.get(ApiToken, principal.token_id)
        ticket = session.get(Ticket, ticket_id)
        site = session.get(Site, principal.site_id)
        own = ticket is not None and ticket.site_id == principal.site_id
        return _Device(
            principal.token_id,
            principal.site_id,
            token.label if token else "",
            token.settings if token else None,
            site.code if site else principal.site_code,
            ticket.number if own and ticket else None,
        )


def _failed(
    device: _Device,
    ticket_id: int,
    placement: str,
    code: str,
    detail: str | None,
    job_id: int | None = None,
) -> PrintResult:
    notify.printer_failed(
        site_code=device.site_code,
        device_id=device.id,
        device_label=device.label,
        ticket_id=ticket_id,
        number=device.number,
        job_id=job_id,
        placement=placement,
        error_code=code,
        detail=detail,
        at=runtime().clock(),
    )
    return PrintResult(placement, "failed", job_id, code, screen_text(code))


def _print_on_server(device: _Device, ticket_id: int, settings: PrintSettings) -> PrintResult:
    rt = runtime()
    assert settings.spec is not None
    with rt.db.reads() as session:
        slip = ticket_slip(
            session,
            ticket_id,
            rt.clock(),
            base_url=notify.base_url(),
            footer=ticket_footer(current_app.config),
            site_id=device.site_id,
        )
    try:
        with printer_lock(settings.spec.url):
            print_ticket(slip, settings.spec, settings.paper)
    except PrinterUnavailable as err:
        failure: PrintError | None = err
    else:
        failure = None
    with rt.db.writes() as session:
        job = jobs.create_job(
            session,
            site_id=device.site_id,
            ticket_id=ticket_id,
            device_id=device.id,
            now=rt.clock(),
            status=jobs.FAILED if failure else jobs.PRINTED,
            error=jobs.error_record(failure.code, failure.message) if failure else None,
        )
        session.commit()
    if failure is not None:
        return _failed(device, ticket_id, "server", failure.code, failure.message, job.id)
    return PrintResult("server", "printed", job.id)


def _queue_for_agent(device: _Device, ticket_id: int, settings: PrintSettings) -> PrintResult:
    rt = runtime()
    with rt.db.writes() as session:
        now = rt.clock()
        job = jobs.create_job(
            session,
            site_id=device.site_id,
            ticket_id=ticket_id,
            device_id=device.id,
            now=now,
        )
        message = jobs.job_message(
            session,
            job,
            now=now,
            base_url=notify.base_url(),
            footer=ticket_footer(current_app.config),
            paper=settings.paper,
        )
        session.commit()
    # Not connected now? The job is stored: the agent gets it when it connects.
    notify.send_job(device.id, message)
    return PrintResult("agent", "queued", message["job_id"], None, QUEUED_TEXT)


def print_issued_ticket(principal: Principal, ticket_id: int) -> PrintResult:
    """Print a ticket just issued on this kiosk, where the kiosk's settings say.

    Never raises for a printing problem: the ticket stays issued and waiting,
    and the result says what the screen should tell the citizen.
    """
    try:
        device = _device(principal, ticket_id)
    except Exception:
        log.exception("print settings of device %s could not be read", principal.token_id)
        return PrintResult("none", "failed", None, PRINT_ERROR, screen_text(PRINT_ERROR))
    try:
        settings = print_settings(device.settings)
    except PrintError as err:
        return _failed(device, ticket_id, "none", err.code, err.message)
    if device.number is None:
        log.error("device %s asked to print ticket %s of another site", device.id, ticket_id)
        code = "ticket_not_found"
        return PrintResult(settings.placement, "failed", None, code, screen_text(code))
    try:
        if settings.placement == "server":
            return _print_on_server(device, ticket_id, settings)
        if settings.placement == "agent":
            return _queue_for_agent(device, ticket_id, settings)
    except QueueError as err:
        return _failed(device, ticket_id, settings.placement, err.code, error_text(err.code))
    except Exception:
        log.exception("printing ticket %s for device %s failed", ticket_id, device.id)
        return _failed(device, ticket_id, settings.placement, PRINT_ERROR, None)
    if settings.placement == "browser":
        return PrintResult("browser", "browser")
    return PrintResult("none", "skipped", None, None, NO_PRINTER_TEXT)
