"""Printing a ticket the kiosk just issued, in each placement, and the print jobs' Socket.IO side.

In one process with Flask-SocketIO's test client, on SQLite and PostgreSQL:
the server's own printer (a file, a network printer that is off), the kiosk
agent's jobs (created, pushed, sent again on connect, acknowledged), the
browser and no printer, bad settings; and the `token create` and `print-jobs`
commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask_socketio import SocketIOTestClient
from sqlalchemy import select

from kiosk.slip_data import slip_from_data
from server import engine
from server.cli import cli
from server.db import Database
from server.kiosk_pages.dispatch import PrintResult, print_issued_ticket
from server.models import ApiToken, PrintJob, Ticket
from server.runtime import runtime
from server.tokens import Principal, create_token, resolve_token

from ..factories import FakeClock, app_on, snapshot
from ..live import wait_until
from ..print_support import PAPER_OK, PAPER_OUT, DeafPrinter, NetworkPrinter, closed_port
from ..sockets import received, socket_clients
from ..ticket_fixtures import read_qr

PUBLIC = "https://xephang.example.vn"


# --- fixtures and helpers ---------------------------------------------------------


@pytest.fixture
def app(db_url: str, clock: FakeClock) -> Iterator[Flask]:
    with app_on(db_url, clock, sites=("s1", "s2"), PUBLIC_URL=PUBLIC) as app:
        yield app


class Kiosk:
    """A kiosk device: its token, its principal, and the settings stored with it."""

    def __init__(self, app: Flask, settings: Any, site: str = "s1", label: str = "Sảnh") -> None:
        self.app = app
        with runtime(app).db.writes() as session:
            self.token = create_token(session, site, "kiosk", label=label)
            principal = resolve_token(session, self.token)
            assert principal is not None
            self.principal: Principal = principal
            row = session.get(ApiToken, principal.token_id)
            assert row is not None
            row.settings = settings  # stored as is: bad settings too
            session.commit()

    @property
    def id(self) -> int:
        return self.principal.token_id

    def issue(self, service: str = "A") -> dict[str, Any]:
        ticket: dict[str, Any] = engine.issue_ticket(
            runtime(self.app).uow(), self.principal.site_code, service
        ).ticket
        return ticket

    def print(self, ticket_id: int) -> PrintResult:
        with self.app.test_request_context("/kiosk/"):
            return print_issued_ticket(self.principal, ticket_id)


@pytest.fixture
def connect(app: Flask) -> Iterator[Callable[[str], SocketIOTestClient]]:
    with socket_clients(app) as open_client:

        def _connect(token: str) -> SocketIOTestClient:
            client = open_client({"token": token})
            assert client.is_connected()
            return client

        yield _connect


@pytest.fixture
def staff(app: Flask, connect: Callable[[str], SocketIOTestClient]) -> SocketIOTestClient:
    """A clerk's connection to site s1, its snapshot already read."""
    with runtime(app).db.writes() as session:
        client = connect(create_token(session, "s1", "clerk", 1))
    client.get_received()
    return client


def jobs_of(app: Flask) -> list[PrintJob]:
    with runtime(app).db.reads() as session:
        return list(session.execute(select(PrintJob).order_by(PrintJob.id)).scalars())


def ticket_status(app: Flask, ticket_id: int) -> str:
    with runtime(app).db.reads() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.status


def is_vietnamese(text: str | None) -> bool:
    return bool(text) and any(ord(ch) > 127 for ch in text or "")


# --- browser, none --------------------------------------------------------------


def test_without_settings_the_page_prints_through_the_browser(app: Flask) -> None:
    kiosk = Kiosk(app, {})
    ticket = kiosk.issue()
    assert kiosk.print(ticket["id"]) == PrintResult("browser", "browser", None, None, None)
    assert jobs_of(app) == []


def test_a_kiosk_without_printer_prints_nothing_and_says_so(app: Flask) -> None:
    kiosk = Kiosk(app, {"printer": "none"})
    result = kiosk.print(kiosk.issue()["id"])
    assert (result.placement, result.status, result.job_id, result.error_code) == (
        "none",
        "skipped",
        None,
        None,
    )
    assert is_vietnamese(result.message)
    assert jobs_of(app) == []


# --- the server's own printer -------------------------------------------------------


