"""Socket.IO in one process: snapshot on connect, one event per committed change, nothing else.

Runs with Flask-SocketIO's test client on SQLite and PostgreSQL.  Every queue
operation is driven twice: straight through the engine and through the REST
API, since both must publish the same events after their commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from server import engine
from server.engine.errors import QueueError
from server.models import ApiToken
from server.runtime import runtime
from server.timeutil import utcnow
from server.tokens import create_token

from ..factories import FakeClock, app_on
from ..sockets import Payload, Received, received, snapshot, socket_clients

EVENT_NAMES = {"ticket.issued", "ticket.called", "ticket.updated", "counter.updated"}


# --- fixtures and helpers ---------------------------------------------------------


@pytest.fixture
def app(db_url: str, clock: FakeClock) -> Iterator[Flask]:
    """An app over two sites, s1 and s2 (services A and B, counters 1 and 2)."""
    with app_on(db_url, clock, sites=("s1", "s2")) as app:
        yield app


def make_token(app: Flask, site: str, role: str, counter: int | None = None) -> str:
    with runtime(app).db.writes() as session:
        return create_token(session, site, role, counter)


@pytest.fixture
def connect(app: Flask) -> Iterator[Callable[..., SocketIOTestClient]]:
    """Connect a Socket.IO test client; every client is disconnected at the end."""
    with socket_clients(app) as open_client:

        def _connect(
            site: str = "s1", role: str = "display", *, auth: Any = ...
        ) -> SocketIOTestClient:
            if auth is ...:
                auth = {"token": make_token(app, site, role)}
            return open_client(auth)

        yield _connect


def room_size(app: Flask, site: str) -> int:
    manager = app.extensions["socketio"].server.manager
    return len(list(manager.get_participants("/", f"site:{site}")))


def site_seq(app: Flask, site: str) -> int:
    with runtime(app).db.reads() as session:
        seq: int = engine.site_state(session, site, runtime(app).clock())["seq"]
        return seq


# --- two ways to drive the queue ---------------------------------------------------


class ViaEngine:
    """Calls the engine functions directly, each with a fresh unit of work."""

    name = "engine"

    def __init__(self, app: Flask, site: str = "s1") -> None:
        self.rt = runtime(app)
        self.site = site

    def issue(self, service: str = "A") -> Payload:
        return engine.issue_ticket(self.rt.uow(), self.site, service).ticket

    def call_next(self, counter: int = 1) -> Payload:
        return engine.call_next(self.rt.uow(), self.site, counter)

    def call(self, counter: int, ticket_id: int) -> Payload:
        return engine.call_ticket(self.rt.uow(), self.site, counter, ticket_id)

    def recall(self, counter: int = 1) -> Payload:
        return engine.recall(self.rt.uow(), self.site, counter)

    def start(self, counter: int = 1) -> Payload:
        return engine.start(self.rt.uow(), self.site, counter)

    def finish(self, counter: int = 1, dossier_code: str | None = None) -> Payload:
        return engine.finish(self.rt.uow(), self.site, counter, dossier_code=dossier_code)

    def no_show(self, counter: int = 1) -> Payload:
        return engine.no_show(self.rt.uow(), self.site, counter)

    def requeue(self, ticket_id: int, position: str = "back") -> Payload:
        return engine.requeue(self.rt.uow(), self.site, ticket_id, position=position)

    def transfer(self, counter: int, to_service: str) -> Payload:
        return engine.transfer(
            self.rt.uow(), self.site, None, from_counter=counter, to_service=to_service
        )

    def cancel(self, ticket_id: int) -> Payload:
        return engine.cancel(self.rt.uow(), self.site, ticket_id)

    def pause(self, counter: int) -> Payload:
        return engine.pause(self.rt.uow(), self.site, counter)

    def resume(self, counter: int) -> Payload:
        return engine.resume(self.rt.uow(), self.site, counter)

    def refused(self, action: Callable[[], Any]) -> str:
        """Run an action the engine must refuse; return the refusal's code."""
        with pytest.raises(QueueError) as err:
            action()
        return err.value.code


