"""The kiosk agent: prints the kiosk's tickets on the USB printer beside it.

It runs on the kiosk PC, keeps a Socket.IO connection to the server with the
kiosk's token (reconnecting forever, with backoff), and for each ``print.job``
renders the slip for its paper, prints it, and answers ``print.ack``.

Exactly once, across dropped connections:

- the server keeps a job ``pending`` until an acknowledgement reaches it, and
  sends every pending job again when the agent connects: a job sent while the
  agent was away, or whose acknowledgement was lost, is not lost;
- the agent writes the job's id to its journal (``kiosk.journal``) once the
  printer took the ticket and before acknowledging: a job sent again that is
  in the journal is only acknowledged again, not printed again;
- jobs are printed one at a time by one worker, and a job already waiting or
  printing is not queued twice.

The one window left: the agent process dies after the printer took the bytes
and before the journal reached the disk (a few milliseconds); that ticket is
printed again after the restart, which loses nothing.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import socketio

from .errors import PrinterUnavailable
from .job_messages import MAX_ERROR, valid_id
from .journal import Journal
from .layout import PAPERS
from .printer_url import PrinterSpec
from .printing import PrintOutcome, print_ticket
from .slip_data import slip_from_data
from .ticket import TicketSlip

log = logging.getLogger(__name__)

PrintFn = Callable[[TicketSlip, PrinterSpec, int], PrintOutcome]
FIRST_DELAY_S = 1.0
CONNECT_TIMEOUT_S = 10.0
DEFAULT_PAPER = 80


class KioskAgent:
    """One kiosk's printer, fed by the server. ``run()`` blocks until ``stop()``."""

    def __init__(
        self,
        server_url: str,
        token: str,
        printer: PrinterSpec,
        journal: Journal,
        *,
        paper: int | None = None,
        print_fn: PrintFn = print_ticket,
        reconnect_max: float = 30.0,
        sync_interval: float = 60.0,
    ) -> None:
        self.server_url = server_url
        self.token = token
        self.printer = printer
        self.journal = journal
        self.paper = paper
        self.print_fn = print_fn
        self.reconnect_max = reconnect_max
        self.sync_interval = sync_interval
        # What happened, for logs and tests: printed, unknown, reacknowledged, failed, ignored.
        self.stats: Counter[str] = Counter()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._handshake = threading.Event()  # a connection is being made
        self._jobs: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._queued: set[int] = set()
        self._queued_lock = threading.Lock()
        self._emit_lock = threading.Lock()
        # Reconnection is this class's own loop (below), so one backoff covers
        # a server that is down at start, one that went away, and a refused token.
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("connect_error", self._on_connect_error)
        self.sio.on("print.job", self._on_job)

    # --- connection -------------------------------------------------------------

    def run(self) -> None:
        """Connect, stay connected, print; returns after ``stop()``."""
        worker = threading.Thread(target=self._work, name="print-worker", daemon=True)
        worker.start()
        delay = FIRST_DELAY_S
        try:
            while not self._stop.is_set():
                self._handshake.set()
                try:
                    self.sio.connect(
                        self.server_url,
                        auth={"token": self.token},
                        wait_timeout=CONNECT_TIMEOUT_S,
                    )
                except socketio.exceptions.ConnectionError as err:
                    wait = delay * random.uniform(0.75, 1.25)
                    log.warning(
                        "cannot reach %s (%s); next try in %.1f s", self.server_url, err, wait
                    )
                    self._stop.wait(wait)
                    delay = min(delay * 2, self.reconnect_max)
                    continue
                finally:
                    self._handshake.clear()
                delay = FIRST_DELAY_S
                self.sio.wait()  # until the connection ends
        finally:
            self._jobs.put(None)
            worker.join(timeout=30)

    def stop(self) -> None:
        """Leave: finish the job in hand, disconnect, return from ``run()``."""
        self._stop.set()
        try:
            self.sio.disconnect()
        except Exception as err:  # not connected, or the connection is already gone
            log.debug("disconnect: %s", err)

    def _on_connect(self) -> None:
        self.connected.set()
        log.info("connected to %s; waiting for print jobs", self.server_url)

    def _on_disconnect(self, reason: Any = None) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("connection to %s lost (%s); reconnecting", self.server_url, reason)

    def _on_connect_error(self, data: Any = None) -> None:
        reason = data.get("data") if isinstance(data, dict) else None
        if isinstance(reason, dict) and reason.get("code"):  # the server said no (the token?)
            log.error("the server refused this kiosk: %s (%s)", data.get("message"), reason["code"])
        else:
            log.debug("connection failed: %s", data)

    # --- jobs -------------------------------------------------------------------

    def _on_job(self, data: Any = None) -> None:
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not valid_id(job_id):
            self.stats["ignored"] += 1
            log.warning("ignored a print.job message without a valid job id: %.200r", data)
            return
        log.debug("print job %s received", job_id)
        with self._queued_lock:
            if job_id in self._queued:  # sent again while still waiting or printing
                return
            self._queued.add(job_id)
        self._jobs.put(data)

    def _work(self) -> None:
        while True:
            try:
                data = self._jobs.get(timeout=self.sync_interval)
            except queue.Empty:
                self._emit("print.sync", {})
                continue
            if data is None:
                return
            try:
                self._handle(data)
            except Exception:  # a job must never stop the worker
                log.exception("print job %s failed unexpectedly", data.get("job_id"))
            finally:
                with self._queued_lock:
                    self._queued.discard(data["job_id"])

    def _job_paper(self, data: dict[str, Any]) -> int:
        if self.paper is not None:
            return self.paper
        paper = data.get("paper")
        return paper if type(paper) is int and paper in PAPERS else DEFAULT_PAPER

    def _handle(self, data: dict[str, Any]) -> None:
        job_id: int = data["job_id"]
        if job_id in self.journal:
            self.stats["reacknowledged"] += 1
            log.info("job %s was printed already; acknowledging it again", job_id)
            self._ack(job_id, True)
            return
        try:
            slip = slip_from_data(data.get("slip"))
        except ValueError as err:
            self.stats["failed"] += 1
            log.error("job %s cannot be read: %s", job_id, err)
            self._ack(job_id, False, "invalid_print_job")
            return
        log.info("printing job %s: ticket %s", job_id, slip.number)
        try:
            outcome = self.print_fn(slip, self.printer, self._job_paper(data))
        except PrinterUnavailable as err:
            self.stats["failed"] += 1
            log.warning("job %s (ticket %s) not printed: %s", job_id, slip.number, err.message)
            self._ack(job_id, False, err.code, err.message)
            return
        except Exception:  # a fault of this program, not the printer's: staff still hear of it
            self.stats["failed"] += 1
            log.exception("job %s (ticket %s) not printed", job_id, slip.number)
            self._ack(job_id, False, "print_error")
            return
        try:
            self.journal.record(job_id)
        except OSError as err:  # printed all the same: say so
            log.error("job %s printed but not written to the journal: %s", job_id, err)
        if outcome.paper_low:
            log.warning("the printer is running out of paper")
        if not outcome.printed:  # sent, never confirmed: said as it is, not as "printed"
            self.stats["unknown"] += 1
            log.warning("job %s sent, not confirmed by the printer (%s)", job_id, outcome.unknown)
            self._ack(job_id, True, outcome.unknown, confirmed=False)
            return
        self.stats["printed"] += 1
        log.info("job %s printed: ticket %s", job_id, slip.number)
        self._ack(job_id, True)

    def _ack(
        self,
        job_id: int,
        ok: bool,
        code: str | None = None,
        message: str | None = None,
        *,
        confirmed: bool = True,
    ) -> None:
        payload: dict[str, Any] = {"job_id": job_id, "ok": ok}
        if ok and not confirmed:
            payload["status"] = "unknown"
            if code:
                payload["error_code"] = code
        if not ok:
            payload["error_code"] = code
            if message:
                payload["message"] = message[:MAX_ERROR]
        reply = partial(self._on_ack_reply, job_id)
        if self._emit("print.ack", payload, reply):
            return
        if self._handshake_done() and self._emit("print.ack", payload, reply):
            return
        log.warning("job %s: acknowledgement not sent; the server sends the job again", job_id)

    def _handshake_done(self) -> bool:
        """Wait out a connection being made; True if it is made.

        The jobs a server sends on connect arrive before its "connected"
        (python-socketio sends what the connect handler emits first), and a job
        already in the journal is answered at once: too early to be sent.
        """
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while self._handshake.is_set() and not self.connected.is_set():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return self.connected.is_set()

    def _emit(self, name: str, payload: dict[str, Any], callback: Any = None) -> bool:
        try:
            with self._emit_lock:
                self.sio.emit(name, payload, callback=callback)
        except Exception as err:  # not connected now: nothing is lost, see the module's doc
            log.debug("%s not sent: %s", name, err)
            return False
        return True

    def _on_ack_reply(self, job_id: int, reply: Any = None) -> None:
        if isinstance(reply, dict) and reply.get("accepted"):
            log.debug("job %s recorded by the server as %s", job_id, reply.get("status"))
        else:
            log.warning("the server did not take the acknowledgement of job %s: %s", job_id, reply)
