"""The phone's Socket.IO link: a ticket's room, by the tracking token alone. SQLite, PostgreSQL.

A phone gets its ``ticket`` snapshot (the page's fields), then ``ticket.updated`` for its own
ticket and ``waiting`` (the site's counts, naming no ticket) for every batch of the site's
events; nothing of any other ticket ever reaches it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_socketio import SocketIOTestClient

from server import engine
from server.engine.tracking import renew_tracking_token
from server.models import Ticket
from server.runtime import runtime
from server.tokens import create_token

from ..factories import FakeClock, app_on
from ..integration import test_realtime

# The same fixture as the site's clients (Socket.IO test clients, disconnected at the end).
connect = test_realtime.connect
received = test_realtime.received


@pytest.fixture
def app(db_url: str, clock: FakeClock) -> Iterator[Flask]:
    with app_on(db_url, clock, sites=("s1", "s2")) as app:
        yield app


def issue(app: Flask, site: str = "s1", service: str = "A") -> dict[str, Any]:
    return engine.issue_ticket(runtime(app).uow(), site, service).ticket


def phone(connect: Any, ticket: dict[str, Any]) -> SocketIOTestClient:
    client = connect(auth={"tracking_token": ticket["tracking_token"]})
    assert client.is_connected()
    return client


def test_the_first_message_is_the_pages_snapshot(app: Flask, connect: Any) -> None:
    ticket = issue(app)
    client = phone(connect, ticket)
    [(name, view)] = received(client)
    assert name == "ticket"
    page = app.test_client().get(f"/t/{ticket['tracking_token']}/live").get_json()
    assert view == page  # the same fields as the page and its polling answer
    assert view["ticket"]["number"] == "A001" and view["ticket"]["people_ahead"] == 0
    assert "tracking_token" not in json.dumps(view) and "id" not in view["ticket"]
    client.emit("sync")
    assert [name for name, _ in received(client)] == ["ticket"]


def test_a_ticket_changes_reach_its_own_phone(app: Flask, connect: Any) -> None:
    ticket = issue(app)
    client = phone(connect, ticket)
    received(client)
    engine.call_next(runtime(app).uow(), "s1", 1)
    messages = received(client)
    assert [name for name, _ in messages] == ["ticket.updated", "waiting"]
    update = messages[0][1]
    assert update["action"] == "called" and update["site"] == "s1"
    assert update["ticket"]["status"] == "called" and update["ticket"]["counter"] == 1
    assert update["ticket"]["number"] == "A001"
    engine.recall(runtime(app).uow(), "s1", 1)
    engine.start(runtime(app).uow(), "s1", 1)
    engine.finish(runtime(app).uow(), "s1", 1)
    actions = [m["action"] for name, m in received(client) if name == "ticket.updated"]
    assert actions == ["recalled", "started", "finished"]


def test_an_event_for_ticket_b_never_reaches_the_page_of_ticket_a(app: Flask, connect: Any) -> None:
    mine = issue(app)
    client = phone(connect, mine)
    received(client)
    other_site = issue(app, "s2")
    rt = runtime(app)
    theirs = [issue(app, service="B") for _ in range(2)]  # B001, B002
    engine.call_next(rt.uow(), "s1", 2)
    engine.start(rt.uow(), "s1", 2)
    engine.finish(rt.uow(), "s1", 2, dossier_code="HS-1")
    engine.transfer(rt.uow(), "s1", theirs[1]["id"], to_service="A")
    engine.call_next(rt.uow(), "s2", 1)
    messages = received(client)
    # Only the site's waiting counts, one message per commit, and never a ticket.
    assert {name for name, _ in messages} == {"waiting"}
    text = json.dumps([m for _, m in messages], ensure_ascii=False)
    for other in [*theirs, other_site]:
        assert other["number"] not in text
        assert other["tracking_token"] not in text
    assert "HS-1" not in text and '"ticket"' not in text
    assert all(set(m) == {"site", "seq", "from_seq", "waiting", "resync"} for _, m in messages)
    assert all(m["site"] == "s1" for _, m in messages)  # nothing of the other site at all
    assert messages[-1][1]["waiting"] == {"A": 2, "B": 0}
    # The batches cover the site's sequence without a gap.
    seqs = [(m["from_seq"], m["seq"]) for _, m in messages]
    assert all(later[0] == earlier[1] + 1 for earlier, later in zip(seqs, seqs[1:], strict=False))


def test_a_phone_is_never_in_the_sites_room(app: Flask, connect: Any) -> None:
    ticket = issue(app)
    client = phone(connect, ticket)
    assert client.is_connected()
    manager = app.extensions["socketio"].server.manager

    def members(room: str) -> int:
        return len(list(manager.get_participants("/", room)))

    assert members("site:s1") == 0
    assert members(f"ticket:{ticket['id']}") == 1
    assert members("phones:s1") == 1


@pytest.mark.parametrize(
    "auth",
    [
        {"tracking_token": "not-a-token-of-ours-at-all"},
        {"tracking_token": "x"},
        {"tracking_token": 12345},
        {"tracking_token": None},
        {"tracking_token": "A" * 300},
    ],
)
def test_an_unknown_token_is_refused(app: Flask, connect: Any, auth: Any) -> None:
    issue(app)
    client = connect(auth=auth)
    assert not client.is_connected()


def test_a_device_token_is_no_tracking_token(app: Flask, connect: Any) -> None:
    with runtime(app).db.writes() as session:
        device = create_token(session, "s1", "display")
    issue(app)
    assert not connect(auth={"tracking_token": device}).is_connected()


def test_a_renewed_token_lets_the_old_phones_go(app: Flask, connect: Any) -> None:
    ticket = issue(app)
    old = phone(connect, ticket)
    received(old)
    with app.test_request_context():
        renewed = renew_tracking_token(runtime(app).uow(), "s1", ticket["id"])
        from server.realtime.phone import let_go

        let_go(ticket["id"])
    assert renewed["tracking_token"] != ticket["tracking_token"]
    engine.call_next(runtime(app).uow(), "s1", 1)
    assert "ticket.updated" not in [name for name, _ in received(old)]
    old.emit("sync")
    assert not old.is_connected()  # the old token names nothing any more
    assert not connect(auth={"tracking_token": ticket["tracking_token"]}).is_connected()
    fresh = phone(connect, {"tracking_token": renewed["tracking_token"]})
    [(name, view)] = received(fresh)
    assert name == "ticket" and view["ticket"]["status"] == "called"
    assert app.test_client().get(f"/t/{ticket['tracking_token']}").status_code == 404


def test_staff_renew_a_lost_tickets_token_through_the_api(app: Flask, connect: Any) -> None:
    ticket = issue(app)
    old = phone(connect, ticket)
    received(old)
    with runtime(app).db.writes() as session:
        clerk = create_token(session, "s1", "clerk", 1)
    response = app.test_client().post(
        f"/api/v1/sites/s1/tickets/{ticket['id']}/tracking-token",
        json={},
        headers={"Authorization": f"Bearer {clerk}"},
    )
    assert response.status_code == 200, response.get_json()
    new_token = response.get_json()["tracking_token"]
    with runtime(app).db.reads() as session:
        assert session.get(Ticket, ticket["id"]).tracking_token == new_token
    engine.call_next(runtime(app).uow(), "s1", 1)
    assert "ticket.updated" not in [name for name, _ in received(old)]


def test_a_settings_change_asks_the_phone_to_read_again(app: Flask, connect: Any) -> None:
    from sqlalchemy import select

    from server.models import Site

    ticket = issue(app)
    client = phone(connect, ticket)
    received(client)
    uow = runtime(app).uow()
    with uow:
        site = uow.session.execute(select(Site).where(Site.code == "s1")).scalar_one()
        site.soon_threshold = 7
        uow.emit(site, "site.updated", {"changed": "settings"})
        uow.commit()
    [(name, message)] = received(client)
    assert name == "waiting" and message["resync"] is True
    client.emit("sync")
    [(name, view)] = received(client)
    assert view["soon_threshold"] == 7


def test_a_rating_tells_the_phone_without_naming_the_score(app: Flask, connect: Any) -> None:
    with runtime(app).db.writes() as session:
        tablet = create_token(session, "s1", "tablet", 1)
    ticket = issue(app)
    rt = runtime(app)
    engine.call_next(rt.uow(), "s1", 1)
    engine.finish(rt.uow(), "s1", 1)
    client = phone(connect, ticket)
    received(client)
    response = app.test_client().post(
        "/api/v1/sites/s1/counters/1/rating",
        json={"ticket_id": ticket["id"], "score": 4},
        headers={"Authorization": f"Bearer {tablet}"},
    )
    assert response.status_code == 201
    messages = received(client)
    assert ("ticket.updated", {"site": "s1", "seq": messages[0][1]["seq"], "action": "rated"}) in (
        messages
    )