@pytest.mark.parametrize(("paper", "dots"), [(58, 384), (80, 576)])
def test_the_server_prints_on_a_printer_url(
    app: Flask, staff: SocketIOTestClient, paper: int, dots: int
) -> None:
    printer = NetworkPrinter()
    try:
        kiosk = Kiosk(app, {"printer": printer.url, "paper": paper})
        ticket = kiosk.issue()
        result = kiosk.print(ticket["id"])
    finally:
        printer.close()
    assert (result.placement, result.status, result.error_code) == ("server", "printed", None)
    printout = printer.printout()
    assert printout.commands.count("cut") == 1
    assert printout.image.width == dots
    assert read_qr(printout.image) == [f"{PUBLIC}/t/{ticket['tracking_token']}"]
    [job] = jobs_of(app)
    assert (job.id, job.status, job.attempts, job.device_id) == (
        result.job_id,
        "printed",
        1,
        kiosk.id,
    )
    assert job.printed_at is not None
    assert received(staff, "printer.failed") == []


def test_an_offline_printer_keeps_the_ticket_and_tells_staff(
    app: Flask, staff: SocketIOTestClient, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk = Kiosk(app, {"printer": f"tcp://127.0.0.1:{closed_port()}?timeout=2"}, label="Sảnh A")
    ticket = kiosk.issue()
    result = kiosk.print(ticket["id"])

    assert (result.placement, result.status, result.error_code) == (
        "server",
        "failed",
        "printer_offline",
    )
    assert is_vietnamese(result.message) and "vẫn được giữ" in (result.message or "")
    assert ticket_status(app, ticket["id"]) == "waiting"
    [job] = jobs_of(app)
    assert (job.id, job.status, job.attempts) == (result.job_id, "failed", 1)
    assert job.last_error and job.last_error.startswith("printer_offline")
    [(_, event)] = received(staff, "printer.failed")
    assert event["site"] == "s1" and "seq" not in event
    assert (event["device_id"], event["device_label"], event["placement"]) == (
        kiosk.id,
        "Sảnh A",
        "server",
    )
    assert (event["ticket_id"], event["number"], event["job_id"]) == (
        ticket["id"],
        ticket["number"],
        job.id,
    )
    assert event["error_code"] == "printer_offline"
    assert ticket["number"] in event["message"] and "Sảnh A" in event["message"]
    assert any("not printed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"printer": "lpt://1"}, "invalid_printer_url"),
        ({"printer": "tcp://"}, "invalid_printer_url"),
        ({"printer": 9100}, "invalid_device_settings"),
        ({"printer": ""}, "invalid_device_settings"),
        ({"printer": "browser", "paper": 57}, "invalid_device_settings"),
        ({"printer": "browser", "paper": True}, "invalid_device_settings"),
        (["agent"], "invalid_device_settings"),
        ("usb://04b8:0202", "invalid_device_settings"),
    ],
)
def test_bad_settings_are_reported_not_crashed_on(
    app: Flask, staff: SocketIOTestClient, settings: Any, code: str
) -> None:
    kiosk = Kiosk(app, settings)
    ticket = kiosk.issue()
    result = kiosk.print(ticket["id"])
    assert (result.status, result.error_code, result.job_id) == ("failed", code, None)
    assert is_vietnamese(result.message)
    assert ticket_status(app, ticket["id"]) == "waiting"
    assert jobs_of(app) == []
    [(_, event)] = received(staff, "printer.failed")
    assert event["error_code"] == code and is_vietnamese(event["message"])


def test_a_ticket_of_another_site_is_not_printed(app: Flask) -> None:
    other = Kiosk(app, {"printer": "agent"}, site="s2").issue()
    result = Kiosk(app, {"printer": "agent"}).print(other["id"])
    assert (result.status, result.error_code) == ("failed", "ticket_not_found")
    assert jobs_of(app) == []


# --- the kiosk agent's jobs ---------------------------------------------------------


def test_a_job_is_stored_and_pushed_to_the_connected_agent(
    app: Flask, connect: Callable[[str], SocketIOTestClient]
) -> None:
    kiosk = Kiosk(app, {"printer": "agent", "paper": 58})
    agent = connect(kiosk.token)
    assert [name for name, _ in received(agent)] == ["state"]
    ticket = kiosk.issue()
    result = kiosk.print(ticket["id"])

    assert (result.placement, result.status, result.error_code) == ("agent", "queued", None)
    assert is_vietnamese(result.message)
    [job] = jobs_of(app)
    assert (job.id, job.status, job.attempts, job.ticket_id) == (
        result.job_id,
        "pending",
        0,
        ticket["id"],
    )
    [(_, message)] = received(agent, "print.job")
    assert (message["job_id"], message["ticket_id"], message["number"], message["paper"]) == (
        job.id,
        ticket["id"],
        ticket["number"],
        58,
    )
    slip = slip_from_data(message["slip"])
    assert slip.number == ticket["number"]
    assert slip.tracking_url == f"{PUBLIC}/t/{ticket['tracking_token']}"


