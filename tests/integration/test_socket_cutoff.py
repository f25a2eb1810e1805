"""Issue 9 item 9, in one process: a credential that ends loses its live connection at once.

A revoked device token, a deactivated account, a logout (one session, or everywhere) and
a password change each disconnect the sockets opened with it, without waiting for the
client to send ``sync``; the other connections stay. (Across processes, through Redis:
tests/integration/test_realtime_redis.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
from flask_socketio import SocketIOTestClient

from server import engine
from server.runtime import runtime

from ..integration.test_admin_people import edit_form, login, make_user, sites
from ..sockets import socket_clients


@pytest.fixture
def people(database: Any, clock: Any) -> dict[str, int]:
    """Site s1 with an admin, a manager and a clerk."""
    sites(database, "s1")
    return {
        "root": make_user(database, clock, "root", "admin"),
        "quanly1": make_user(database, clock, "quanly1", "manager", ("s1",)),
        "lan": make_user(database, clock, "lan", "clerk", ("s1",)),
    }


@pytest.fixture
def sockets(app: Any) -> Any:
    with socket_clients(app) as open_client:

        def open_socket(auth: dict[str, Any], http: Any = None) -> SocketIOTestClient:
            client = open_client(auth, flask_test_client=http)
            assert client.is_connected(), auth
            assert [m["name"] for m in client.get_received()] == ["state"]
            return client

        yield open_socket


def _hears(client: SocketIOTestClient, app: Any) -> bool:
    """Whether the client is connected and hears a new event of site s1."""
    if not client.is_connected():
        return False
    client.get_received()
    engine.issue_ticket(runtime(app).uow(), "s1", "A", channel="api")
    return [m["name"] for m in client.get_received()] == ["ticket.issued"]


def test_a_device_revoked_on_the_admin_page_is_cut_off(
    app: Any, people: dict[str, int], make_token: Any, sockets: Any
) -> None:
    from server.tokens import resolve_token

    revoked_raw, kept_raw = make_token("display"), make_token("display")
    revoked, kept = sockets({"token": revoked_raw}), sockets({"token": kept_raw})
    with runtime(app).db.reads() as session:
        principal = resolve_token(session, revoked_raw)
        assert principal is not None
    response = login(app, "root").post(f"/admin/sites/s1/devices/{principal.token_id}/revoke")
    assert response.status_code == 302
    assert not revoked.is_connected()  # at once, no sync needed
    assert _hears(kept, app)


def test_a_deactivated_account_is_cut_off(app: Any, people: dict[str, int], sockets: Any) -> None:
    clerk = sockets({"site": "s1"}, login(app, "lan"))
    manager = sockets({"site": "s1"}, login(app, "quanly1"))
    response = login(app, "root").post(f"/admin/users/{people['lan']}", data=edit_form(active=""))
    assert response.status_code == 302
    assert not clerk.is_connected()
    assert _hears(manager, app)


def test_logout_cuts_off_that_session_and_everywhere_cuts_off_all(
    app: Any, people: dict[str, int], sockets: Any
) -> None:
    office, home = login(app, "quanly1"), login(app, "quanly1")
    at_office, at_home = sockets({"site": "s1"}, office), sockets({"site": "s1"}, home)
    office.post("/logout")
    assert not at_office.is_connected()
    assert _hears(at_home, app)  # the other browser's session goes on
    again = login(app, "quanly1")
    third = sockets({"site": "s1"}, again)
    again.post("/logout", data={"everywhere": "1"})
    assert not third.is_connected()
    assert not at_home.is_connected()


def test_a_password_reset_and_log_out_everywhere_on_the_staff_page_cut_off(
    app: Any, people: dict[str, int], sockets: Any
) -> None:
    admin = login(app, "root")
    lan = sockets({"site": "s1"}, login(app, "lan"))
    assert admin.post(f"/admin/users/{people['lan']}/password").status_code == 200
    assert not lan.is_connected()
    manager = sockets({"site": "s1"}, login(app, "quanly1"))
    observer = sockets({"site": "s1"}, admin)
    assert admin.post(f"/admin/users/{people['quanly1']}/sessions/end").status_code == 302
    assert not manager.is_connected()
    assert _hears(observer, app)


def test_a_socket_of_an_ended_session_is_refused(
    app: Any, people: dict[str, int], sockets: Any
) -> None:
    browser = login(app, "quanly1")
    cookie = browser.get_cookie("session").value
    browser.post("/logout")
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    refused = app.extensions["socketio"].test_client(
        app, auth={"site": "s1"}, flask_test_client=copy
    )
    assert not refused.is_connected()


def test_an_account_the_hub_takes_away_leaves_its_counter_and_is_cut_off(
    app: Any, database: Any, clock: Any, people: dict[str, int], sockets: Any
) -> None:
    from sqlalchemy import select

    from server.accounts.services import end_all_sessions
    from server.models import Counter, User
    from server.sync.serving import cut_off_staff

    clerk = sockets({"site": "s1"}, login(app, "lan"))
    manager = sockets({"site": "s1"}, login(app, "quanly1"))
    engine.sign_in(runtime(app).uow(), "s1", 1, people["lan"])
    # What the hub's configuration did in its transaction (server.sync.staff) ...
    with database.writes() as session, session.begin():
        user = session.get(User, people["lan"])
        assert user is not None
        user.active = False
        end_all_sessions(session, user.id, clock())
    # ... and what the server does after it.
    cut_off_staff(runtime(app), [people["lan"]])
    assert not clerk.is_connected()
    with database.reads() as session:
        assert session.scalars(select(Counter.clerk_id).where(Counter.number == 1)).one() is None
    assert _hears(manager, app)
