"""REST API: bearer tokens, roles, counter-bound clerks and sites."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from server import tokens
from server.api.auth import CALLERS, ISSUERS, READERS
from server.api.openapi import OPERATIONS as ALL_OPERATIONS
from server.api.openapi import VARIABLE, Operation
from server.models import ApiToken
from server.pairing_codes import revoke_token
from server.realtime.cutoff import token_room
from server.runtime import runtime
from server.tokens import ROLES

from ..api_fixtures import PREFIX, Api, assert_problem, bearer
from ..factories import build_site, snapshot

# The hub's routes take a site server's credential, not a token
# (tests/integration/test_hub_sync.py).
OPERATIONS = [op for op in ALL_OPERATIONS if op.roles != ("site",)]


@pytest.fixture
def api(client: Any, database: Any, make_token: Any) -> Api:
    with database.writes() as session:
        build_site(session)
    return Api(client, make_token("admin"))


def url(op: Operation, site: str = "s1", counter: int = 1, ticket_id: int = 1) -> str:
    values = {"site": site, "n": str(counter), "ticket_id": str(ticket_id)}
    return PREFIX + VARIABLE.sub(lambda m: values[m["name"]], op.path)


def send(client: Any, op: Operation, headers: dict[str, str], **url_args: Any) -> Any:
    return client.open(url(op, **url_args), method=op.method, headers=headers)


def ids(op: Operation) -> str:
    return f"{op.method} " + VARIABLE.sub(lambda m: "{" + m["name"] + "}", op.path)


def test_the_role_groups_are_nested() -> None:
    assert set(CALLERS) < set(ISSUERS) < set(READERS) == set(ROLES)


# --- 401 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer xph_not-a-real-token",
        "Bearer not-even-the-prefix",
        "Bearer ",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "xph_token-without-scheme",
        "Bearer xph_" + "a" * 300,
    ],
)
def test_every_route_needs_a_valid_token(api: Api, database: Any, header: str | None) -> None:
    before = snapshot(database)
    for op in OPERATIONS:
        response = send(api.client, op, {"Authorization": header} if header else {})
        assert_problem(response, 401, "unauthorized")
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer") and 'realm="xephang"' in challenge, ids(op)
    assert snapshot(database) == before


def _token_id(database: Any) -> int:
    with database.reads() as session:
        return int(session.execute(select(func.max(ApiToken.id))).scalar_one())


def test_a_revoked_token_is_401(
    api: Api, app: Any, database: Any, make_token: Any, monkeypatch: Any
) -> None:
    monkeypatch.setitem(app.config, "TOKEN_CACHE_S", tokens.TOKEN_CACHE_S)
    token = make_token("display")
    assert api.get("/sites/s1/state", token=token).status_code == 200  # its lookup is cached
    with database.writes() as session:
        revoke_token(session, _token_id(database), datetime.now(UTC))
    assert_problem(api.get("/sites/s1/state", token=token), 401, "unauthorized")


def test_a_token_revoked_by_another_process_is_401_at_once(
    api: Api, app: Any, database: Any, make_token: Any, monkeypatch: Any
) -> None:
    """Another process revokes (the admin page, the command line): what reaches this one
    is the close of the token's room, through the message queue; its cached lookup ends."""
    monkeypatch.setitem(app.config, "TOKEN_CACHE_S", tokens.TOKEN_CACHE_S)
    token = make_token("display")
    assert api.get("/sites/s1/state", token=token).status_code == 200
    with database.writes() as session:
        session.execute(update(ApiToken).values(revoked_at=datetime.now(UTC)))
        session.commit()
    runtime(app).cut_off(token_room(_token_id(database)))
    assert_problem(api.get("/sites/s1/state", token=token), 401, "unauthorized")


def test_without_a_message_queue_a_revocation_counts_at_once(
    api: Api, database: Any, make_token: Any
) -> None:
    """No XEPHANG_REDIS_URL: ``xephang token revoke`` could tell a running server nothing,
    so no lookup is kept and the next request is refused."""
    token = make_token("display")
    assert api.get("/sites/s1/state", token=token).status_code == 200
    with database.writes() as session:  # as the command line does it: no process is told
        session.execute(update(ApiToken).values(revoked_at=datetime.now(UTC)))
        session.commit()
    assert_problem(api.get("/sites/s1/state", token=token), 401, "unauthorized")


def test_a_revocation_no_message_reached_counts_once_the_lookup_expires(
    api: Api, app: Any, database: Any, make_token: Any, monkeypatch: Any
) -> None:
    # lookups kept (as with a message queue): a revocation nothing announced waits for them
    monkeypatch.setitem(app.config, "TOKEN_CACHE_S", tokens.TOKEN_CACHE_S)
    now = [1000.0]
    monkeypatch.setattr(tokens, "monotonic", lambda: now[0])
    token = make_token("display")
    assert api.get("/sites/s1/state", token=token).status_code == 200
    with database.writes() as session:  # by hand: no process is told
        session.execute(update(ApiToken).values(revoked_at=datetime.now(UTC)))
        session.commit()
    assert api.get("/sites/s1/state", token=token).status_code == 200
    now[0] += tokens.TOKEN_CACHE_S + 0.1
    assert_problem(api.get("/sites/s1/state", token=token), 401, "unauthorized")


def test_the_scheme_is_case_insensitive(api: Api) -> None:
    response = api.client.get(
        f"{PREFIX}/sites/s1/state", headers={"Authorization": "bearer " + api.token}
    )
    assert response.status_code == 200