def test_pending_jobs_are_sent_when_the_agent_connects(
    app: Flask, connect: Callable[[str], SocketIOTestClient]
) -> None:
    kiosk = Kiosk(app, {"printer": "agent"})
    first, second = (kiosk.print(kiosk.issue()["id"]).job_id for _ in range(2))
    other = Kiosk(app, {"printer": "agent"})
    other.print(other.issue()["id"])

    agent = connect(kiosk.token)
    messages = received(agent)
    assert [name for name, _ in messages] == ["state", "print.job", "print.job"]
    assert [payload["job_id"] for _, payload in messages[1:]] == [first, second]
    # Asked again (the agent's periodic check), the same jobs come again.
    reply = agent.emit("print.sync", {}, callback=True)
    assert reply == {"accepted": True, "pending": 2}
    assert [p["job_id"] for _, p in received(agent, "print.job")] == [first, second]


def test_an_acknowledgement_marks_the_job_printed_once(
    app: Flask, connect: Callable[[str], SocketIOTestClient]
) -> None:
    kiosk = Kiosk(app, {"printer": "agent"})
    agent = connect(kiosk.token)
    job_id = kiosk.print(kiosk.issue()["id"]).job_id
    reply = agent.emit("print.ack", {"job_id": job_id, "ok": True}, callback=True)
    assert reply == {"accepted": True, "job_id": job_id, "status": "printed"}
    [job] = jobs_of(app)
    assert (job.status, job.attempts) == ("printed", 1)
    assert job.printed_at is not None

    # The same acknowledgement again (the first one's reply was lost) changes nothing.
    again = agent.emit("print.ack", {"job_id": job_id, "ok": True}, callback=True)
    assert again == reply
    assert [(j.status, j.attempts) for j in jobs_of(app)] == [("printed", 1)]
    # A printed job is not sent again.
    agent.disconnect()
    assert received(connect(kiosk.token), "print.job") == []


def test_a_failed_print_is_recorded_and_sent_to_staff(
    app: Flask, staff: SocketIOTestClient, connect: Callable[[str], SocketIOTestClient]
) -> None:
    kiosk = Kiosk(app, {"printer": "agent"}, label="Tầng 2")
    agent = connect(kiosk.token)
    ticket = kiosk.issue()
    job_id = kiosk.print(ticket["id"]).job_id
    ack = {
        "job_id": job_id,
        "ok": False,
        "error_code": "printer_out_of_paper",
        "message": "Máy in usb://04b8:0202 đã hết giấy.",
    }
    reply = agent.emit("print.ack", ack, callback=True)
    assert reply == {"accepted": True, "job_id": job_id, "status": "failed"}
    [job] = jobs_of(app)
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.last_error == "printer_out_of_paper: Máy in usb://04b8:0202 đã hết giấy."
    [(_, event)] = received(staff, "printer.failed")
    assert (event["placement"], event["error_code"], event["job_id"], event["number"]) == (
        "agent",
        "printer_out_of_paper",
        job_id,
        ticket["number"],
    )
    assert "hết giấy" in event["message"] and "Tầng 2" in event["message"]
    assert ticket_status(app, ticket["id"]) == "waiting"
    # A failed job is not sent again on its own: staff reprint it.
    agent.disconnect()
    assert received(connect(kiosk.token), "print.job") == []


def test_a_device_cannot_acknowledge_another_devices_job(
    app: Flask,
    database: Database,
    staff: SocketIOTestClient,
    connect: Callable[[str], SocketIOTestClient],
) -> None:
    owner = Kiosk(app, {"printer": "agent"})
    intruder = Kiosk(app, {"printer": "agent"})
    job_id = owner.print(owner.issue()["id"]).job_id
    client = connect(intruder.token)
    before = snapshot(database)
    for ok in (True, False):
        reply = client.emit("print.ack", {"job_id": job_id, "ok": ok}, callback=True)
        assert reply == {"accepted": False, "reason": "job_not_found"}
    reply = client.emit("print.ack", {"job_id": 999_999, "ok": True}, callback=True)
    assert reply == {"accepted": False, "reason": "job_not_found"}
    assert snapshot(database) == before
    assert received(staff, "printer.failed") == []
    # Only kiosks acknowledge jobs at all.
    reply = staff.emit("print.ack", {"job_id": job_id, "ok": True}, callback=True)
    assert reply == {"accepted": False, "reason": "not_a_kiosk"}
    assert snapshot(database) == before


