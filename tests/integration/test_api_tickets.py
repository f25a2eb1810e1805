"""REST API: services, issuing tickets (with idempotency), reading a ticket, the state snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from server.api.schemas import ServicesOut, StateOut, TicketOut
from server.models import DailySequence, Ticket, TicketEvent

from ..api_fixtures import PREFIX, Api, assert_problem, bearer
from ..factories import HCM_MORNING, FakeClock, ServiceSpec, build_site, snapshot


@pytest.fixture
def api(client: Any, database: Any, make_token: Any) -> Api:
    with database.writes() as session:
        build_site(session, staffed=True)
    return Api(client, make_token("admin"))


def count(database: Any, model: Any) -> int:
    with database.reads() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


# --- GET /sites/{site}/services -------------------------------------------------------


def test_services_lists_open_services_with_counts(api: Api) -> None:
    response = api.get("/sites/s1/services")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = ServicesOut.model_validate(response.get_json())
    assert [(s.code, s.state, s.open, s.waiting, s.issued_today) for s in body.services] == [
        ("A", "open", True, 0, 0),
        ("B", "open", True, 0, 0),
    ]
    assert body.services[0].estimated_wait_s == 0

    api.issue("A")
    api.issue("A")
    services = {s["code"]: s for s in api.get("/sites/s1/services").get_json()["services"]}
    assert services["A"]["waiting"] == 2
    assert services["A"]["issued_today"] == 2
    assert services["A"]["estimated_wait_s"] == 2 * 300  # default 300 s, one counter
    assert services["B"]["waiting"] == 0


def test_services_show_closed_full_and_hide_inactive(
    client: Any, database: Any, make_token: Any
) -> None:
    with database.writes() as session:
        build_site(
            session,
            services=[
                ServiceSpec("OPEN", prefix="A"),
                ServiceSpec("AFTERNOON", prefix="B", sessions=[{"start": "13:30", "end": "17:00"}]),
                ServiceSpec("CAPPED", prefix="C", cap=1),
                ServiceSpec("OFF", prefix="D", active=False),
            ],
            counters={1: {"OPEN": 1, "AFTERNOON": 1, "CAPPED": 1}},
        )
    api = Api(client, make_token("kiosk"))
    api.issue("CAPPED")
    services = api.get("/sites/s1/services").get_json()["services"]
    assert [(s["code"], s["state"], s["open"]) for s in services] == [
        ("OPEN", "open", True),
        ("AFTERNOON", "closed", False),
        ("CAPPED", "full", False),
    ]
    assert services[2]["daily_cap"] == 1


# --- POST /sites/{site}/tickets ---------------------------------------------------------


def test_issue_ticket_returns_201_with_the_ticket_and_location(api: Api) -> None:
    response = api.post("/sites/s1/tickets", {"service": "A"})
    assert response.status_code == 201
    ticket = response.get_json()
    TicketOut.model_validate(ticket)
    assert ticket["number"] == "A001"
    assert ticket["service"] == "A"
    assert ticket["status"] == "waiting"
    assert ticket["position"] == 1
    assert ticket["people_ahead"] == 0
    assert ticket["estimated_wait_s"] == 0
    assert ticket["issued_at"] == HCM_MORNING.isoformat()
    assert ticket["business_day"] == "2026-11-23"
    assert ticket["priority"] is None
    assert ticket["channel"] == "api"
    assert isinstance(ticket["tracking_token"], str) and len(ticket["tracking_token"]) >= 16
    assert isinstance(ticket["id"], int)
    assert response.headers["Location"] == f"{PREFIX}/tickets/{ticket['id']}"
    assert "Idempotent-Replayed" not in response.headers

    again = api.client.get(response.headers["Location"], headers=bearer(api.token))
    assert again.status_code == 200
    read = again.get_json()
    assert read["id"] == ticket["id"] and read["number"] == "A001"
    assert "tracking_token" not in read  # only the issuer gets it


def test_issue_numbers_follow_each_other_and_positions_grow(api: Api) -> None:
    first = api.issue("A")
    second = api.issue("A")
    other = api.issue("B")
    assert (first["number"], second["number"], other["number"]) == ("A001", "A002", "B001")
    assert second["position"] == 2 and second["people_ahead"] == 1
    assert second["estimated_wait_s"] == 300
    assert other["position"] == 1


def test_issue_with_priority_goes_first(api: Api) -> None:
    api.issue("A")
    elderly = api.issue("A", priority="elderly")
    assert elderly["priority"] == "elderly"
    assert elderly["position"] == 1
    called = api.act(1, "call-next")
    assert called["id"] == elderly["id"]


def test_kiosk_tickets_are_marked_with_the_kiosk_channel(api: Api, make_token: Any) -> None:
    response = api.post("/sites/s1/tickets", {"service": "A"}, token=make_token("kiosk"))
    assert response.status_code == 201
    assert response.get_json()["channel"] == "kiosk"


def test_same_idempotency_key_returns_the_same_ticket(api: Api, database: Any) -> None:
    headers = {"Idempotency-Key": "kiosk-1:tap-0001"}
    first = api.post("/sites/s1/tickets", {"service": "A"}, headers=headers)
    assert first.status_code == 201
    events = count(database, TicketEvent)

    replay = api.post("/sites/s1/tickets", {"service": "A"}, headers=headers)
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Location"] == first.headers["Location"]
    original, again = first.get_json(), replay.get_json()
    for field in ("id", "number", "tracking_token", "issued_at", "service"):
        assert again[field] == original[field]

    assert count(database, Ticket) == 1
    assert count(database, TicketEvent) == events
    with database.reads() as session:
        assert session.execute(select(DailySequence.last_seq)).scalar_one() == 1
    # No number was used up by the replay.
    assert api.issue("A")["number"] == "A002"


def test_idempotency_key_for_another_service_is_refused(api: Api, database: Any) -> None:
    headers = {"Idempotency-Key": "kiosk-1:tap-0002"}
    assert api.post("/sites/s1/tickets", {"service": "A"}, headers=headers).status_code == 201
    before = snapshot(database)
    response = api.post("/sites/s1/tickets", {"service": "B"}, headers=headers)
    assert_problem(response, 409, "idempotency_key_reused")
    assert snapshot(database) == before


@pytest.mark.parametrize("key", ["short", "x" * 129, "has space!", ""])
def test_malformed_idempotency_key_is_refused(api: Api, database: Any, key: str) -> None:
    before = snapshot(database)
    response = api.post("/sites/s1/tickets", {"service": "A"}, headers={"Idempotency-Key": key})
    assert_problem(response, 422, "invalid_idempotency_key")
    assert snapshot(database) == before


def test_issue_refusals_of_the_queue_rules(
    client: Any, database: Any, make_token: Any, clock: FakeClock
) -> None:
    with database.writes() as session:
        build_site(
            session,
            services=[
                ServiceSpec("AFTERNOON", prefix="B", sessions=[{"start": "13:30", "end": "17:00"}]),
                ServiceSpec("CAPPED", prefix="C", cap=1),
                ServiceSpec("OFF", prefix="D", active=False),
            ],
            counters={1: {"AFTERNOON": 1, "CAPPED": 1}},
        )
    api = Api(client, make_token("kiosk"))
    api.issue("CAPPED")
    before = snapshot(database)
    cases = [
        ("AFTERNOON", 409, "service_closed"),
        ("CAPPED", 409, "daily_cap_reached"),
        ("OFF", 409, "service_inactive"),
        ("NOPE", 404, "service_not_found"),
    ]
    for service, status, code in cases:
        problem = assert_problem(api.post("/sites/s1/tickets", {"service": service}), status, code)
        if code == "service_not_found":
            assert "NOPE" in problem["detail"]
    assert snapshot(database) == before

    clock.advance(hours=5)  # 14:00 local: the afternoon session is open
    assert api.issue("AFTERNOON")["number"] == "B001"


# --- GET /tickets/{id} --------------------------------------------------------------------


def test_get_ticket_follows_its_status(api: Api) -> None:
    first = api.issue("A")
    second = api.issue("A")
    assert api.ticket(second["id"])["position"] == 2
    api.act(1, "call-next")
    called = api.ticket(first["id"])
    assert called["status"] == "called"
    assert called["counter"] == 1
    assert called["position"] is None and called["estimated_wait_s"] is None
    TicketOut.model_validate(called)
    assert api.ticket(second["id"])["position"] == 1


def test_get_unknown_ticket_is_404(api: Api) -> None:
    assert_problem(api.get("/tickets/4242"), 404, "ticket_not_found")


def test_ticket_of_another_site_is_not_visible(api: Api, database: Any, make_token: Any) -> None:
    with database.writes() as session:
        build_site(session, code="s2")
    other = Api(api.client, make_token("admin", site="s2"), site="s2")
    foreign = other.issue("A")
    assert_problem(api.get(f"/tickets/{foreign['id']}"), 404, "ticket_not_found")
    assert other.ticket(foreign["id"])["number"] == "A001"


# --- GET /sites/{site}/state ------------------------------------------------------------


def test_state_snapshot(api: Api) -> None:
    state = api.get("/sites/s1/state")
    assert state.status_code == 200
    body = state.get_json()
    StateOut.model_validate(body)
    assert body["site"]["code"] == "s1"
    assert body["business_day"] == "2026-11-23"
    assert body["now"] == HCM_MORNING.isoformat()
    assert [c["number"] for c in body["counters"]] == [1, 2]
    assert all(c["status"] == "open" and c["current"] is None for c in body["counters"])
    assert body["recent_calls"] == []
    seq = body["seq"]

    ticket = api.issue("A")
    api.act(1, "call-next")
    body = api.get("/sites/s1/state").get_json()
    assert body["seq"] > seq
    assert body["counters"][0]["current"]["id"] == ticket["id"]
    assert [t["number"] for t in body["recent_calls"]] == ["A001"]
    assert {s["code"]: s["waiting"] for s in body["services"]} == {"A": 0, "B": 0}


def test_state_of_an_unknown_site_is_forbidden_for_a_token_of_another(api: Api) -> None:
    assert_problem(api.get("/sites/nowhere/state"), 403, "forbidden")


def test_issue_for_a_service_no_counter_serves_is_409(
    client: Any, database: Any, make_token: Any
) -> None:
    """Issue 9, item 4: a ticket G would never call is not given."""
    with database.writes() as session:
        build_site(session, counters={1: {"A": 1}})
    api = Api(client, make_token("admin"))
    before = snapshot(database)
    problem = assert_problem(
        api.post("/sites/s1/tickets", {"service": "B"}), 409, "service_unserved"
    )
    assert problem["detail"] == "Chưa có quầy phục vụ lĩnh vực này, nên chưa lấy số được."
    assert snapshot(database) == before
    services = {s["code"]: s for s in api.get("/sites/s1/services").get_json()["services"]}
    assert (services["B"]["state"], services["B"]["open"]) == ("unserved", False)
    assert (services["A"]["state"], services["A"]["estimated_wait_s"]) == ("open", None)
