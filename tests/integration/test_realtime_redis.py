"""Socket.IO across real processes: `xephang serve` under gevent, sharing events through Redis.

Each test installs xephang the way an operator does (`xephang init --demo`,
`xephang token create`), starts `xephang serve` processes on free ports and
listens with a python-socketio client on the websocket transport.  Waiting is
polling with generous upper bounds; nothing here asserts how fast anything is.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from ..live import COMMAND_WAIT_S, EVENT_WAIT_S, Install, Server, wait_until
from ..services import REDIS_URL, require_redis

pytestmark = pytest.mark.slow

Message = tuple[str, dict[str, Any]]

PUBLISH_FROM_SCRIPT = """
import json
import sys

from server import engine
from server.app import create_app
from server.runtime import runtime

database_url, redis_url, service = sys.argv[1:4]
app = create_app({"EVENTS_WRITE_ONLY": True, "DATABASE_URL": database_url, "REDIS_URL": redis_url})
assert "socketio" not in app.extensions, "a write-only app serves no Socket.IO"
issued = engine.issue_ticket(runtime(app).uow(), "demo", service, channel="api")
print(json.dumps(issued.ticket))
"""


@pytest.fixture(params=["postgresql", "sqlite"])
def install(request: pytest.FixtureRequest, tmp_path: Path) -> Install:
    """`xephang init --demo` on a new database, with a Redis channel no other test uses."""
    require_redis()
    if request.param == "postgresql":
        database_url = request.getfixturevalue("fresh_pg_url")
    else:
        database_url = f"sqlite:///{tmp_path / 'xephang.sqlite3'}"
    inst = Install(
        database_url=database_url,
        redis_url=REDIS_URL,
        channel=f"xephang-test-{uuid.uuid4().hex}",
        workdir=tmp_path,
    )
    out = inst.run("init", "--demo")
    assert "demo" in out
    return inst


class Listener:
    """A python-socketio client on the websocket transport that keeps every message."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self._messages: list[Message] = []
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._keep)
        self.client.connect(
            url, auth={"token": token}, transports=["websocket"], wait_timeout=EVENT_WAIT_S
        )

    def _keep(self, event: str, data: Any = None) -> None:
        with self._lock:
            self._messages.append((event, data))

    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages)

    def events(self) -> list[Message]:
        return [(name, data) for name, data in self.messages() if name != "state"]

    def wait_for(self, name: str, **match: Any) -> dict[str, Any]:
        """The first message ``name`` whose payload has ``match`` (``ticket_id`` looks inside)."""

        def find() -> dict[str, Any] | None:
            for event, data in self.messages():
                if event != name:
                    continue
                if "ticket_id" in match and data.get("ticket", {}).get("id") != match["ticket_id"]:
                    continue
                if all(data.get(k) == v for k, v in match.items() if k != "ticket_id"):
                    return data
            return None

        found: dict[str, Any] = wait_until(f"{name} {match} at {self.url}", find)
        return found

    def wait_for_seq(self, seq: int) -> None:
        wait_until(
            f"an event with seq {seq} at {self.url}",
            lambda: any(data.get("seq") == seq for _, data in self.events()),
        )

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def listen() -> Iterator[Callable[[Server, str], Listener]]:
    listeners: list[Listener] = []

    def _listen(server: Server, token: str) -> Listener:
        listener = Listener(server.url, token)
        listeners.append(listener)
        return listener

    try:
        yield _listen
    finally:
        for listener in listeners:
            listener.close()


# --- tests -------------------------------------------------------------------------------


def test_serve_runs_gevent_and_websocket(install: Install, serve: Any, listen: Any) -> None:
    server = serve("solo")
    assert f"http://127.0.0.1:{server.port}/ (gevent)" in server.log()

    display = listen(server, install.token("display"))
    assert display.client.transport() == "websocket"
    state = display.wait_for("state")
    assert state["site"]["code"] == "demo"

    kiosk = install.token("kiosk")
    ticket = server.post("/tickets", kiosk, {"service": "HT"})
    issued = display.wait_for("ticket.issued", ticket_id=ticket["id"])
    assert issued["seq"] == state["seq"] + 1

    # a refused token gets no connection, also over the real transport
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(server.url, "xph_" + "A" * 43)