@pytest.mark.parametrize(
    "message",
    [
        None,
        "42",
        [42, True],
        {"ok": True},
        {"job_id": "1", "ok": True},
        {"job_id": True, "ok": True},
        {"job_id": 1.0, "ok": True},
        {"job_id": 0, "ok": True},
        {"job_id": 2**40, "ok": True},
        {"job_id": 1, "ok": "yes"},
        {"job_id": 1},
        {"job_id": 1, "ok": False, "error_code": "DROP TABLE"},
        {"job_id": 1, "ok": False, "error_code": 7},
        {"job_id": 1, "ok": False, "error_code": "printer_offline", "message": "x" * 301},
    ],
)
def test_malformed_acknowledgements_change_nothing(
    app: Flask,
    database: Database,
    staff: SocketIOTestClient,
    connect: Callable[[str], SocketIOTestClient],
    message: Any,
) -> None:
    kiosk = Kiosk(app, {"printer": "agent"})
    kiosk.print(kiosk.issue()["id"])
    agent = connect(kiosk.token)
    before = snapshot(database)
    reply = agent.emit("print.ack", message, callback=True)
    assert reply == {"accepted": False, "reason": "invalid_message"}
    assert snapshot(database) == before
    assert received(staff, "printer.failed") == []


# --- the commands -------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("XEPHANG_DATABASE_URL", db_url)
    monkeypatch.setenv("XEPHANG_SECRET_KEY", "test-secret")
    monkeypatch.setenv("XEPHANG_PUBLIC_URL", PUBLIC)
    monkeypatch.delenv("XEPHANG_REDIS_URL", raising=False)
    monkeypatch.delenv("XEPHANG_TICKET_FOOTER", raising=False)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def stored_settings(database: Database, raw: str) -> dict[str, Any]:
    with database.reads() as session:
        principal = resolve_token(session, raw)
        assert principal is not None
        row = session.get(ApiToken, principal.token_id)
        assert row is not None
        return dict(row.settings)


def test_token_create_stores_a_kiosks_printer_and_paper(
    env: None, app: Flask, database: Database
) -> None:
    cases = [
        (["--printer", "agent", "--paper", "58"], {"printer": "agent", "paper": 58}),
        (["--printer", " tcp://10.0.0.5:9100 "], {"printer": "tcp://10.0.0.5:9100"}),
        (["--paper", "80"], {"paper": 80}),
        ([], {}),
    ]
    for options, settings in cases:
        result = run("token", "create", "--site", "s1", "--role", "kiosk", *options)
        assert result.exit_code == 0, result.output
        assert stored_settings(database, result.output.strip().splitlines()[-1]) == settings


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--role", "clerk", "--printer", "agent"], "kiosk"),
        (["--role", "kiosk", "--printer", "lpt://1"], "không hỗ trợ loại máy in"),
        (["--role", "kiosk", "--printer", "usb://zz"], "usb://VID:PID"),
    ],
)
def test_token_create_refuses_bad_printer_options(
    env: None, app: Flask, database: Database, options: list[str], words: str
) -> None:
    before = snapshot(database)
    result = run("token", "create", "--site", "s1", *options)
    assert result.exit_code == 2
    assert words in result.output
    assert snapshot(database) == before


def test_print_jobs_lists_and_retries_failed_jobs_once_the_printer_is_back(
    env: None, app: Flask, staff: SocketIOTestClient
) -> None:
    port = closed_port()
    kiosk = Kiosk(app, {"printer": f"tcp://127.0.0.1:{port}?timeout=5"}, label="Sảnh")
    ticket = kiosk.issue()
    failed = kiosk.print(ticket["id"])
    assert failed.status == "failed"
    agent_kiosk = Kiosk(app, {"printer": "agent"}, label="Tầng 2")
    queued = agent_kiosk.print(agent_kiosk.issue()["id"])

    listing = run("print-jobs", "--site", "s1")
    assert listing.exit_code == 0, listing.output
    assert f"#{failed.job_id}  phiếu {ticket['number']}" in listing.output
    assert "printer_offline" in listing.output and f"#{queued.job_id}" in listing.output
    only_failed = run("print-jobs", "--site", "s1", "--status", "failed")
    assert f"#{queued.job_id}" not in only_failed.output

    # Still off: the retry fails again and says so.
    again = run("print-jobs", "--site", "s1", "--retry")
    assert again.exit_code == 1, again.output
    assert [(j.status, j.attempts) for j in jobs_of(app)][0] == ("failed", 2)

    printer = NetworkPrinter(port)  # the printer is back
    try:
        retried = run("print-jobs", "--site", "s1", "--retry")
    finally:
        printer.close()
    assert retried.exit_code == 0, retried.output
    assert f"Đã in lại phiếu {ticket['number']}" in retried.output
    assert printer.tickets() == 1
    assert read_qr(printer.printout().image) == [f"{PUBLIC}/t/{ticket['tracking_token']}"]
    job = jobs_of(app)[0]
    assert (job.status, job.attempts) == ("printed", 3)
    assert run("print-jobs", "--site", "s1", "--retry").output.startswith("Không có lệnh in lỗi")


