"""A ticket's life at the counters: call, recall, start, finish, no-show, move, cancel."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
from sqlalchemy import select, update

from server import engine
from server.models import Counter, Site

from ..factories import (
    ServiceSpec,
    build_site,
    counter_ids,
    issue_later,
    refusal,
    snapshot,
    ticket_log,
    ticket_row,
)

AB = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]
# Counters 1 and 2 serve A, counter 3 serves B.
THREE_COUNTERS = {1: {"A": 1}, 2: {"A": 1}, 3: {"B": 1}}


@pytest.fixture
def site(database):
    with database.writes() as s:
        build_site(s, services=AB, counters=THREE_COUNTERS)


def counter_row(database, number):
    with database.reads() as s:
        return s.execute(select(Counter).where(Counter.number == number)).scalar_one()


def unchanged(database, published, call, *args, **kwargs):
    """The call is refused, and neither the database nor the published events change."""
    before = snapshot(database)
    events = len(published.events)
    err = refusal(call, *args, **kwargs)
    assert snapshot(database) == before
    assert len(published.events) == events
    return err


# --- call next ----------------------------------------------------------------------


def test_call_next_gives_the_ticket_to_the_counter(database, uow, clock, site):
    t = issue_later(uow, clock)
    clock.advance(minutes=3)
    called = engine.call_next(uow(), "s1", 1, actor="clerk-1")
    assert called["id"] == t["id"]
    assert called["status"] == "called"
    assert called["counter"] == 1
    assert called["called_at"] == clock.now.isoformat()
    assert called["position"] is None and called["estimated_wait_s"] is None
    row = ticket_row(database, t["id"])
    assert row.counter_id == counter_ids(database)[1]
    assert counter_row(database, 1).current_ticket_id == t["id"]


def set_unstarted_on_next(database, rule):
    with database.writes() as s:
        s.execute(update(Site).values(unstarted_on_next=rule))
        s.commit()


def test_next_call_marks_a_called_but_never_started_ticket_absent(database, uow, clock, site):
    """Issue 9, item 1: the citizen never came to the counter, so was not served."""
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    clock.advance(minutes=2)
    assert engine.call_next(uow(), "s1", 1, actor="clerk-1")["id"] == second["id"]
    row = ticket_row(database, first["id"])
    assert (row.status, row.finished_at) == ("no_show", None)
    assert counter_row(database, 1).current_ticket_id == second["id"]
    last = ticket_log(database, first["id"])[-1]
    assert (last.kind, last.from_status, last.to_status) == ("no_show", "called", "no_show")
    assert last.data == {"automatic": True}
    assert last.actor == "clerk-1"
    assert last.counter_id == counter_ids(database)[1]
    # it can be put back in line like any no-show
    assert engine.requeue(uow(), "s1", first["id"])["status"] == "waiting"


def test_next_call_can_put_a_called_ticket_back_at_the_front(database, uow, clock, published, site):
    set_unstarted_on_next(database, "requeue")
    first, second, third = issue_later(uow, clock), issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    # the ticket put back is passed by on this call, and is the next one after it
    assert engine.call_next(uow(), "s1", 1, actor="clerk-1")["id"] == second["id"]
    row = ticket_row(database, first["id"])
    assert (row.status, row.finished_at) == ("waiting", None)
    last = ticket_log(database, first["id"])[-1]
    assert (last.kind, last.from_status, last.to_status) == ("requeued", "called", "waiting")
    assert last.data == {"automatic": True, "position": "front"}
    assert published.events[-3].payload["action"] == "requeued"
    assert engine.call_next(uow(), "s1", 2)["id"] == first["id"]
    assert ticket_row(database, third["id"]).status == "waiting"


def test_next_call_never_calls_back_the_ticket_it_put_back(database, uow, clock, published, site):
    set_unstarted_on_next(database, "requeue")
    only = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    err = unchanged(database, published, engine.call_next, uow(), "s1", 1)
    assert err.code == "queue_empty"
    assert ticket_row(database, only["id"]).status == "called"


def test_next_call_finishes_a_started_ticket(database, uow, clock, site):
    first, _ = issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    clock.advance(minutes=2)
    engine.call_next(uow(), "s1", 1, actor="clerk-1")
    row = ticket_row(database, first["id"])
    assert (row.status, row.finished_at) == ("done", clock.now)
    last = ticket_log(database, first["id"])[-1]
    assert (last.kind, last.from_status, last.to_status) == ("finished", "serving", "done")
    assert last.data == {"automatic": True}
    assert last.actor == "clerk-1"


def test_next_call_finishes_the_ticket_being_served(database, uow, clock, site):
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 1)
    assert ticket_row(database, first["id"]).status == "done"
    assert ticket_log(database, first["id"])[-1].from_status == "serving"
    assert ticket_row(database, second["id"]).status == "called"


def test_next_call_leaves_other_counters_tickets_alone(database, uow, clock, site):
    first, second, third = issue_later(uow, clock), issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 2)
    engine.call_next(uow(), "s1", 1)
    assert ticket_row(database, first["id"]).status == "no_show"
    assert ticket_row(database, second["id"]).status == "called"
    assert ticket_row(database, third["id"]).status == "called"


def test_empty_queue_keeps_the_current_ticket(database, uow, clock, published, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    err = unchanged(database, published, engine.call_next, uow(), "s1", 1)
    assert (err.code, err.kind) == ("queue_empty", "conflict")
    assert err.params == {"counter": 1}
    assert ticket_row(database, t["id"]).status == "serving"
    assert counter_row(database, 1).current_ticket_id == t["id"]


def test_empty_queue_without_a_current_ticket(database, uow, published, site):
    err = unchanged(database, published, engine.call_next, uow(), "s1", 1)
    assert err.code == "queue_empty"


def test_paused_counter_cannot_call(database, uow, clock, published, site):
    t = issue_later(uow, clock)
    engine.pause(uow(), "s1", 1)
    assert unchanged(database, published, engine.call_next, uow(), "s1", 1).code == (
        "counter_paused"
    )
    err = unchanged(database, published, engine.call_ticket, uow(), "s1", 1, t["id"])
    assert err.code == "counter_paused"
    engine.resume(uow(), "s1", 1)
    assert engine.call_next(uow(), "s1", 1)["id"] == t["id"]


def test_paused_counter_keeps_its_ticket(database, uow, clock, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.pause(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).status == "called"
    assert counter_row(database, 1).current_ticket_id == t["id"]


# --- unknown and inactive counters, unknown sites and tickets --------------------------

COUNTER_ACTIONS = {
    "call_next": lambda u, n: engine.call_next(u, "s1", n),
    "call_ticket": lambda u, n: engine.call_ticket(u, "s1", n, 1),
    "recall": lambda u, n: engine.recall(u, "s1", n),
    "start": lambda u, n: engine.start(u, "s1", n),
    "finish": lambda u, n: engine.finish(u, "s1", n),
    "no_show": lambda u, n: engine.no_show(u, "s1", n),
    "pause": lambda u, n: engine.pause(u, "s1", n),
    "resume": lambda u, n: engine.resume(u, "s1", n),
    "transfer_from": lambda u, n: engine.transfer(u, "s1", None, from_counter=n, to_service="B"),
    "transfer_to": lambda u, n: engine.transfer(u, "s1", 1, to_counter=n),
}


def test_unknown_counter_is_not_found(database, uow, clock, published, site):
    issue_later(uow, clock)
    for action, call in COUNTER_ACTIONS.items():
        err = unchanged(database, published, call, uow(), 9)
        assert (err.code, err.kind, err.params) == (
            "counter_not_found",
            "not_found",
            {"counter": 9},
        ), action


def test_inactive_counter_is_not_found(database, uow, clock, published, site):
    issue_later(uow, clock)
    with database.writes() as s:
        s.execute(update(Counter).where(Counter.number == 2).values(active=False))
        s.commit()
    for action, call in COUNTER_ACTIONS.items():
        err = unchanged(database, published, call, uow(), 2)
        assert err.code == "counter_not_found", action


SITE_ACTIONS = {
    "issue": lambda u: engine.issue_ticket(u, "nowhere", "A"),
    "call_next": lambda u: engine.call_next(u, "nowhere", 1),
    "call_ticket": lambda u: engine.call_ticket(u, "nowhere", 1, 1),
    "recall": lambda u: engine.recall(u, "nowhere", 1),
    "start": lambda u: engine.start(u, "nowhere", 1),
    "finish": lambda u: engine.finish(u, "nowhere", 1),
    "no_show": lambda u: engine.no_show(u, "nowhere", 1),
    "requeue": lambda u: engine.requeue(u, "nowhere", 1),
    "transfer": lambda u: engine.transfer(u, "nowhere", 1, to_service="B"),
    "cancel": lambda u: engine.cancel(u, "nowhere", 1),
    "pause": lambda u: engine.pause(u, "nowhere", 1),
    "resume": lambda u: engine.resume(u, "nowhere", 1),
}


def test_unknown_site_is_not_found(database, uow, clock, published, site):
    issue_later(uow, clock)
    for action, call in SITE_ACTIONS.items():
        err = unchanged(database, published, call, uow())
        assert (err.code, err.kind) == ("site_not_found", "not_found"), action


TICKET_ACTIONS = {
    "call_ticket": lambda u, t: engine.call_ticket(u, "s1", 1, t),
    "recall": lambda u, t: engine.recall(u, "s1", 1, t),
    "start": lambda u, t: engine.start(u, "s1", 1, t),
    "finish": lambda u, t: engine.finish(u, "s1", 1, t),
    "no_show": lambda u, t: engine.no_show(u, "s1", 1, t),
    "requeue": lambda u, t: engine.requeue(u, "s1", t),
    "transfer": lambda u, t: engine.transfer(u, "s1", t, to_service="B"),
    "cancel": lambda u, t: engine.cancel(u, "s1", t),
}


def test_unknown_ticket_is_not_found(database, uow, clock, published, site):
    t = issue_later(uow, clock)
    for action, call in TICKET_ACTIONS.items():
        err = unchanged(database, published, call, uow(), t["id"] + 100)
        assert (err.code, err.kind) == ("ticket_not_found", "not_found"), action


def test_ticket_of_another_site_is_not_found(database, uow, clock, published):
    with database.writes() as s:
        build_site(s, "s1", services=AB, counters=THREE_COUNTERS)
        build_site(s, "s2", services=AB, counters=THREE_COUNTERS)
    clock.advance(minutes=1)
    other = engine.issue_ticket(uow(), "s2", "A").ticket
    for action, call in TICKET_ACTIONS.items():
        err = unchanged(database, published, call, uow(), other["id"])
        assert err.code == "ticket_not_found", action


# --- calling one ticket -----------------------------------------------------------------


def test_call_ticket_calls_out_of_order(database, uow, clock, site):
    first, _, third = issue_later(uow, clock), issue_later(uow, clock), issue_later(uow, clock)
    called = engine.call_ticket(uow(), "s1", 1, third["id"], actor="clerk-1")
    assert (called["id"], called["status"], called["counter"]) == (third["id"], "called", 1)
    assert counter_row(database, 1).current_ticket_id == third["id"]
    log = ticket_log(database, third["id"])[-1]
    assert (log.kind, log.from_status, log.to_status, log.actor) == (
        "called",
        "waiting",
        "called",
        "clerk-1",
    )
    assert engine.call_next(uow(), "s1", 1)["id"] == first["id"]
    assert ticket_row(database, third["id"]).status == "no_show"


def test_call_ticket_ends_the_current_ticket(database, uow, clock, site):
    first, second, third = issue_later(uow, clock), issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.call_ticket(uow(), "s1", 1, second["id"])
    assert ticket_row(database, first["id"]).status == "no_show"
    engine.start(uow(), "s1", 1)
    engine.call_ticket(uow(), "s1", 1, third["id"])
    assert ticket_row(database, second["id"]).status == "done"


def test_refused_call_ticket_keeps_the_current_ticket(database, uow, clock, published, site):
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 2)
    engine.call_next(uow(), "s1", 1)
    err = unchanged(database, published, engine.call_ticket, uow(), "s1", 1, first["id"])
    assert err.code == "invalid_transition"
    assert ticket_row(database, second["id"]).status == "called"


# --- recall -----------------------------------------------------------------------


def test_recall_counts_and_announces_again(database, uow, clock, published, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    published.events.clear()
    again = engine.recall(uow(), "s1", 1, actor="clerk-1")
    assert again["recall_count"] == 1
    assert engine.recall(uow(), "s1", 1, t["id"])["recall_count"] == 2
    assert ticket_row(database, t["id"]).recall_count == 2
    assert ticket_row(database, t["id"]).status == "called"
    assert published.names() == ["ticket.called", "ticket.called"]
    first = published.events[0].payload
    assert first["recall"] is True
    assert first["counter"] == 1
    assert first["ticket"]["number"] == "A001"
    log = [e for e in ticket_log(database, t["id"]) if e.kind == "recalled"]
    assert [(e.from_status, e.to_status, e.data) for e in log] == [
        ("called", "called", {"recall_count": 1}),
        ("called", "called", {"recall_count": 2}),
    ]
    assert log[0].actor == "clerk-1"


def test_first_call_is_not_a_recall(database, uow, clock, published, site):
    issue_later(uow, clock)
    published.events.clear()
    engine.call_next(uow(), "s1", 1)
    called = [e for e in published.events if e.name == "ticket.called"]
    assert len(called) == 1
    assert called[0].payload["recall"] is False
    assert called[0].payload["ticket"]["recall_count"] == 0


# --- start, finish, no-show ----------------------------------------------------------------


def test_start_serves_the_called_ticket(database, uow, clock, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    clock.advance(minutes=1)
    started = engine.start(uow(), "s1", 1, actor="clerk-1")
    assert (started["id"], started["status"]) == (t["id"], "serving")
    assert started["started_at"] == clock.now.isoformat()
    assert counter_row(database, 1).current_ticket_id == t["id"]


@pytest.mark.parametrize("serve_first", [True, False], ids=["serving", "called"])
def test_finish_stores_the_dossier_code_and_frees_the_counter(
    database, uow, clock, site, serve_first
):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    if serve_first:
        engine.start(uow(), "s1", 1)
    clock.advance(minutes=4)
    done = engine.finish(uow(), "s1", 1, dossier_code="000.00.12.H01-261123-0001")
    assert (done["id"], done["status"]) == (t["id"], "done")
    assert done["dossier_code"] == "000.00.12.H01-261123-0001"
    assert done["finished_at"] == clock.now.isoformat()
    row = ticket_row(database, t["id"])
    assert row.dossier_code == "000.00.12.H01-261123-0001"
    assert counter_row(database, 1).current_ticket_id is None
    log = ticket_log(database, t["id"])[-1]
    assert (log.kind, log.to_status) == ("finished", "done")
    assert log.from_status == ("serving" if serve_first else "called")
    assert log.data == {"dossier_code": "000.00.12.H01-261123-0001"}


def test_finish_without_dossier_code(database, uow, clock, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.finish(uow(), "s1", 1, t["id"])
    assert ticket_row(database, t["id"]).dossier_code is None


def test_valid_dossier_codes(database, uow, clock, site):
    for code in ["HS/2026_01", "a", "X" * 64, "12.34-56_78/9"]:
        t = issue_later(uow, clock)
        engine.call_next(uow(), "s1", 1)
        engine.finish(uow(), "s1", 1, dossier_code=code)
        assert ticket_row(database, t["id"]).dossier_code == code


def test_invalid_dossier_code_is_refused(database, uow, clock, published, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    for code in [
        "",
        " HS1",
        "HS 1",
        "-HS1",
        "HS1;DROP",
        "X" * 65,
        "hồsơ",
        "HS1\n",
        "X" * 64 + "\n",
    ]:
        err = unchanged(database, published, engine.finish, uow(), "s1", 1, dossier_code=code)
        assert (err.code, err.kind) == ("invalid_dossier_code", "invalid"), repr(code)
    assert ticket_row(database, t["id"]).status == "serving"


def test_counter_calls_again_after_finishing(database, uow, clock, site):
    issue_later(uow, clock)
    second = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.finish(uow(), "s1", 1)
    assert engine.call_next(uow(), "s1", 1)["id"] == second["id"]


def test_no_show_frees_the_counter(database, uow, clock, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    gone = engine.no_show(uow(), "s1", 1, actor="clerk-1")
    assert (gone["id"], gone["status"]) == (t["id"], "no_show")
    assert counter_row(database, 1).current_ticket_id is None
    log = ticket_log(database, t["id"])[-1]
    assert (log.kind, log.from_status, log.to_status) == ("no_show", "called", "no_show")
    assert refusal(engine.call_next, uow(), "s1", 1).code == "queue_empty"


# --- requeue --------------------------------------------------------------------------


def _no_show_first_of_three(uow, clock):
    tickets = [issue_later(uow, clock) for _ in range(3)]
    engine.call_next(uow(), "s1", 1)
    engine.no_show(uow(), "s1", 1)
    clock.advance(minutes=1)
    return tickets


def test_requeue_at_the_back(database, uow, clock, site):
    first, second, third = _no_show_first_of_three(uow, clock)
    back = engine.requeue(uow(), "s1", first["id"], position="back", actor="clerk-1")
    assert back["status"] == "waiting"
    assert (back["position"], back["people_ahead"]) == (3, 2)
    log = ticket_log(database, first["id"])[-1]
    assert (log.kind, log.from_status, log.to_status) == ("requeued", "no_show", "waiting")
    assert log.data == {"position": "back"}
    order = [engine.call_next(uow(), "s1", 1)["id"] for _ in range(3)]
    assert order == [second["id"], third["id"], first["id"]]


def test_requeue_goes_to_the_back_by_default(database, uow, clock, site):
    first, *_ = _no_show_first_of_three(uow, clock)
    assert engine.requeue(uow(), "s1", first["id"])["position"] == 3


def test_requeue_at_the_front(database, uow, clock, site):
    first, second, third = _no_show_first_of_three(uow, clock)
    front = engine.requeue(uow(), "s1", first["id"], position="front")
    assert (front["position"], front["people_ahead"]) == (1, 0)
    order = [engine.call_next(uow(), "s1", 1)["id"] for _ in range(3)]
    assert order == [first["id"], second["id"], third["id"]]


def test_second_front_requeue_goes_before_the_first(database, uow, clock, site):
    first, second, _third = _no_show_first_of_three(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.no_show(uow(), "s1", 1)
    engine.requeue(uow(), "s1", first["id"], position="front")
    again = engine.requeue(uow(), "s1", second["id"], position="front")
    assert again["position"] == 1
    assert engine.call_next(uow(), "s1", 1)["id"] == second["id"]
    assert engine.call_next(uow(), "s1", 1)["id"] == first["id"]


def test_requeue_at_an_unknown_position_is_refused(database, uow, clock, published, site):
    first, *_ = _no_show_first_of_three(uow, clock)
    err = unchanged(database, published, engine.requeue, uow(), "s1", first["id"], position="mid")
    assert (err.code, err.kind) == ("invalid_position", "invalid")


# --- transfer -------------------------------------------------------------------------


def test_transfer_to_another_service_keeps_the_number(database, uow, clock, site):
    t = issue_later(uow, clock, "A")
    issue_later(uow, clock, "B")
    issue_later(uow, clock, "B")
    engine.call_next(uow(), "s1", 1)
    clock.advance(minutes=1)
    moved = engine.transfer(uow(), "s1", None, from_counter=1, to_service="B", actor="clerk-1")
    assert moved["id"] == t["id"]
    assert moved["number"] == "A001"
    assert moved["service"] == "B"
    assert moved["status"] == "waiting"
    assert (moved["position"], moved["people_ahead"]) == (3, 2)
    row = ticket_row(database, t["id"])
    assert row.issued_service_id != row.service_id
    assert counter_row(database, 1).current_ticket_id is None
    log = ticket_log(database, t["id"])[-1]
    assert (log.kind, log.from_status, log.to_status, log.actor) == (
        "transferred",
        "called",
        "waiting",
        "clerk-1",
    )
    assert log.counter_id == counter_ids(database)[1]
    assert log.data == {"to_service": "B", "to_counter": None, "position": "back"}
    assert refusal(engine.call_next, uow(), "s1", 1).code == "queue_empty"
    order = [engine.call_next(uow(), "s1", 3)["number"] for _ in range(3)]
    assert order == ["B001", "B002", "A001"]


def test_transfer_to_the_front_of_another_service(database, uow, clock, published, site):
    t = issue_later(uow, clock, "A")
    issue_later(uow, clock, "B")
    issue_later(uow, clock, "B")
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    published.events.clear()
    moved = engine.transfer(uow(), "s1", t["id"], to_service="B", position="front")
    assert (moved["position"], moved["people_ahead"]) == (1, 0)
    assert ticket_log(database, t["id"])[-1].from_status == "serving"
    assert counter_row(database, 1).current_ticket_id is None
    assert published.names() == ["ticket.updated", "counter.updated"]
    assert published.events[1].payload["counter"] == {
        "number": 1,
        "name": "Quầy 1",
        "status": "open",
        "active": True,
        "current": None,
        "clerk": None,
    }
    order = [engine.call_next(uow(), "s1", 3)["number"] for _ in range(3)]
    assert order == ["A001", "B001", "B002"]


def test_transfer_a_waiting_ticket(database, uow, clock, site):
    t = issue_later(uow, clock, "A")
    moved = engine.transfer(uow(), "s1", t["id"], to_service="B")
    assert (moved["service"], moved["status"]) == ("B", "waiting")
    assert ticket_log(database, t["id"])[-1].from_status == "waiting"
    assert refusal(engine.call_next, uow(), "s1", 1).code == "queue_empty"
    assert engine.call_next(uow(), "s1", 3)["number"] == "A001"


def test_transfer_to_a_counter(database, uow, clock, site):
    t = issue_later(uow, clock, "A")
    engine.call_next(uow(), "s1", 1)
    moved = engine.transfer(uow(), "s1", None, from_counter=1, to_counter=3)
    assert (moved["status"], moved["service"], moved["target_counter"]) == ("waiting", "A", 3)
    assert ticket_row(database, t["id"]).target_counter_id == counter_ids(database)[3]
    assert counter_row(database, 1).current_ticket_id is None
    assert ticket_log(database, t["id"])[-1].data == {
        "to_service": None,
        "to_counter": 3,
        "position": "back",
    }
    assert refusal(engine.call_next, uow(), "s1", 2).code == "queue_empty"
    called = engine.call_next(uow(), "s1", 3)
    assert (called["id"], called["target_counter"]) == (t["id"], None)


def test_transfer_to_a_service_clears_the_counter_target(database, uow, clock, site):
    t = issue_later(uow, clock, "A")
    engine.transfer(uow(), "s1", t["id"], to_counter=2)
    engine.transfer(uow(), "s1", t["id"], to_service="B")
    assert ticket_row(database, t["id"]).target_counter_id is None
    assert engine.call_next(uow(), "s1", 3)["id"] == t["id"]


TRANSFER_REFUSALS = [
    ({"to_service": "B", "to_counter": 3}, "transfer_target_required", "invalid"),
    ({}, "transfer_target_required", "invalid"),
    ({"ticket": None, "to_service": "B"}, "transfer_ticket_required", "invalid"),
    ({"to_service": "Z"}, "service_not_found", "not_found"),
    ({"to_counter": 9}, "counter_not_found", "not_found"),
    ({"to_service": "B", "position": "middle"}, "invalid_position", "invalid"),
    ({"ticket": None, "from_counter": 2, "to_service": "B"}, "counter_has_no_ticket", "conflict"),
]


@pytest.mark.parametrize(
    ("kwargs", "code", "kind"), TRANSFER_REFUSALS, ids=[c for _, c, _ in TRANSFER_REFUSALS]
)
def test_refused_transfer_changes_nothing(
    database, uow, clock, published, site, kwargs, code, kind
):
    t = issue_later(uow, clock, "A")
    engine.call_next(uow(), "s1", 1)
    kwargs = dict(kwargs)
    ticket_id = kwargs.pop("ticket", t["id"])
    err = unchanged(database, published, engine.transfer, uow(), "s1", ticket_id, **kwargs)
    assert (err.code, err.kind) == (code, kind)
    assert ticket_row(database, t["id"]).status == "called"


# --- cancel ----------------------------------------------------------------------------


def test_cancel_a_waiting_ticket(database, uow, clock, site):
    t = issue_later(uow, clock)
    gone = engine.cancel(uow(), "s1", t["id"], actor="citizen")
    assert gone["status"] == "cancelled"
    log = ticket_log(database, t["id"])[-1]
    assert (log.kind, log.from_status, log.to_status, log.actor) == (
        "cancelled",
        "waiting",
        "cancelled",
        "citizen",
    )
    assert refusal(engine.call_next, uow(), "s1", 1).code == "queue_empty"


def test_cancel_a_called_ticket_frees_its_counter(database, uow, clock, published, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    published.events.clear()
    engine.cancel(uow(), "s1", t["id"])
    assert counter_row(database, 1).current_ticket_id is None
    assert published.names() == ["ticket.updated", "counter.updated"]
    assert published.events[1].payload["counter"]["current"] is None


def test_cancel_a_no_show(database, uow, clock, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.no_show(uow(), "s1", 1)
    assert engine.cancel(uow(), "s1", t["id"])["status"] == "cancelled"
    assert refusal(engine.requeue, uow(), "s1", t["id"]).code == "invalid_transition"


# --- every transition a status does not allow --------------------------------------------

ALLOWED = {
    "call_ticket": {"waiting"},
    "recall": {"called"},
    "start": {"called"},
    "finish": {"called", "serving"},
    "no_show": {"called"},
    "requeue": {"no_show"},
    "transfer": {"waiting", "called", "serving"},
    "cancel": {"waiting", "called", "no_show"},
}
STATUSES = ["waiting", "called", "serving", "done", "no_show", "cancelled"]


def _ticket_in(uow, clock, status):
    """A ticket of service A in the given status, at counter 1 if it went there."""
    t = issue_later(uow, clock)
    if status == "cancelled":
        engine.cancel(uow(), "s1", t["id"])
    elif status != "waiting":
        engine.call_next(uow(), "s1", 1)
        if status in ("serving", "done"):
            engine.start(uow(), "s1", 1)
        if status == "done":
            engine.finish(uow(), "s1", 1)
        if status == "no_show":
            engine.no_show(uow(), "s1", 1)
    return t["id"]


ALLOWED_PAIRS = [(a, s) for a in TICKET_ACTIONS for s in STATUSES if s in ALLOWED[a]]


@pytest.mark.parametrize("status", STATUSES)
def test_transitions_a_status_does_not_allow(database, uow, clock, published, site, status):
    ticket_id = _ticket_in(uow, clock, status)
    assert ticket_row(database, ticket_id).status == status
    refused = [a for a in TICKET_ACTIONS if status not in ALLOWED[a]]
    assert refused
    for action in refused:
        err = unchanged(database, published, TICKET_ACTIONS[action], uow(), ticket_id)
        assert (err.code, err.kind) == ("invalid_transition", "conflict"), action
        assert err.params["status"] == status


@pytest.mark.parametrize(("action", "status"), ALLOWED_PAIRS)
def test_transitions_a_status_allows(database, uow, clock, site, action, status):
    ticket_id = _ticket_in(uow, clock, status)
    logged = len(ticket_log(database, ticket_id))
    TICKET_ACTIONS[action](uow(), ticket_id)
    log = ticket_log(database, ticket_id)
    assert len(log) == logged + 1
    assert log[-1].from_status == status


# --- the counter that holds the ticket -----------------------------------------------------

HELD_ACTIONS = {
    "recall": lambda u, n, t: engine.recall(u, "s1", n, t),
    "start": lambda u, n, t: engine.start(u, "s1", n, t),
    "finish": lambda u, n, t: engine.finish(u, "s1", n, t),
    "no_show": lambda u, n, t: engine.no_show(u, "s1", n, t),
    "transfer": lambda u, n, t: engine.transfer(u, "s1", t, from_counter=n, to_service="B"),
}


@pytest.mark.parametrize("action", HELD_ACTIONS)
def test_ticket_at_another_counter_is_refused(database, uow, clock, published, site, action):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    err = unchanged(database, published, HELD_ACTIONS[action], uow(), 2, t["id"])
    assert (err.code, err.params) == ("ticket_at_other_counter", {"ticket": t["id"]})
    assert counter_row(database, 1).current_ticket_id == t["id"]


@pytest.mark.parametrize("action", HELD_ACTIONS)
def test_counter_without_a_ticket_is_refused(database, uow, clock, published, site, action):
    issue_later(uow, clock)
    err = unchanged(database, published, HELD_ACTIONS[action], uow(), 1, None)
    assert (err.code, err.params) == ("counter_has_no_ticket", {"counter": 1})


@pytest.mark.parametrize("action", ["recall", "start", "finish", "no_show"])
def test_counter_actions_apply_to_the_counters_current_ticket(database, uow, clock, site, action):
    issue_later(uow, clock)
    mine = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 2)
    engine.call_next(uow(), "s1", 1)
    result = HELD_ACTIONS[action](uow(), 1, None)
    assert result["id"] == mine["id"]


# --- pause and resume -----------------------------------------------------------------------


def test_pause_and_resume(database, uow, clock, published, site):
    published.events.clear()
    paused = engine.pause(uow(), "s1", 1, actor="clerk-1")
    assert paused["status"] == "paused"
    assert counter_row(database, 1).status == "paused"
    err = unchanged(database, published, engine.pause, uow(), "s1", 1)
    assert (err.code, err.kind) == ("counter_already_paused", "conflict")
    opened = engine.resume(uow(), "s1", 1, actor="clerk-1")
    assert opened["status"] == "open"
    err = unchanged(database, published, engine.resume, uow(), "s1", 1)
    assert err.code == "counter_already_open"
    assert published.names() == ["counter.updated", "counter.updated"]
    assert [e.payload["counter"]["status"] for e in published.events] == ["paused", "open"]
    log = ticket_log(database)
    assert [(e.kind, e.from_status, e.to_status, e.ticket_id, e.actor) for e in log] == [
        ("counter_paused", "open", "paused", None, "clerk-1"),
        ("counter_open", "paused", "open", None, "clerk-1"),
    ]
    assert {e.counter_id for e in log} == {counter_ids(database)[1]}


def test_paused_counter_leaves_its_queue_to_the_others(database, uow, clock, site):
    t = issue_later(uow, clock)
    engine.pause(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).status == "waiting"
    assert engine.call_next(uow(), "s1", 2)["id"] == t["id"]


# --- the event log --------------------------------------------------------------------------


def test_event_log_has_one_row_per_transition(database, uow, clock, site):
    t = issue_later(uow, clock)
    ids = counter_ids(database)
    engine.call_next(uow(), "s1", 1, actor="clerk-1")
    engine.recall(uow(), "s1", 1, actor="clerk-1")
    engine.no_show(uow(), "s1", 1, actor="clerk-1")
    engine.requeue(uow(), "s1", t["id"], position="front", actor="manager")
    engine.call_next(uow(), "s1", 2, actor="clerk-2")
    engine.start(uow(), "s1", 2, actor="clerk-2")
    engine.transfer(uow(), "s1", None, from_counter=2, to_service="B", actor="clerk-2")
    engine.call_next(uow(), "s1", 3, actor="clerk-3")
    engine.finish(uow(), "s1", 3, actor="clerk-3")
    rows = [
        (e.kind, e.from_status, e.to_status, e.actor, e.counter_id)
        for e in ticket_log(database, t["id"])
    ]
    assert rows == [
        ("issued", None, "waiting", "", None),
        ("called", "waiting", "called", "clerk-1", ids[1]),
        ("recalled", "called", "called", "clerk-1", ids[1]),
        ("no_show", "called", "no_show", "clerk-1", ids[1]),
        ("requeued", "no_show", "waiting", "manager", ANY),  # not done at a counter
        ("called", "waiting", "called", "clerk-2", ids[2]),
        ("started", "called", "serving", "clerk-2", ids[2]),
        ("transferred", "serving", "waiting", "clerk-2", ids[2]),
        ("called", "waiting", "called", "clerk-3", ids[3]),
        ("finished", "called", "done", "clerk-3", ids[3]),
    ]


def test_event_log_times_follow_the_clock(database, uow, clock, site):
    t = issue_later(uow, clock)
    issued_at = clock.now
    clock.advance(minutes=5)
    engine.call_next(uow(), "s1", 1)
    called_at = clock.now
    clock.advance(minutes=7)
    engine.finish(uow(), "s1", 1)
    assert [e.at for e in ticket_log(database, t["id"])] == [issued_at, called_at, clock.now]
    row = ticket_row(database, t["id"])
    assert (row.issued_at, row.called_at, row.finished_at) == (issued_at, called_at, clock.now)


def test_refusals_write_no_log_rows(database, uow, clock, site):
    t = issue_later(uow, clock)
    before = ticket_log(database)
    for call in (
        lambda: engine.start(uow(), "s1", 1, t["id"]),
        lambda: engine.finish(uow(), "s1", 1),
        lambda: engine.requeue(uow(), "s1", t["id"]),
        lambda: engine.call_next(uow(), "s1", 3),
        lambda: engine.resume(uow(), "s1", 1),
    ):
        refusal(call)
    assert [e.id for e in ticket_log(database)] == [e.id for e in before]
