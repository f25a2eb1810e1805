"""REST API: what a clerk does at a counter, and requeue / cancel of a ticket."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from server.api.schemas import CounterStateOut, TicketOut
from server.models import TicketEvent

from ..api_fixtures import Api, assert_problem
from ..factories import FakeClock, build_site, snapshot


@pytest.fixture
def api(client: Any, database: Any, make_token: Any) -> Api:
    """Site s1: services A and B, counter 1 serves A, counter 2 serves B; an admin token."""
    with database.writes() as session:
        build_site(session)
    return Api(client, make_token("admin"))


def log_kinds(database: Any, ticket_id: int) -> list[str]:
    with database.reads() as session:
        return list(
            session.execute(
                select(TicketEvent.kind)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.id)
            ).scalars()
        )


# --- call-next ---------------------------------------------------------------------------


def test_call_next_calls_the_first_waiting_ticket(api: Api, clock: FakeClock) -> None:
    first = api.issue("A")
    api.issue("A")
    clock.advance(minutes=3)
    called = api.act(1, "call-next")
    TicketOut.model_validate(called)
    assert called["id"] == first["id"]
    assert called["status"] == "called"
    assert called["counter"] == 1
    assert called["called_at"] == clock.now.isoformat()
    assert "tracking_token" not in called


def test_call_next_on_an_empty_queue_is_409_queue_empty(api: Api, database: Any) -> None:
    api.issue("B")  # waits for counter 2 only
    before = snapshot(database)
    problem = assert_problem(api.post("/sites/s1/counters/1/call-next"), 409, "queue_empty")
    assert problem["detail"] == "Không còn công dân nào đang chờ cho quầy này."
    assert snapshot(database) == before


def test_call_next_finishes_the_ticket_the_counter_held(api: Api) -> None:
    first = api.issue("A")
    second = api.issue("A")
    api.act(1, "call-next")
    api.act(1, "start")
    assert api.act(1, "call-next")["id"] == second["id"]
    assert api.ticket(first["id"])["status"] == "done"


def test_call_next_with_a_key_answers_a_retry_with_the_same_call(api: Api, database: Any) -> None:
    first = api.issue("A")
    api.issue("A")
    key = {"Idempotency-Key": "press-0001"}
    response = api.post("/sites/s1/counters/1/call-next", headers=key)
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    before = snapshot(database)
    again = api.post("/sites/s1/counters/1/call-next", headers=key)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first["id"] == response.get_json()["id"]
    assert snapshot(database) == before
    assert log_kinds(database, first["id"]) == ["issued", "called"]


def test_call_next_without_start_marks_the_ticket_absent(api: Api, database: Any) -> None:
    first = api.issue("A")
    second = api.issue("A")
    api.act(1, "call-next", headers={"Idempotency-Key": "press-0001"})
    assert api.act(1, "call-next", headers={"Idempotency-Key": "press-0002"})["id"] == second["id"]
    assert api.ticket(first["id"])["status"] == "no_show"
    assert log_kinds(database, first["id"]) == ["issued", "called", "no_show"]


def test_a_call_key_used_for_another_request_is_409(api: Api, database: Any) -> None:
    first = api.issue("A")
    second = api.issue("A")
    key = {"Idempotency-Key": "press-0001"}
    api.act(1, "call", {"ticket_id": first["id"]}, headers=key)
    before = snapshot(database)
    for path, body in (("call", {"ticket_id": second["id"]}), ("call-next", None)):
        response = api.post(f"/sites/s1/counters/1/{path}", body, headers=key)
        problem = assert_problem(response, 409, "idempotency_key_reused")
        assert problem["detail"] == "Khóa chống trùng đã được dùng cho một yêu cầu khác."
    assert_problem(
        api.post("/sites/s1/counters/1/call-next", headers={"Idempotency-Key": "no"}),
        422,
        "invalid_idempotency_key",
    )
    assert snapshot(database) == before
    again = api.post("/sites/s1/counters/1/call", {"ticket_id": first["id"]}, headers=key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"


def test_call_next_at_an_unknown_counter_is_404(api: Api) -> None:
    api.issue("A")
    assert_problem(api.post("/sites/s1/counters/9/call-next"), 404, "counter_not_found")


# --- call a given ticket -----------------------------------------------------------------


def test_call_a_given_ticket_out_of_order(api: Api) -> None:
    api.issue("A")
    b = api.issue("B")
    called = api.act(1, "call", {"ticket_id": b["id"]})
    assert (called["id"], called["status"], called["counter"]) == (b["id"], "called", 1)


def test_call_refusals(api: Api, database: Any) -> None:
    a = api.issue("A")
    api.act(2, "call", {"ticket_id": a["id"]})
    before = snapshot(database)
    assert_problem(
        api.post("/sites/s1/counters/1/call", {"ticket_id": 999}), 404, "ticket_not_found"
    )
    assert_problem(
        api.post("/sites/s1/counters/1/call", {"ticket_id": a["id"]}), 409, "invalid_transition"
    )
    assert_problem(api.post("/sites/s1/counters/1/call"), 422, "validation_error")
    assert snapshot(database) == before


# --- recall, start, finish -------------------------------------------------------------------


def test_recall_start_finish(api: Api, database: Any, clock: FakeClock) -> None:
    ticket = api.issue("A")
    api.act(1, "call-next")

    recalled = api.act(1, "recall")
    assert (recalled["status"], recalled["recall_count"]) == ("called", 1)
    assert api.act(1, "recall", {"ticket_id": ticket["id"]})["recall_count"] == 2

    clock.advance(minutes=1)
    started = api.act(1, "start")
    assert started["status"] == "serving"
    assert started["started_at"] == clock.now.isoformat()
    assert_problem(api.post("/sites/s1/counters/1/recall"), 409, "invalid_transition")

    clock.advance(minutes=5)
    done = api.act(1, "finish", {"dossier_code": "H01.2026-000123"})
    assert done["status"] == "done"
    assert done["dossier_code"] == "H01.2026-000123"
    assert done["finished_at"] == clock.now.isoformat()

    assert log_kinds(database, ticket["id"]) == [
        "issued",
        "called",
        "recalled",
        "recalled",
        "started",
        "finished",
    ]
    # The counter is free again.
    state = api.get("/sites/s1/state").get_json()
    assert state["counters"][0]["current"] is None


def test_finish_without_dossier_code_and_from_called(api: Api) -> None:
    api.issue("A")
    api.act(1, "call-next")
    done = api.act(1, "finish")
    assert (done["status"], done["dossier_code"]) == ("done", None)


def test_counter_actions_without_a_current_ticket(api: Api, database: Any) -> None:
    before = snapshot(database)
    for action in ("recall", "start", "finish", "no-show", "transfer"):
        body = {"to_service": "B"} if action == "transfer" else None
        response = api.post(f"/sites/s1/counters/1/{action}", body)
        assert_problem(response, 409, "counter_has_no_ticket")
    assert snapshot(database) == before


def test_invalid_dossier_code_is_refused(api: Api, database: Any) -> None:
    api.issue("A")
    api.act(1, "call-next")
    before = snapshot(database)
    response = api.post("/sites/s1/counters/1/finish", {"dossier_code": "ồ không?"})
    assert_problem(response, 422, "invalid_dossier_code")
    assert snapshot(database) == before


def test_acting_on_another_counters_ticket_is_409(api: Api, database: Any) -> None:
    a = api.issue("A")
    api.act(1, "call-next")
    before = snapshot(database)
    for action in ("recall", "start", "finish", "no-show"):
        response = api.post(f"/sites/s1/counters/2/{action}", {"ticket_id": a["id"]})
        assert_problem(response, 409, "ticket_at_other_counter")
    assert snapshot(database) == before


# --- no-show, requeue, cancel ---------------------------------------------------------------


def test_no_show_then_requeue_at_the_front(api: Api) -> None:
    first = api.issue("A")
    second = api.issue("A")
    api.act(1, "call-next")
    missed = api.act(1, "no-show")
    assert (missed["id"], missed["status"]) == (first["id"], "no_show")
    assert api.get("/sites/s1/state").get_json()["counters"][0]["current"] is None

    back = api.post(f"/sites/s1/tickets/{first['id']}/requeue", {"position": "front"})
    assert back.status_code == 200
    body = back.get_json()
    assert (body["status"], body["position"], body["number"]) == ("waiting", 1, "A001")
    assert api.ticket(second["id"])["position"] == 2
    assert api.act(1, "call-next")["id"] == first["id"]


def test_requeue_defaults_to_the_back(api: Api, clock: FakeClock) -> None:
    first = api.issue("A")
    api.issue("A")
    api.act(1, "call-next")
    api.act(1, "no-show")
    clock.advance(minutes=2)
    body = api.post(f"/sites/s1/tickets/{first['id']}/requeue").get_json()
    assert (body["status"], body["position"]) == ("waiting", 2)


def test_requeue_refusals(api: Api, database: Any) -> None:
    waiting = api.issue("A")
    before = snapshot(database)
    assert_problem(
        api.post(f"/sites/s1/tickets/{waiting['id']}/requeue"), 409, "invalid_transition"
    )
    assert_problem(api.post("/sites/s1/tickets/4242/requeue"), 404, "ticket_not_found")
    assert_problem(
        api.post(f"/sites/s1/tickets/{waiting['id']}/requeue", {"position": "middle"}),
        422,
        "validation_error",
    )
    assert snapshot(database) == before


def test_cancel(api: Api, database: Any) -> None:
    waiting = api.issue("A")
    called = api.issue("B")
    api.act(2, "call-next")

    body = api.post(f"/sites/s1/tickets/{waiting['id']}/cancel").get_json()
    assert body["status"] == "cancelled"
    body = api.post(f"/sites/s1/tickets/{called['id']}/cancel", {}).get_json()
    assert body["status"] == "cancelled"
    assert api.get("/sites/s1/state").get_json()["counters"][1]["current"] is None

    before = snapshot(database)
    assert_problem(api.post(f"/sites/s1/tickets/{waiting['id']}/cancel"), 409, "invalid_transition")
    assert_problem(api.post("/sites/s1/tickets/4242/cancel"), 404, "ticket_not_found")
    assert snapshot(database) == before


# --- transfer --------------------------------------------------------------------------------


def test_transfer_to_another_service_keeps_the_number(api: Api) -> None:
    ticket = api.issue("A")
    api.act(1, "call-next")
    moved = api.act(1, "transfer", {"to_service": "B"})
    assert (moved["id"], moved["number"]) == (ticket["id"], "A001")
    assert (moved["service"], moved["status"], moved["position"]) == ("B", "waiting", 1)
    assert api.get("/sites/s1/state").get_json()["counters"][0]["current"] is None
    assert api.act(2, "call-next")["id"] == ticket["id"]


def test_transfer_to_a_counter(api: Api) -> None:
    ticket = api.issue("A")
    api.act(1, "call-next")
    moved = api.act(1, "transfer", {"to_counter": 2, "position": "front"})
    assert (moved["status"], moved["target_counter"]) == ("waiting", 2)
    called = api.act(2, "call-next")
    assert (called["id"], called["counter"]) == (ticket["id"], 2)


def test_transfer_a_named_waiting_ticket(api: Api) -> None:
    ticket = api.issue("A")
    moved = api.act(1, "transfer", {"ticket_id": ticket["id"], "to_service": "B"})
    assert moved["service"] == "B"


def test_transfer_refusals(api: Api, database: Any) -> None:
    api.issue("A")
    api.act(1, "call-next")
    before = snapshot(database)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({}, 422, "transfer_target_required"),
        ({"to_service": "B", "to_counter": 2}, 422, "transfer_target_required"),
        ({"to_service": "NOPE"}, 404, "service_not_found"),
        ({"to_counter": 7}, 404, "counter_not_found"),
        ({"to_service": "B", "position": "middle"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        assert_problem(api.post("/sites/s1/counters/1/transfer", body), status, code)
    assert snapshot(database) == before


# --- pause, resume --------------------------------------------------------------------------


def test_pause_and_resume(api: Api, database: Any) -> None:
    api.issue("A")
    paused = api.act(1, "pause")
    CounterStateOut.model_validate(paused)
    assert (paused["counter"]["number"], paused["counter"]["status"]) == (1, "paused")

    before = snapshot(database)
    assert_problem(api.post("/sites/s1/counters/1/call-next"), 409, "counter_paused")
    assert_problem(api.post("/sites/s1/counters/1/pause"), 409, "counter_already_paused")
    assert snapshot(database) == before

    resumed = api.act(1, "resume")
    assert resumed["counter"]["status"] == "open"
    assert_problem(api.post("/sites/s1/counters/1/resume"), 409, "counter_already_open")
    assert api.act(1, "call-next")["number"] == "A001"


def test_pause_of_an_unknown_counter_is_404(api: Api) -> None:
    assert_problem(api.post("/sites/s1/counters/8/pause"), 404, "counter_not_found")
    assert_problem(api.post("/sites/s1/counters/0/resume"), 404, "counter_not_found")


def test_actions_record_who_acted(api: Api, database: Any, make_token: Any) -> None:
    clerk = Api(api.client, make_token("clerk", counter=1))
    ticket = api.issue("A")
    clerk.act(1, "call-next")
    with database.reads() as session:
        actors = list(
            session.execute(
                select(TicketEvent.actor)
                .where(TicketEvent.ticket_id == ticket["id"])
                .order_by(TicketEvent.id)
            ).scalars()
        )
    assert actors[0].startswith("admin#")
    assert actors[1].startswith("clerk:1#")