def test_print_jobs_sends_a_failed_agent_job_back_to_pending(
    env: None, app: Flask, connect: Callable[[str], SocketIOTestClient]
) -> None:
    kiosk = Kiosk(app, {"printer": "agent"})
    agent = connect(kiosk.token)
    job_id = kiosk.print(kiosk.issue()["id"]).job_id
    agent.emit("print.ack", {"job_id": job_id, "ok": False, "error_code": "printer_offline"})
    assert jobs_of(app)[0].status == "failed"

    result = run("print-jobs", "--site", "s1", "--retry")
    assert result.exit_code == 0, result.output
    assert jobs_of(app)[0].status == "pending"
    # Without Redis the command line cannot reach the agent: the agent's next sync does.
    received(agent)
    agent.emit("print.sync", {})
    assert [p["job_id"] for _, p in received(agent, "print.job")] == [job_id]


def test_print_jobs_needs_a_known_site(env: None, app: Flask) -> None:
    result = run("print-jobs", "--site", "nowhere")
    assert result.exit_code == 2
    assert "nowhere" in result.output


# --- a printer that never confirms (issue 9, item 16) -------------------------------------


def test_a_printer_that_never_reads_is_not_called_printed_and_taps_do_not_wait_behind_it(
    app: Flask, staff: SocketIOTestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It accepts the connection and reads nothing: the bytes sit in socket buffers."""
    from kiosk import printing

    monkeypatch.setattr(printing, "STATUS_TIMEOUT_S", 1.0)
    app.config["PRINT_WAIT_S"] = 0.05  # less than one status wait: the first tap is answered
    printer = DeafPrinter()
    try:
        kiosk = Kiosk(app, {"printer": printer.url}, label="Sảnh A")
        first, second = kiosk.issue(), kiosk.issue()
        one = kiosk.print(first["id"])
        # The printer is still at the first job (waiting for its answer): no wait at all.
        two = kiosk.print(second["id"])
        assert (one.status, two.status) == ("queued", "queued")
        assert one.job_id is not None and two.job_id is not None and one.job_id < two.job_id
        wait_until(
            "both jobs to end",
            lambda: [j.status for j in jobs_of(app)] == ["unknown", "unknown"],
            timeout=60,
        )
    finally:
        printer.close()
    assert len(printer.accepted) == 2  # one connection per job, in the order of the taps
    jobs = jobs_of(app)
    assert all(j.printed_at is None and j.last_error == "printer_no_answer" for j in jobs)
    events = [e for _, e in received(staff, "printer.failed")]
    assert [e["job_id"] for e in events] == [one.job_id, two.job_id]
    assert {e["error_code"] for e in events} == {"printer_no_answer"}


def test_a_printer_that_answers_confirms_the_job(app: Flask, staff: SocketIOTestClient) -> None:
    printer = NetworkPrinter()
    try:
        kiosk = Kiosk(app, {"printer": printer.url})
        result = kiosk.print(kiosk.issue()["id"])
    finally:
        printer.close()
    assert result.status == "printed"
    assert printer.printout().commands[-2:] == ["status 1", "status 4"]


def test_a_printer_out_of_paper_after_the_job_is_a_failure(
    app: Flask, staff: SocketIOTestClient
) -> None:
    printer = NetworkPrinter(paper=PAPER_OUT, paper_before=PAPER_OK)
    try:
        kiosk = Kiosk(app, {"printer": printer.url})
        result = kiosk.print(kiosk.issue()["id"])
    finally:
        printer.close()
    assert (result.status, result.error_code) == ("failed", "printer_out_of_paper")
    assert jobs_of(app)[0].status == "failed"
    assert [e["error_code"] for _, e in received(staff, "printer.failed")] == [
        "printer_out_of_paper"
    ]


def test_the_unknown_outcome_is_said_on_the_kiosk(app: Flask) -> None:
    printer = DeafPrinter()
    try:
        kiosk = Kiosk(app, {"printer": printer.url + "&status=0"})
        result = kiosk.print(kiosk.issue()["id"])
    finally:
        printer.close()
    assert (result.status, result.error_code) == ("unknown", "printer_cannot_answer")
    assert result.message and "chưa xác nhận" in result.message
