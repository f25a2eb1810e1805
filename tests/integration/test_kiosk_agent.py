"""The kiosk agent against a real `xephang serve`: no job lost, none printed twice.

The server is killed and started again on the same port to drop the
connection; the printer is a FIFO read by the test (``file://``, like
/dev/usb/lp0), so every ticket that reached it is counted from the ESC/POS
bytes. The agent runs as `xephang kiosk-agent` or, where a test must step in
between printing and acknowledging, in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from click.testing import CliRunner

from kiosk.agent import KioskAgent
from kiosk.journal import Journal, journal_path
from kiosk.printer_url import parse_printer_url
from kiosk.printing import PrintOutcome, print_ticket
from kiosk.slip_data import slip_from_data, slip_to_data
from kiosk.ticket import TicketSlip
from server import engine
from server.cli import cli
from server.db import Database
from server.engine import UnitOfWork
from server.kiosk_pages.jobs import create_job
from server.models import PrintJob
from server.timeutil import utcnow
from server.tokens import resolve_token

from ..live import XEPHANG, Install, Server, free_port, wait_until
from ..print_support import FifoPrinter
from ..ticket_fixtures import SAMPLE

# --- a server that can be killed and started again on its port --------------------------


class PortServer(Server):
    """`xephang serve` on a port chosen by the test, so a restart keeps the agent's URL."""

    def __init__(self, inst: Install, name: str, port: int) -> None:
        self.name = name
        self.log_path = inst.workdir / f"serve-{name}.log"
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [XEPHANG, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=inst.env,
            cwd=inst.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """Gone at once, as in a power cut: no goodbye to any client."""
        self.proc.kill()
        self.proc.wait(timeout=15)
        self._log.close()


class Center:
    """One installation (SQLite) with the demo site and a kiosk printing through its agent."""

    def __init__(self, inst: Install) -> None:
        self.inst = inst
        self.db = Database(inst.database_url)
        self.port = free_port()
        self.servers: list[PortServer] = []
        self.token = self._token("kiosk", "--printer", "agent", "--paper", "58", "--label", "Sảnh")
        with self.db.reads() as session:
            principal = resolve_token(session, self.token)
            assert principal is not None
            self.device_id, self.site_id = principal.token_id, principal.site_id

    def _token(self, role: str, *options: str) -> str:
        out = self.inst.run("token", "create", "--site", "demo", "--role", role, *options)
        return out.strip().splitlines()[-1]

    def staff_token(self) -> str:
        return self._token("clerk", "--counter", "1")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PortServer:
        for attempt in range(20):  # the killed server's port may take a moment to be free
            server = PortServer(self.inst, f"{len(self.servers)}-{attempt}", self.port)
            self.servers.append(server)
            if server.wait_ready():
                return server
            time.sleep(0.5)
        pytest.fail(f"port {self.port} stayed busy")

    def new_job(self) -> int:
        """Issue a ticket and queue it for the kiosk's agent, straight in the database.

        Works while the server is down, like a job stored just before the outage.
        """
        issued = engine.issue_ticket(UnitOfWork(self.db.writes), "demo", "HT")
        with self.db.writes() as session:
            job = create_job(
                session,
                site_id=self.site_id,
                ticket_id=issued.ticket["id"],
                device_id=self.device_id,
                now=utcnow(),
            )
            session.commit()
            return job.id

    def job(self, job_id: int) -> PrintJob:
        with self.db.reads() as session:
            job = session.get(PrintJob, job_id)
            assert job is not None
            return job

    def status(self, job_id: int) -> str:
        return self.job(job_id).status

    def close(self) -> None:
        for server in self.servers:
            if server.proc.poll() is None:
                server.stop()
            elif not server._log.closed:
                server._log.close()
        self.db.dispose()


@pytest.fixture
def center(tmp_path: Path) -> Iterator[Center]:
    inst = Install(
        database_url=f"sqlite:///{tmp_path / 'xephang.sqlite3'}",
        redis_url=None,
        channel=f"xephang-test-{uuid.uuid4().hex}",
        workdir=tmp_path,
    )
    inst.run("init", "--demo")
    center = Center(inst)
    yield center
    center.close()


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[FifoPrinter]:
    fifo = FifoPrinter(tmp_path / "lp0")
    yield fifo
    fifo.close()


@pytest.fixture
def run_agent() -> Iterator[Callable[[KioskAgent], KioskAgent]]:
    """Run agents in this process; each is stopped at the end."""
    running: list[tuple[KioskAgent, threading.Thread]] = []

    def _run(agent: KioskAgent) -> KioskAgent:
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        running.append((agent, thread))
        return agent

    yield _run
    for agent, thread in running:
        agent.stop()
        thread.join(timeout=30)


class AgentProcess:
    """`xephang kiosk-agent` as the kiosk PC runs it (the token in the environment)."""

    def __init__(self, center: Center, printer_url: str, state_dir: Path, name: str) -> None:
        self.log_path = center.inst.workdir / f"agent-{name}.log"
        self._log = self.log_path.open("w")
        env = {**center.inst.env, "XEPHANG_AGENT_TOKEN": center.token}
        self.proc = subprocess.Popen(
            [
                XEPHANG,
                "kiosk-agent",
                "--server",
                center.url,
                "--printer",
                printer_url,
                "--state-dir",
                str(state_dir),
                "--reconnect-max",
                "1",
                "--sync-interval",
                "1",
            ],
            env=env,
            cwd=center.inst.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def agent_processes() -> Iterator[list[AgentProcess]]:
    processes: list[AgentProcess] = []
    yield processes
    for process in processes:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait(timeout=15)


def printed(center: Center, *job_ids: int) -> Callable[[], bool]:
    # A FIFO cannot answer a status query: its jobs end "unknown" (sent, not confirmed).
    return lambda: all(center.status(job_id) in ("printed", "unknown") for job_id in job_ids)


# --- end to end ---------------------------------------------------------------------------


def test_the_agent_prints_each_job_once_across_a_server_restart(
    center: Center, printer: FifoPrinter, tmp_path: Path, agent_processes: list[AgentProcess]
) -> None:
    server = center.start()
    waiting = [center.new_job(), center.new_job()]  # stored before the agent connects
    agent = AgentProcess(center, printer.url, tmp_path / "state", "one")
    agent_processes.append(agent)

    wait_until("the waiting jobs to be printed", printed(center, *waiting))
    assert printer.tickets() == 2
    assert {raster.width for raster in printer.printout().rasters} == {384}  # the kiosk's 58 mm

    server.kill()  # the connection drops; a ticket is issued meanwhile
    during = center.new_job()
    center.start()
    wait_until("the job of the outage to be printed", printed(center, during))
    time.sleep(3)  # a few of the agent's syncs: nothing comes again
    assert printer.tickets() == 3
    assert [center.job(j).attempts for j in [*waiting, during]] == [1, 1, 1]

    journal = json.loads(journal_path(tmp_path / "state", center.token).read_text())
    assert sorted(int(job_id) for job_id in journal["printed"]) == sorted([*waiting, during])
    assert agent.stop() == 0, agent.log()
    assert "connection to" in agent.log()  # it noticed the drop and came back


def test_a_lost_acknowledgement_does_not_print_the_ticket_twice(
    center: Center,
    printer: FifoPrinter,
    tmp_path: Path,
    run_agent: Callable[[KioskAgent], KioskAgent],
) -> None:
    server = center.start()
    job_id = center.new_job()
    dropped = threading.Event()

    def print_then_drop(slip: TicketSlip, spec: Any, paper: int) -> PrintOutcome:
        outcome = print_ticket(slip, spec, paper)
        if not dropped.is_set():  # the ticket is out; the server dies before the ack
            dropped.set()
            server.kill()
            wait_until("the agent to see the drop", lambda: not agent.connected.is_set())
        return outcome

    agent = KioskAgent(
        center.url,
        center.token,
        parse_printer_url(printer.url),
        Journal(journal_path(tmp_path / "state", center.token)),
        print_fn=print_then_drop,
        reconnect_max=1,
        sync_interval=0.5,
    )
    run_agent(agent)
    wait_until("the ticket to be printed", dropped.is_set)
    wait_until("the ticket to reach the printer", lambda: printer.tickets() == 1)
    assert center.status(job_id) == "pending"  # the server never heard of it

    center.start()
    wait_until("the job to be acknowledged again", printed(center, job_id))
    time.sleep(1.5)
    assert printer.tickets() == 1
    assert agent.stats["printed"] + agent.stats["unknown"] == 1
    assert agent.stats["reacknowledged"] >= 1
    assert center.job(job_id).attempts == 1


def test_a_job_the_agent_never_finished_is_sent_again_and_printed_once(
    center: Center, tmp_path: Path, agent_processes: list[AgentProcess]
) -> None:
    stuck = FifoPrinter(tmp_path / "lp0", start=False)  # opening it waits: a printer that hangs
    try:
        center.start()
        job_id = center.new_job()
        first = AgentProcess(center, stuck.url, tmp_path / "state", "first")
        agent_processes.append(first)
        wait_until("the agent to take the job", lambda: f"printing job {job_id}" in first.log())
        first.proc.kill()  # gone before printing or acknowledging anything
        first.proc.wait(timeout=15)
        assert center.status(job_id) == "pending"

        stuck.start()  # the printer is fine again
        second = AgentProcess(center, stuck.url, tmp_path / "state", "second")
        agent_processes.append(second)
        wait_until("the job to be printed", printed(center, job_id))
        time.sleep(2)
        assert stuck.tickets() == 1
        assert second.stop() == 0
    finally:
        stuck.close()


def test_a_printer_failure_at_the_kiosk_reaches_staff(
    center: Center, tmp_path: Path, run_agent: Callable[[KioskAgent], KioskAgent]
) -> None:
    center.start()
    events: list[dict[str, Any]] = []
    staff = socketio.Client()
    staff.on("printer.failed", events.append)
    staff.connect(center.url, auth={"token": center.staff_token()}, wait_timeout=10)
    try:
        job_id = center.new_job()
        unplugged = parse_printer_url(f"file://{tmp_path}/no-such-dir/lp0")
        journal = Journal(journal_path(tmp_path / "state", center.token))
        agent = run_agent(KioskAgent(center.url, center.token, unplugged, journal))
        wait_until("the failure to be recorded", lambda: center.status(job_id) == "failed")
        wait_until("staff to hear of it", lambda: events)
    finally:
        staff.disconnect()
    [event] = events
    assert (event["job_id"], event["placement"], event["error_code"]) == (
        job_id,
        "agent",
        "printer_offline",
    )
    assert "Sảnh" in event["message"] and "seq" not in event
    assert center.job(job_id).last_error.startswith("printer_offline: ")  # type: ignore[union-attr]
    assert agent.stats["failed"] == 1 and len(journal) == 0


# --- the agent's parts --------------------------------------------------------------------


def test_the_slip_travels_as_json_and_back() -> None:
    data = json.loads(json.dumps(slip_to_data(SAMPLE)))
    assert slip_from_data(data) == SAMPLE


@pytest.mark.parametrize(
    "change",
    [
        {"number": ""},
        {"number": 7},
        {"issued_at": "2026-11-23T09:05:00"},  # no offset
        {"issued_at": "yesterday"},
        {"timezone": "Mars/Olympus"},
        {"people_ahead": "3"},
        {"people_ahead": -1},
        {"header_lines": "UBND"},
        {"footer": [1, 2]},
        {"tracking_url": ["x"]},
    ],
)
def test_a_bad_slip_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        slip_from_data({**slip_to_data(SAMPLE), **change})


def test_the_journal_survives_a_restart_and_stays_small(tmp_path: Path) -> None:
    path = journal_path(tmp_path / "state", "xph_token")
    assert path != journal_path(tmp_path / "state", "xph_other")
    journal = Journal(path, keep=3)
    for job_id in (5, 1, 9, 7):
        journal.record(job_id)
    reopened = Journal(path, keep=3)
    assert [job_id in reopened for job_id in (1, 5, 7, 9)] == [False, True, True, True]
    assert sorted(os.listdir(path.parent)) == [path.name]  # no temporary file left behind


def test_an_unreadable_journal_is_set_aside(tmp_path: Path) -> None:
    path = journal_path(tmp_path, "xph_token")
    path.write_text("{not json")
    journal = Journal(path)
    assert len(journal) == 0
    journal.record(3)
    assert 3 in Journal(path)
    assert any(name.startswith(path.name + ".corrupt-") for name in os.listdir(tmp_path))


class Recorder(KioskAgent):
    """An agent whose messages to the server are recorded instead of sent."""

    def __init__(self, tmp_path: Path, print_fn: Any) -> None:
        super().__init__(
            "http://127.0.0.1:9",
            "xph_test",
            parse_printer_url("file:///dev/null"),
            Journal(tmp_path / "journal.json"),
            print_fn=print_fn,
        )
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def _emit(self, name: str, payload: dict[str, Any], callback: Any = None) -> bool:
        self.sent.append((name, payload))
        return True


def test_the_agent_checks_what_it_is_sent(tmp_path: Path) -> None:
    prints: list[int] = []

    def fake_print(slip: TicketSlip, spec: Any, paper: int) -> PrintOutcome:
        prints.append(paper)
        return PrintOutcome(spec.url, spec.kind, printed=True)

    agent = Recorder(tmp_path, fake_print)
    for bad in (None, "job", [1], {}, {"job_id": "1"}, {"job_id": True}, {"job_id": -4}):
        agent._on_job(bad)
    assert agent._jobs.empty() and agent.stats["ignored"] == 7

    agent._handle({"job_id": 1, "slip": {"number": 1}})
    assert agent.sent[-1] == (
        "print.ack",
        {"job_id": 1, "ok": False, "error_code": "invalid_print_job"},
    )

    good = {"job_id": 2, "paper": 58, "slip": slip_to_data(SAMPLE)}
    agent._handle(good)
    agent._handle(good)  # sent again: acknowledged again, not printed again
    assert prints == [58]
    assert agent.sent[-2:] == [("print.ack", {"job_id": 2, "ok": True})] * 2
    agent._handle({**good, "job_id": 3, "paper": 57})  # an unknown paper falls back to 80
    assert prints == [58, 80]


def test_a_fault_while_printing_is_reported_as_a_failure(tmp_path: Path) -> None:
    def broken(slip: TicketSlip, spec: Any, paper: int) -> PrintOutcome:
        raise RuntimeError("a bug")

    agent = Recorder(tmp_path, broken)
    agent._handle({"job_id": 4, "slip": slip_to_data(SAMPLE)})
    assert agent.sent == [("print.ack", {"job_id": 4, "ok": False, "error_code": "print_error"})]
    assert 4 not in agent.journal and agent.stats["failed"] == 1


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--server", "127.0.0.1:8080", "--printer", "usb://04b8:0202"], "http://"),
        (["--server", "http://s:8080", "--printer", "usb://zz"], "usb://VID:PID"),
        (["--server", "http://s:8080", "--printer", "browser"], "máy in thật"),
    ],
)
def test_kiosk_agent_refuses_bad_options(options: list[str], words: str, tmp_path: Path) -> None:
    args = ["kiosk-agent", "--token", "xph_x", "--state-dir", str(tmp_path), *options]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert words in result.output
