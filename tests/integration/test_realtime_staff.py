"""Socket.IO for staff pages: the login session instead of a device token.

A logged-in staff member connects without a token, with ``auth={"site": code}`` (or nothing,
when they work for one site only), and is put in that site's room: a ``state`` snapshot
first, then events. A clerk of another site is refused; an account closed since it
connected is disconnected at its next ``sync``. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask_socketio import SocketIOTestClient
from sqlalchemy import update
from werkzeug.security import generate_password_hash

from server import engine
from server.accounts import services
from server.accounts.services import create_user
from server.messages import ERRORS
from server.models import User
from server.runtime import runtime

from ..factories import FakeClock, app_on
from ..live import served_in_thread
from ..sockets import received, snapshot, socket_clients

PASSWORD = "mat-khau-rat-dai-1"


@pytest.fixture
def app(db_url: str, clock: FakeClock) -> Iterator[Flask]:
    """An app over two sites, s1 and s2 (services A and B, counters 1 and 2)."""
    with app_on(db_url, clock, sites=("s1", "s2")) as app:
        yield app


@pytest.fixture
def staff(app: Flask, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setattr(
        services, "hash_password", lambda p: generate_password_hash(p, "pbkdf2:sha256:1000")
    )
    people = {
        "lan": ("clerk", ("s1",), "Nguyễn Thị Lan"),
        "hoa": ("clerk", ("s2",), "Lê Thị Hoa"),
        "quan": ("manager", ("s1", "s2"), "Phạm Quân"),
        "admin": ("admin", (), ""),
    }
    ids = {}
    with runtime(app).db.writes() as session, session.begin():
        for username, (role, sites, name) in people.items():
            user = create_user(
                session, username, role, PASSWORD, clock(), site_codes=sites, full_name=name
            )
            ids[username] = user.id
    return ids


@pytest.fixture
def connect(app: Flask, staff: dict[str, int]) -> Iterator[Callable[..., SocketIOTestClient]]:
    """``connect(username or None, auth=...)``: a Socket.IO client sharing a page's cookies."""
    with socket_clients(app) as open_client:

        def _connect(username: str | None, auth: Any = None) -> SocketIOTestClient:
            http = app.test_client()
            if username is not None:
                response = http.post("/login", data={"username": username, "password": PASSWORD})
                assert response.status_code == 302
            return open_client(auth, flask_test_client=http)

        yield _connect


def room_size(app: Flask, site: str) -> int:
    manager = app.extensions["socketio"].server.manager
    return len(list(manager.get_participants("/", f"site:{site}")))


# --- connecting -----------------------------------------------------------------------------


def test_a_clerk_page_connects_with_the_login_session(app: Flask, connect: Any) -> None:
    client = connect("lan")
    assert client.is_connected()
    state = snapshot(client)
    assert state["site"]["code"] == "s1"
    assert {c["number"] for c in state["counters"]} == {1, 2}
    assert room_size(app, "s1") == 1 and room_size(app, "s2") == 0


def test_a_clerk_may_name_their_own_site(app: Flask, connect: Any) -> None:
    client = connect("lan", {"site": "s1"})
    assert client.is_connected()
    assert snapshot(client)["site"]["code"] == "s1"


@pytest.mark.parametrize("auth", [None, {}, {"site": "s1"}, {"token": 5}, "s1"])
def test_without_a_login_or_a_token_it_is_refused(app: Flask, connect: Any, auth: Any) -> None:
    client = connect(None, auth)
    assert not client.is_connected()
    assert room_size(app, "s1") == room_size(app, "s2") == 0


def test_a_clerk_of_another_site_is_refused(app: Flask, connect: Any) -> None:
    client = connect("hoa", {"site": "s1"})
    assert not client.is_connected()
    assert room_size(app, "s1") == 0


def test_an_unknown_site_is_refused(app: Flask, connect: Any) -> None:
    assert not connect("lan", {"site": "nowhere"}).is_connected()
    assert not connect("admin", {"site": "nowhere"}).is_connected()


def test_a_manager_of_several_sites_names_one(app: Flask, connect: Any) -> None:
    assert not connect("quan").is_connected()  # which one? not guessed
    client = connect("quan", {"site": "s2"})
    assert client.is_connected()
    assert snapshot(client)["site"]["code"] == "s2"


def test_an_admin_names_any_site(app: Flask, connect: Any) -> None:
    assert not connect("admin").is_connected()
    client = connect("admin", {"site": "s2"})
    assert snapshot(client)["site"]["code"] == "s2"


def test_a_token_wins_over_the_session(app: Flask, connect: Any) -> None:
    from server.tokens import create_token

    with runtime(app).db.writes() as session:
        token = create_token(session, "s2", "display", None)
    client = connect("lan", {"token": token})
    assert snapshot(client)["site"]["code"] == "s2"
    assert not connect("lan", {"token": "xph_" + "A" * 43}).is_connected()


def test_after_logout_the_session_no_longer_connects(app: Flask, staff: Any) -> None:
    http = app.test_client()
    http.post("/login", data={"username": "lan", "password": PASSWORD})
    http.post("/logout")
    client = app.extensions["socketio"].test_client(app, flask_test_client=http)
    assert not client.is_connected()


# --- staying connected ---------------------------------------------------------------------


def test_sync_resends_the_snapshot_to_staff(app: Flask, connect: Any) -> None:
    client = connect("lan")
    first = snapshot(client)
    engine.issue_ticket(runtime(app).uow(), "s1", "A")
    assert [name for name, _ in received(client)] == ["ticket.issued"]
    client.emit("sync")
    assert snapshot(client)["seq"] == first["seq"] + 1