def test_servers_share_events_through_redis(install: Install, serve: Any, listen: Any) -> None:
    a = serve("a")
    b = serve("b")
    # Both listen on the channel from start-up, before any client has connected.
    wait_until("both servers to subscribe to the Redis channel", lambda: install.subscribers() == 2)

    display = install.token("display")
    on_a = listen(a, display)
    on_b = listen(b, display)
    seq0 = on_a.wait_for("state")["seq"]
    assert on_b.wait_for("state")["seq"] == seq0

    clerk = install.token("clerk", counter=1)  # a clerk may issue too: one token, one process

    # issued on B: the client on A hears it through Redis (and the one on B directly)
    ticket = b.post("/tickets", clerk, {"service": "HT"})
    issued = on_a.wait_for("ticket.issued", ticket_id=ticket["id"])
    assert issued["seq"] == seq0 + 1
    assert issued["site"] == "demo"
    assert issued["ticket"]["number"] == ticket["number"]
    assert "tracking_token" not in issued["ticket"]
    assert on_b.wait_for("ticket.issued", ticket_id=ticket["id"]) == issued

    # called on A: the client on B hears it
    a.post("/counters/1/call-next", clerk)
    called = on_b.wait_for("ticket.called", ticket_id=ticket["id"])
    assert (called["seq"], called["counter"], called["recall"]) == (seq0 + 2, 1, False)
    counter = on_b.wait_for("counter.updated", seq=seq0 + 3)
    assert counter["counter"]["current"]["id"] == ticket["id"]

    # served through B, paused on A
    b.post("/counters/1/start", clerk)
    b.post("/counters/1/finish", clerk, {"dossier_code": "HS-001"})
    a.post("/counters/1/pause", clerk)
    for listener in (on_a, on_b):
        listener.wait_for_seq(seq0 + 8)
        got = [(name, data["seq"]) for name, data in listener.events()]
        assert got == [
            ("ticket.issued", seq0 + 1),
            ("ticket.called", seq0 + 2),
            ("counter.updated", seq0 + 3),
            ("ticket.updated", seq0 + 4),  # started
            ("counter.updated", seq0 + 5),
            ("ticket.updated", seq0 + 6),  # finished
            ("counter.updated", seq0 + 7),
            ("counter.updated", seq0 + 8),  # paused
        ], listener.url
    assert on_a.events() == on_b.events()

    # Redis delivers in publish order, so a stray copy of any event above would reach a
    # client before an event that came to its server through Redis after it.  One more
    # event from each server, and still no duplicates and no gaps.
    ticket2 = a.post("/tickets", clerk, {"service": "CT"})
    ticket3 = b.post("/tickets", clerk, {"service": "CT"})
    for listener in (on_a, on_b):
        listener.wait_for("ticket.issued", ticket_id=ticket2["id"])
        listener.wait_for("ticket.issued", ticket_id=ticket3["id"])
        seqs = [data["seq"] for _, data in listener.events()]
        assert seqs == list(range(seq0 + 1, seq0 + 11)), listener.url

    # a snapshot asked for again agrees with the last seq
    on_b.client.emit("sync")
    wait_until(
        "the synced snapshot",
        lambda: [d["seq"] for n, d in on_b.messages() if n == "state"] == [seq0, seq0 + 10],
    )


def test_command_line_process_publishes_to_served_clients(
    install: Install, serve: Any, listen: Any, tmp_path: Path
) -> None:
    a = serve("a")
    wait_until("the server to subscribe to the Redis channel", lambda: install.subscribers() == 1)
    on_a = listen(a, install.token("display"))
    seq0 = on_a.wait_for("state")["seq"]

    script = tmp_path / "publish.py"
    script.write_text(PUBLISH_FROM_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), install.database_url, install.redis_url, "CT"],
        env=install.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=COMMAND_WAIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ticket = json.loads(done.stdout.strip().splitlines()[-1])

    issued = on_a.wait_for("ticket.issued", ticket_id=ticket["id"])
    assert issued["seq"] == seq0 + 1
    assert issued["ticket"]["service"] == "CT"
    assert issued["ticket"]["channel"] == "api"
    # the publishing process only wrote to the channel; it never listened
    assert install.subscribers() == 1


def _token_id(install: Install, role: str) -> int:
    """The id of the newest token of ``role`` (``xephang token list``)."""
    rows = [
        line.split("\t") for line in install.run("token", "list", "--site", "demo").splitlines()
    ]
    return max(int(row[0]) for row in rows[1:] if row[1] == role)


def _staff_login(install: Install, server: Server, username: str) -> requests.Session:
    """A browser logged in on ``server`` as a new manager of the demo site."""
    out = install.run(
        "user", "create", "--username", username, "--role", "manager", "--site", "demo"
    )
    password = out.strip().splitlines()[-1].rpartition(": ")[2]
    browser = requests.Session()
    form = {"username": username, "password": password, "csrf_token": _csrf(browser, server)}
    done = browser.post(f"{server.url}/login", data=form, allow_redirects=False, timeout=30)
    assert done.status_code == 302, done.text
    return browser


def _csrf(browser: requests.Session, server: Server) -> str:
    page = browser.get(f"{server.url}/login", timeout=30).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_ending_a_credential_on_one_process_cuts_off_its_socket_on_another(
    install: Install, serve: Any, listen: Any
) -> None:
    """Issue 9 item 9: `xephang token revoke` (a third process) and a logout on A drop the
    sockets connected to B at once, through Redis; other sockets stay."""
    a = serve("a")
    b = serve("b")
    wait_until("both servers to subscribe to the Redis channel", lambda: install.subscribers() == 2)

    revoked = listen(b, install.token("display"))
    revoked_id = _token_id(install, "display")
    kept = listen(b, install.token("display"))
    on_a = listen(a, install.token("display"))
    for listener in (revoked, kept, on_a):
        listener.wait_for("state")

    install.run("token", "revoke", str(revoked_id))
    wait_until(
        "the revoked display's socket on B to be cut off", lambda: not revoked.client.connected
    )
    assert kept.client.connected and on_a.client.connected

    # a staff page's socket on B, logged in through A; logging out on A cuts it off
    browser = _staff_login(install, a, "quanly")
    staff = socketio.Client(reconnection=False)
    states: list[Any] = []
    staff.on("state", states.append)
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    staff.connect(
        b.url,
        auth={"site": "demo"},
        headers={"Cookie": cookie},
        transports=["websocket"],
        wait_timeout=EVENT_WAIT_S,
    )
    try:
        wait_until("the staff page's snapshot", lambda: states)
        out = browser.post(
            f"{a.url}/logout",
            data={"csrf_token": _csrf(browser, a)},
            allow_redirects=False,
            timeout=30,
        )
        assert out.status_code == 302
        wait_until("the staff socket on B to be cut off", lambda: not staff.connected)
    finally:
        if staff.connected:
            staff.disconnect()

    # the sockets nobody revoked still hear events from both processes
    ticket = a.post("/tickets", install.token("kiosk"), {"service": "HT"})
    kept.wait_for("ticket.issued", ticket_id=ticket["id"])
    on_a.wait_for("ticket.issued", ticket_id=ticket["id"])
