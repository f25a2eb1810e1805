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
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from kiosk.device_settings import PrintSettings, print_settings
from kiosk.errors import PrintError, PrinterUnavailable
from kiosk.print_messages import NO_PRINTER_TEXT, QUEUED_TEXT, UNCONFIRMED_TEXT, screen_text
from kiosk.print_outcome import NO_ANSWER, PrintOutcome
from kiosk.settings import ticket_footer
from server.engine.errors import QueueError
from server.messages import error_text
from server.models import ApiToken, PrintJob, Site, Ticket
from server.runtime import runtime
from server.tokens import Principal

from . import jobs, notify
from .lookup import ticket_slip

log = logging.getLogger(__name__)

PRINT_ERROR = "print_error"  # anything unexpected: the ticket stands, staff are told
# How long a tap waits for its ticket on the server's printer before the kiosk says
# "being printed" (config PRINT_WAIT_S); the job is recorded when it ends all the same.
PRINT_WAIT_S = 1.5


@dataclass
class PrintResult:
    """What the kiosk screen says about the paper ticket.

    ``placement``: server, agent, browser, preview or none. ``status``: printed (by the
    server's printer, which confirmed it), unknown (sent to it, never confirmed;
    ``error_code`` says why), queued (for the agent, or the server's printer is
    still at it), browser (the page prints it), preview (the page shows it, nothing
    is printed), skipped (this kiosk prints nothing) or failed (``error_code`` says why).
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


def _device(principal: Principal, ticket_id: int, number: str | None = None) -> _Device:
    if number is not None and principal.device_settings is not None:
        # The ticket this kiosk just issued on its own site; the token's row as resolved.
        return _Device(
            principal.token_id,
            principal.site_id,
            principal.device_label,
            principal.device_settings,
            principal.site_code,
            number,
        )
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


@dataclass
class _ServerJob:
    app: Any
    device: _Device
    ticket_id: int
    job_id: int
    slip: Any
    settings: PrintSettings
    result: PrintResult | None = None
    done: threading.Event = field(default_factory=threading.Event)


class PrinterLine:
    """The server's jobs for one printer, printed one after another by one worker.

    A tap waits for its own ticket at most ``PRINT_WAIT_S`` (the status query
    after a job can take ``STATUS_TIMEOUT_S``), and not at all while the printer
    is busy with another ticket: a printer that never answers must not make
    every citizen behind the first one wait. The job is recorded either way,
    as it ends: printed, unknown or failed (staff are told).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._jobs: queue.Queue[_ServerJob] = queue.Queue()
        self._busy = 0  # jobs taken and not yet done
        self._guard = threading.Lock()
        self._worker = threading.Thread(target=self._work, name=f"printer {url}", daemon=True)
        self._worker.start()

    def submit(self, job: _ServerJob, wait: float) -> PrintResult | None:
        """Queue ``job``; its result if it is over within ``wait`` seconds, else None."""
        with self._guard:
            idle = self._busy == 0
            self._busy += 1
        self._jobs.put(job)
        if idle and job.done.wait(wait):
            return job.result
        return None

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                with job.app.app_context():
                    job.result = _run_server_job(job)
            except Exception:  # a job must never stop the line
                log.exception("print job %s failed unexpectedly", job.job_id)
            finally:
                with self._guard:
                    self._busy -= 1
                job.done.set()


_lines: dict[str, PrinterLine] = {}


def printer_line(url: str) -> PrinterLine:
    with _locks_guard:
        line = _lines.get(url)
        if line is None:
            line = _lines[url] = PrinterLine(url)
        return line


def print_ticket(slip: Any, spec: Any, paper: Any) -> PrintOutcome:
    """Print on a printer the server drives (``kiosk.printing.print_ticket``)."""
    # Here, not at the top: python-escpos and its drivers (about 10 MiB) load on the
    # server's first print, not in every process at start-up.
    from kiosk.printing import print_ticket as send

    return send(slip, spec, paper)


def _run_server_job(job: _ServerJob) -> PrintResult:
    """Print one job on the server's printer and record how it ended."""
    rt = runtime()
    settings = job.settings
    assert settings.spec is not None
    failure: PrintError | None = None
    outcome = None
    try:
        with printer_lock(settings.spec.url):
            outcome = print_ticket(job.slip, settings.spec, settings.paper)
    except PrinterUnavailable as err:
        failure = err
    with rt.db.writes() as session:
        row = session.get(PrintJob, job.job_id)
        assert row is not None
        if failure is not None:
            jobs.mark_failed(row, failure.code, failure.message)
        elif outcome is not None and outcome.printed:
            jobs.mark_printed(row, rt.clock())
        else:
            jobs.mark_unknown(row, outcome.unknown if outcome else None)
        session.commit()
    if failure is not None:
        return _failed(
            job.device, job.ticket_id, "server", failure.code, failure.message, job.job_id
        )
    assert outcome is not None
    if outcome.printed:
        return PrintResult("server", "printed", job.job_id)
    if outcome.unknown == NO_ANSWER:  # it should have answered: staff look at it
        _failed(job.device, job.ticket_id, "server", NO_ANSWER, None, job.job_id)
    return PrintResult("server", "unknown", job.job_id, outcome.unknown, UNCONFIRMED_TEXT)


def _print_on_server(device: _Device, ticket_id: int, settings: PrintSettings) -> PrintResult:
    rt = runtime()
    assert settings.spec is not None
    with rt.db.writes() as session:
        slip = ticket_slip(
            session,
            ticket_id,
            rt.clock(),
            base_url=notify.base_url(),
            footer=ticket_footer(current_app.config),
            site_id=device.site_id,
        )
        job_id = jobs.create_job(
            session,
            site_id=device.site_id,
            ticket_id=ticket_id,
            device_id=device.id,
            now=rt.clock(),
        ).id
        session.commit()
    job = _ServerJob(current_app._get_current_object(), device, ticket_id, job_id, slip, settings)
    wait = float(current_app.config.get("PRINT_WAIT_S", PRINT_WAIT_S))
    result = printer_line(settings.spec.url).submit(job, wait)
    return result or PrintResult("server", "queued", job_id, None, QUEUED_TEXT)


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


def print_issued_ticket(
    principal: Principal, ticket_id: int, number: str | None = None
) -> PrintResult:
    """Print a ticket just issued on this kiosk, where the kiosk's settings say.

    ``number``: the ticket's number, given by the issuing request (nothing to read again).
    Never raises for a printing problem: the ticket stays issued and waiting,
    and the result says what the screen should tell the citizen.
    """
    try:
        device = _device(principal, ticket_id, number)
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
    if settings.placement in ("browser", "preview"):  # the kiosk page prints or shows it
        return PrintResult(settings.placement, settings.placement)
    return PrintResult("none", "skipped", None, None, NO_PRINTER_TEXT)