# --- 403 by role --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_routes(
    api: Api, database: Any, make_token: Any, role: str
) -> None:
    token = make_token(role, counter=1 if role == "tablet" else None)  # a tablet needs one
    api.issue("A")
    for op in OPERATIONS:
        before = snapshot(database)
        response = send(api.client, op, bearer(token))
        if op.staff_page and role in op.roles:  # a person signs in at a counter, not a token
            assert_problem(response, 403, "staff_login_required")
        elif role in op.roles:
            assert response.status_code not in (401, 403), (ids(op), response.get_json())
        else:
            assert_problem(response, 403, "forbidden")
            assert snapshot(database) == before, ids(op)


def test_display_only_reads(api: Api, make_token: Any) -> None:
    display = make_token("display")
    ticket = api.issue("A")
    assert api.get("/sites/s1/services", token=display).status_code == 200
    assert api.get("/sites/s1/state", token=display).status_code == 200
    assert api.get(f"/tickets/{ticket['id']}", token=display).status_code == 200
    assert_problem(api.post("/sites/s1/tickets", {"service": "A"}, token=display), 403, "forbidden")
    assert_problem(api.post("/sites/s1/counters/1/call-next", token=display), 403, "forbidden")


def test_kiosk_issues_but_cannot_call(api: Api, database: Any, make_token: Any) -> None:
    kiosk = make_token("kiosk")
    response = api.post("/sites/s1/tickets", {"service": "A"}, token=kiosk)
    assert response.status_code == 201
    before = snapshot(database)
    assert_problem(api.post("/sites/s1/counters/1/call-next", token=kiosk), 403, "forbidden")
    ticket_id = response.get_json()["id"]
    assert_problem(api.post(f"/sites/s1/tickets/{ticket_id}/cancel", token=kiosk), 403, "forbidden")
    assert snapshot(database) == before


@pytest.mark.parametrize("role", ["admin", "manager", "clerk"])
def test_staff_without_a_counter_act_for_every_counter(
    api: Api, make_token: Any, role: str
) -> None:
    token = make_token(role)
    api.issue("A")
    api.issue("B")
    assert api.act(1, "call-next", token=token)["service"] == "A"
    assert api.act(2, "call-next", token=token)["service"] == "B"


# --- counter-bound clerks --------------------------------------------------------------------


def test_a_clerk_of_counter_1_acts_only_for_counter_1(
    api: Api, database: Any, make_token: Any
) -> None:
    clerk = make_token("clerk", counter=1)
    api.issue("A")
    api.issue("B")
    before = snapshot(database)
    for action in ("call-next", "recall", "start", "finish", "no-show", "pause", "resume"):
        response = api.post(f"/sites/s1/counters/2/{action}", token=clerk)
        assert_problem(response, 403, "forbidden")
    response = api.post("/sites/s1/counters/2/call", {"ticket_id": 2}, token=clerk)
    assert_problem(response, 403, "forbidden")
    response = api.post("/sites/s1/counters/2/transfer", {"to_service": "A"}, token=clerk)
    assert_problem(response, 403, "forbidden")
    assert snapshot(database) == before

    called = api.act(1, "call-next", token=clerk)
    assert (called["service"], called["counter"]) == ("A", 1)
    # Sending a ticket on to another counter is the clerk's own action.
    moved = api.act(1, "transfer", {"to_counter": 2}, token=clerk)
    assert moved["target_counter"] == 2
    # The clerk can also call a ticket of another service to its own counter.
    assert api.act(1, "call", {"ticket_id": 2}, token=clerk)["counter"] == 1


def test_a_counter_bound_clerk_cannot_cancel_another_counters_ticket(
    api: Api, database: Any, make_token: Any
) -> None:
    clerk = make_token("clerk", counter=1)
    at_two = api.issue("B")
    api.act(2, "call-next")
    before = snapshot(database)
    assert_problem(
        api.post(f"/sites/s1/tickets/{at_two['id']}/cancel", token=clerk), 403, "forbidden"
    )
    assert snapshot(database) == before

    own = api.issue("A")
    api.act(1, "call-next", token=clerk)
    cancelled = api.post(f"/sites/s1/tickets/{own['id']}/cancel", token=clerk)
    assert cancelled.get_json()["status"] == "cancelled"
    waiting = api.issue("B")
    cancelled = api.post(f"/sites/s1/tickets/{waiting['id']}/cancel", token=clerk)
    assert cancelled.get_json()["status"] == "cancelled"
    # An unbound clerk may cancel it.
    unbound = make_token("clerk")
    cancelled = api.post(f"/sites/s1/tickets/{at_two['id']}/cancel", token=unbound)
    assert cancelled.get_json()["status"] == "cancelled"


# --- sites -----------------------------------------------------------------------------------


def test_a_token_of_one_site_cannot_act_on_another(
    api: Api, database: Any, make_token: Any
) -> None:
    with database.writes() as session:
        build_site(session, code="s2")
    s2 = Api(api.client, make_token("admin", site="s2"), site="s2")
    foreign = s2.issue("A")
    s2.act(1, "call-next")
    s2.issue("A")
    before = snapshot(database)
    for op in OPERATIONS:
        if "<site>" not in op.path:
            continue
        response = send(api.client, op, bearer(api.token), site="s2", ticket_id=foreign["id"])
        assert_problem(response, 403, "forbidden")
    assert snapshot(database) == before
    # Its own site's name does not help with another site's ticket either.
    response = api.post(f"/sites/s1/tickets/{foreign['id']}/cancel")
    assert_problem(response, 404, "ticket_not_found")
    assert snapshot(database) == before


def test_a_token_for_an_unknown_site_cannot_be_made(database: Any, make_token: Any) -> None:
    from server.engine import QueueError

    with pytest.raises(QueueError) as err:
        make_token("admin", site="nowhere")
    assert err.value.code == "site_not_found"