def test_a_deactivated_account_is_disconnected_at_its_next_sync(app: Flask, connect: Any) -> None:
    client = connect("lan")
    other = connect("quan", {"site": "s1"})
    snapshot(client)
    snapshot(other)
    with runtime(app).db.writes() as session:
        session.execute(update(User).where(User.username == "lan").values(active=False))
        session.commit()
    client.emit("sync")
    assert not client.is_connected()  # and no snapshot for it
    # The others stay.
    other.emit("sync")
    assert other.is_connected()
    assert snapshot(other)["site"]["code"] == "s1"
    assert room_size(app, "s1") == 1


# --- the clerk on the counter reaches the room ---------------------------------------------


def test_counter_updated_with_the_clerk_reaches_the_site_room(
    app: Flask, connect: Any, staff: dict[str, int]
) -> None:
    page = connect("lan")
    other_site = connect("hoa")
    start = snapshot(page)["seq"]
    snapshot(other_site)

    engine.sign_in(runtime(app).uow(), "s1", 2, staff["lan"])
    [(name, payload)] = received(page)
    assert name == "counter.updated"
    assert payload["seq"] == start + 1
    assert payload["counter"]["number"] == 2
    assert payload["counter"]["clerk"] == {
        "id": staff["lan"],
        "name": "Nguyễn Thị Lan",
        "photo_url": None,
    }
    assert received(other_site) == []

    engine.sign_out(runtime(app).uow(), staff["lan"])
    [(name, payload)] = received(page)
    assert (name, payload["counter"]["number"], payload["counter"]["clerk"]) == (
        "counter.updated",
        2,
        None,
    )
    assert payload["seq"] == start + 2


def test_signing_in_through_the_api_is_heard_by_the_clerks_own_socket(
    app: Flask, connect: Any, staff: dict[str, int]
) -> None:
    manager = connect("quan", {"site": "s1"})
    snapshot(manager)
    http = app.test_client()
    http.post("/login", data={"username": "lan", "password": PASSWORD})
    socket = app.extensions["socketio"].test_client(app, flask_test_client=http)
    try:
        snapshot(socket)
        response = http.post("/api/v1/sites/s1/counters/1/sign-in", json={}, headers=_csrf(http))
        assert response.status_code == 200, response.get_json()
        [(name, payload)] = received(socket)
        assert name == "counter.updated"
        assert payload["counter"]["clerk"]["id"] == staff["lan"]
        received(manager)
        response = http.post("/logout")
        # Logging out ends the page's live link too; the others hear the counter is free.
        assert not socket.is_connected()
        [(name, payload)] = received(manager)
        assert (name, payload["counter"]["clerk"]) == ("counter.updated", None)
    finally:
        if socket.is_connected():
            socket.disconnect()


def test_the_snapshot_shows_who_is_signed_in(
    app: Flask, connect: Any, staff: dict[str, int]
) -> None:
    engine.sign_in(runtime(app).uow(), "s1", 1, staff["lan"])
    state = snapshot(connect("quan", {"site": "s1"}))
    clerks = {c["number"]: c["clerk"] and c["clerk"]["name"] for c in state["counters"]}
    assert clerks == {1: "Nguyễn Thị Lan", 2: None}


def _csrf(http: Any) -> dict[str, str]:
    """The page's CSRF token (sent even when CSRF is off; see
    tests/integration/test_api_staff_session.py)."""
    import re

    page = http.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return {"X-CSRFToken": found.group(1)}


# --- bad input in auth (issue 9, item 14) -------------------------------------------------
# A NUL or a lone surrogate (JSON "\\udc80") in auth's site failed in the database driver
# inside the connect handler: the client got no answer and waited 5–8 s. Now it is refused.

BAD_AUTH = [
    {"site": "s1\x00"},
    {"site": "\x00"},
    {"site": "s1\udc80"},
    {"site": "s" * 10_000},
    {"token": "xph_\udc80"},
    {"token": "xph_\x00"},
    {"token": "xph_" + "a" * 10_000, "site": "s1"},
]


@pytest.mark.parametrize("auth", BAD_AUTH, ids=[repr(a)[:30] for a in BAD_AUTH])
def test_bad_text_in_auth_is_refused(app: Flask, connect: Any, auth: dict[str, str]) -> None:
    client = connect("admin", auth)
    assert not client.is_connected()
    assert room_size(app, "s1") == 0


@pytest.mark.parametrize("site", ["s1\x00", "s1\udc80"])
def test_a_real_client_hears_the_refusal_and_why(app: Flask, staff: Any, site: str) -> None:
    """Through HTTP long-polling, as a browser would: the refusal comes back as connect_error."""
    with served_in_thread(app) as url:
        http = requests.Session()
        login = http.post(f"{url}/login", data={"username": "admin", "password": PASSWORD})
        assert login.status_code == 200  # followed to /
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        client = socketio.Client(reconnection=False)
        refusals: list[Any] = []
        client.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(
                url,
                auth={"site": site},
                headers={"Cookie": cookie},
                transports=["polling"],
                wait_timeout=20,
            )
        client.disconnect()
    assert refusals == [{"message": ERRORS["invalid_text"], "data": {"code": "invalid_text"}}]


def test_a_clean_site_still_connects(app: Flask, connect: Any) -> None:
    assert connect("admin", {"site": "s1"}).is_connected()