class ViaApi(ViaEngine):
    """The same operations through the REST API, with an admin token of the site."""

    name = "api"

    def __init__(self, app: Flask, site: str = "s1") -> None:
        super().__init__(app, site)
        self.http = app.test_client()
        self.headers = {"Authorization": "Bearer " + make_token(app, site, "admin")}

    def post(self, path: str, body: Payload | None = None, expect: int = 200) -> Payload:
        response = self.http.post(
            f"/api/v1/sites/{self.site}{path}", json=body or {}, headers=self.headers
        )
        if response.status_code >= 400:
            raise ApiRefusal(response.status_code, response.get_json()["code"])
        assert response.status_code == expect, response.get_json()
        data: Payload = response.get_json()
        return data

    def issue(self, service: str = "A") -> Payload:
        return self.post("/tickets", {"service": service}, expect=201)

    def call_next(self, counter: int = 1) -> Payload:
        return self.post(f"/counters/{counter}/call-next")

    def call(self, counter: int, ticket_id: int) -> Payload:
        return self.post(f"/counters/{counter}/call", {"ticket_id": ticket_id})

    def recall(self, counter: int = 1) -> Payload:
        return self.post(f"/counters/{counter}/recall")

    def start(self, counter: int = 1) -> Payload:
        return self.post(f"/counters/{counter}/start")

    def finish(self, counter: int = 1, dossier_code: str | None = None) -> Payload:
        body = {"dossier_code": dossier_code} if dossier_code else {}
        return self.post(f"/counters/{counter}/finish", body)

    def no_show(self, counter: int = 1) -> Payload:
        return self.post(f"/counters/{counter}/no-show")

    def requeue(self, ticket_id: int, position: str = "back") -> Payload:
        return self.post(f"/tickets/{ticket_id}/requeue", {"position": position})

    def transfer(self, counter: int, to_service: str) -> Payload:
        return self.post(f"/counters/{counter}/transfer", {"to_service": to_service})

    def cancel(self, ticket_id: int) -> Payload:
        return self.post(f"/tickets/{ticket_id}/cancel")

    def pause(self, counter: int) -> Payload:
        counter_data: Payload = self.post(f"/counters/{counter}/pause")["counter"]
        return counter_data

    def resume(self, counter: int) -> Payload:
        counter_data: Payload = self.post(f"/counters/{counter}/resume")["counter"]
        return counter_data

    def refused(self, action: Callable[[], Any]) -> str:
        with pytest.raises(ApiRefusal) as err:
            action()
        assert err.value.status in (404, 409, 422)
        return err.value.code


class ApiRefusal(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code


@pytest.fixture(params=[ViaEngine, ViaApi], ids=["engine", "api"])
def via(request: pytest.FixtureRequest, app: Flask) -> ViaEngine:
    driver: ViaEngine = request.param(app)
    return driver


# --- connecting ---------------------------------------------------------------------


def test_connect_sends_the_snapshot_first(app: Flask, connect: Any, via: ViaEngine) -> None:
    first = via.issue("A")
    via.issue("B")
    via.call_next(1)  # ticket.called + counter.updated
    assert site_seq(app, "s1") == 4

    client = connect("s1", "display")
    assert client.is_connected()
    state = snapshot(client)
    assert state["seq"] == 4
    assert state["site"]["code"] == "s1"
    counters = {c["number"]: c for c in state["counters"]}
    assert counters[1]["current"]["id"] == first["id"]
    assert counters[1]["current"]["status"] == "called"
    assert counters[2]["current"] is None
    assert [t["number"] for t in state["recent_calls"]] == ["A001"]
    waiting = {s["code"]: s["waiting"] for s in state["services"]}
    assert waiting == {"A": 0, "B": 1}
    assert room_size(app, "s1") == 1

    via.call_next(2)
    names_seqs = [(name, payload["seq"]) for name, payload in received(client)]
    assert names_seqs == [("ticket.called", 5), ("counter.updated", 6)]


@pytest.mark.parametrize("role", ["admin", "manager", "clerk", "kiosk", "display"])
def test_every_role_may_listen(app: Flask, connect: Any, role: str) -> None:
    client = connect("s2", role)
    assert client.is_connected()
    assert snapshot(client)["site"]["code"] == "s2"


BAD_AUTH = {
    "no auth": None,
    "empty auth": {},
    "no token": {"user": "x"},
    "empty token": {"token": ""},
    "not a string": {"token": 12345},
    "no prefix": {"token": "hello"},
    "unknown token": {"token": "xph_" + "A" * 43},
    "too long": {"token": "xph_" + "A" * 500},
    "auth is a string": "xph_" + "A" * 43,
}


@pytest.mark.parametrize("auth", list(BAD_AUTH.values()), ids=list(BAD_AUTH))
def test_connection_without_a_valid_token_is_refused(app: Flask, connect: Any, auth: Any) -> None:
    client = connect(auth=auth)
    assert not client.is_connected()
    assert room_size(app, "s1") == 0
    assert room_size(app, "s2") == 0


def test_revoked_token_is_refused(app: Flask, connect: Any) -> None:
    raw = make_token(app, "s1", "display")
    assert connect(auth={"token": raw}).is_connected()
    with runtime(app).db.writes() as session:
        for token in session.query(ApiToken).all():
            token.revoked_at = utcnow()
        session.commit()
    refused = connect(auth={"token": raw})
    assert not refused.is_connected()
    assert room_size(app, "s1") == 1  # only the client from before the revocation


# --- events ---------------------------------------------------------------------------


def test_every_operation_publishes_its_events(app: Flask, connect: Any, via: ViaEngine) -> None:
    display = connect("s1", "display")
    clerk = connect("s1", "clerk")
    seq0 = snapshot(display)["seq"]
    assert snapshot(clerk)["seq"] == seq0 == 0
    log: Received = []

    def step(action: Callable[[], Any], *names: str) -> tuple[Any, list[Payload]]:
        result = action()
        got = received(display)
        assert [name for name, _ in got] == list(names), f"after {action}"
        assert received(clerk) == got  # every client of the site gets the same events
        log.extend(got)
        return result, [payload for _, payload in got]

    # issue
    t1, (issued,) = step(lambda: via.issue("A"), "ticket.issued")
    assert issued["ticket"]["id"] == t1["id"]
    assert issued["ticket"]["number"] == "A001"
    assert issued["ticket"]["status"] == "waiting"
    assert issued["ticket"]["position"] == 1
    assert issued["waiting"] == {"A": 1, "B": 0}
    assert "tracking_token" not in issued["ticket"]  # only the issuer gets it
    assert "tracking_token" in t1

    # call next: the ticket is called, the counter shows it
    called, (ev_called, ev_counter) = step(
        lambda: via.call_next(1), "ticket.called", "counter.updated"
    )
    assert called["id"] == t1["id"]
    assert ev_called["ticket"]["id"] == t1["id"]
    assert ev_called["ticket"]["status"] == "called"
    assert ev_called["ticket"]["counter"] == 1
    assert ev_called["counter"] == 1
    assert ev_called["recall"] is False
    assert ev_called["waiting"] == {"A": 0, "B": 0}
    assert ev_counter["counter"]["number"] == 1
    assert ev_counter["counter"]["current"]["id"] == t1["id"]

    # recall: called again, counted
    _, (ev_recall,) = step(lambda: via.recall(1), "ticket.called")
    assert ev_recall["ticket"]["id"] == t1["id"]
    assert ev_recall["recall"] is True
    assert ev_recall["counter"] == 1
    assert ev_recall["ticket"]["recall_count"] == 1

    # start
    _, (ev_start, ev_counter) = step(lambda: via.start(1), "ticket.updated", "counter.updated")
    assert ev_start["action"] == "started"
    assert ev_start["ticket"]["status"] == "serving"
    assert ev_counter["counter"]["current"]["status"] == "serving"

    # finish, with a dossier code: the counter is free again
    _, (ev_finish, ev_counter) = step(
        lambda: via.finish(1, "HS-2026-001"), "ticket.updated", "counter.updated"
    )
    assert ev_finish["action"] == "finished"
    assert ev_finish["ticket"]["id"] == t1["id"]
    assert ev_finish["ticket"]["status"] == "done"
    assert ev_finish["ticket"]["dossier_code"] == "HS-2026-001"
    assert ev_counter["counter"]["current"] is None

    # no-show
    t2, _ = step(lambda: via.issue("A"), "ticket.issued")
    step(lambda: via.call_next(1), "ticket.called", "counter.updated")
    _, (ev_no_show, ev_counter) = step(lambda: via.no_show(1), "ticket.updated", "counter.updated")
    assert ev_no_show["action"] == "no_show"
    assert ev_no_show["ticket"]["id"] == t2["id"]
    assert ev_no_show["ticket"]["status"] == "no_show"
    assert ev_counter["counter"]["current"] is None

    # requeue at the front
    _, (ev_requeue,) = step(lambda: via.requeue(t2["id"], "front"), "ticket.updated")
    assert ev_requeue["action"] == "requeued"
    assert ev_requeue["ticket"]["status"] == "waiting"
    assert ev_requeue["ticket"]["position"] == 1
    assert ev_requeue["waiting"] == {"A": 1, "B": 0}

    # calling a particular ticket
    _, (ev_called, _) = step(lambda: via.call(1, t2["id"]), "ticket.called", "counter.updated")
    assert ev_called["ticket"]["id"] == t2["id"]

    # transfer the counter's ticket to service B: it waits there, keeping its number
    _, (ev_transfer, ev_counter) = step(
        lambda: via.transfer(1, "B"), "ticket.updated", "counter.updated"
    )
    assert ev_transfer["action"] == "transferred"
    assert ev_transfer["ticket"]["id"] == t2["id"]
    assert ev_transfer["ticket"]["number"] == "A002"
    assert ev_transfer["ticket"]["service"] == "B"
    assert ev_transfer["ticket"]["status"] == "waiting"
    assert ev_transfer["waiting"] == {"A": 0, "B": 1}
    assert ev_counter["counter"]["number"] == 1
    assert ev_counter["counter"]["current"] is None

    # cancel a waiting ticket: no counter held it, so no counter event
    _, (ev_cancel,) = step(lambda: via.cancel(t2["id"]), "ticket.updated")
    assert ev_cancel["action"] == "cancelled"
    assert ev_cancel["ticket"]["status"] == "cancelled"
    assert ev_cancel["waiting"] == {"A": 0, "B": 0}

    # pause and resume
    _, (ev_pause,) = step(lambda: via.pause(2), "counter.updated")
    assert ev_pause["counter"]["number"] == 2
    assert ev_pause["counter"]["status"] == "paused"
    _, (ev_resume,) = step(lambda: via.resume(2), "counter.updated")
    assert ev_resume["counter"]["status"] == "open"

    # call next while the counter still holds a ticket it never started: that one is
    # marked absent first, and the three events of the one transaction come in order
    t3, _ = step(lambda: via.issue("A"), "ticket.issued")
    t4, _ = step(lambda: via.issue("A"), "ticket.issued")
    step(lambda: via.call_next(1), "ticket.called", "counter.updated")
    _, (ev_done, ev_called, ev_counter) = step(
        lambda: via.call_next(1), "ticket.updated", "ticket.called", "counter.updated"
    )
    assert (ev_done["ticket"]["id"], ev_done["action"]) == (t3["id"], "no_show")
    assert ev_called["ticket"]["id"] == t4["id"]
    assert ev_counter["counter"]["current"]["id"] == t4["id"]

    # every payload names its site and carries the next seq, one by one
    assert {name for name, _ in log} == EVENT_NAMES
    assert all(payload["site"] == "s1" for _, payload in log)
    seqs = [payload["seq"] for _, payload in log]
    assert seqs == list(range(seq0 + 1, seq0 + 1 + len(log)))
    assert site_seq(app, "s1") == seqs[-1]

    # a snapshot asked for now picks up exactly where the events are
    display.emit("sync")
    assert snapshot(display)["seq"] == seq0 + len(log)
    assert received(clerk) == []


def test_events_stay_in_their_site(app: Flask, connect: Any) -> None:
    one = connect("s1", "display")
    two = connect("s2", "display")
    snapshot(one)
    snapshot(two)
    s1 = ViaEngine(app, "s1")
    s2 = ViaApi(app, "s2")

    s1.issue("A")
    s1.call_next(1)
    assert [name for name, _ in received(one)] == [
        "ticket.issued",
        "ticket.called",
        "counter.updated",
    ]
    assert received(two) == []

    s2.issue("B")
    s2.pause(1)
    got = received(two)
    assert [(name, p["site"], p["seq"]) for name, p in got] == [
        ("ticket.issued", "s2", 1),  # each site counts its own seq
        ("counter.updated", "s2", 2),
    ]
    assert received(one) == []

    two.emit("sync")
    state = snapshot(two)
    assert (state["site"]["code"], state["seq"]) == ("s2", 2)
    assert received(one) == []


def test_sync_resends_the_snapshot(app: Flask, connect: Any, via: ViaEngine) -> None:
    client = connect("s1", "kiosk")
    other = connect("s1", "display")
    first = snapshot(client)
    snapshot(other)
    via.issue("A")
    received(client)
    received(other)

    client.emit("sync")
    again = snapshot(client)
    assert again["seq"] == first["seq"] + 1
    assert {s["code"]: s["waiting"] for s in again["services"]} == {"A": 1, "B": 0}
    client.emit("sync", {"since": 0})  # whatever the client sends along
    assert snapshot(client)["seq"] == again["seq"]
    assert received(other) == []  # only the client that asked


def test_refused_operations_publish_nothing(app: Flask, connect: Any, via: ViaEngine) -> None:
    client = connect("s1", "display")
    seq0 = snapshot(client)["seq"]

    refusals = [
        (lambda: via.call_next(1), "queue_empty"),
        (lambda: via.recall(1), "counter_has_no_ticket"),
        (lambda: via.start(1), "counter_has_no_ticket"),
        (lambda: via.finish(1), "counter_has_no_ticket"),
        (lambda: via.no_show(1), "counter_has_no_ticket"),
        (lambda: via.transfer(1, "B"), "counter_has_no_ticket"),
        (lambda: via.resume(1), "counter_already_open"),
        (lambda: via.issue("ZZ"), "service_not_found"),
        (lambda: via.call_next(9), "counter_not_found"),
        (lambda: via.cancel(999), "ticket_not_found"),
    ]
    for action, code in refusals:
        assert via.refused(action) == code
        assert received(client) == [], code

    # refusals on a ticket that exists: a wrong transition changes nothing either
    ticket = via.issue("A")
    via.pause(1)
    assert [name for name, _ in received(client)] == ["ticket.issued", "counter.updated"]
    for action, code in [
        (lambda: via.call_next(1), "counter_paused"),
        (lambda: via.pause(1), "counter_already_paused"),
        (lambda: via.requeue(ticket["id"]), "invalid_transition"),
    ]:
        assert via.refused(action) == code
        assert received(client) == [], code

    assert site_seq(app, "s1") == seq0 + 2
    client.emit("sync")
    state = snapshot(client)
    assert state["seq"] == seq0 + 2
    assert {c["number"]: c["status"] for c in state["counters"]} == {1: "paused", 2: "open"}
