"""Calls safe to retry (issue 9, item 1): the same Idempotency-Key answers the same call.

A clerk whose answer was lost (a dropped connection, a restart) presses again, or the page
sends the press again: the ticket just called must not be ended by its own retry.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import engine
from server.models import CallKey

from ..factories import (
    ServiceSpec,
    build_site,
    issue_later,
    refusal,
    snapshot,
    ticket_log,
    ticket_row,
)

KEY = "press-0001-abcdef"


@pytest.fixture
def site(database):
    with database.writes() as s:
        build_site(s, services=[ServiceSpec("A", prefix="A")], counters={1: {"A": 1}, 2: {"A": 1}})


def test_a_retried_call_next_returns_the_same_call_and_changes_nothing(
    database, uow, clock, published, site
):
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    called = engine.call_next(uow(), "s1", 1, idempotency_key=KEY)
    assert (called["id"], called.replayed) == (first["id"], False)
    before, events = snapshot(database), len(published.events)
    clock.advance(seconds=5)
    again = engine.call_next(uow(), "s1", 1, idempotency_key=KEY)
    assert (again["id"], again["status"], again["counter"], again.replayed) == (
        first["id"],
        "called",
        1,
        True,
    )
    assert snapshot(database) == before and len(published.events) == events
    assert ticket_row(database, second["id"]).status == "waiting"
    # a new press (another key) goes on as usual
    assert engine.call_next(uow(), "s1", 1, idempotency_key=KEY + "-2")["id"] == second["id"]
    assert ticket_row(database, first["id"]).status == "no_show"


def test_the_key_is_written_with_the_call(database, uow, clock, site):
    ticket = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1, idempotency_key=KEY)
    with database.reads() as s:
        row = s.execute(select(CallKey)).scalar_one()
    assert (row.key, row.ticket_id, row.request) == (KEY, ticket["id"], "next")
    # a refused call keeps no key: the next press with it is a new call
    refusal(engine.call_next, uow(), "s1", 1, idempotency_key="other-key-0001")
    with database.reads() as s:
        assert s.execute(select(CallKey.key)).scalars().all() == [KEY]


def test_a_replay_shows_the_ticket_as_it_now_stands(database, uow, clock, site):
    ticket = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1, idempotency_key=KEY)
    engine.start(uow(), "s1", 1)
    again = engine.call_next(uow(), "s1", 1, idempotency_key=KEY)
    assert (again["id"], again["status"], again.replayed) == (ticket["id"], "serving", True)
    assert ticket_row(database, ticket["id"]).status == "serving"
    # even after the counter paused, a retry of the call made before answers that call
    engine.pause(uow(), "s1", 1)
    assert engine.call_next(uow(), "s1", 1, idempotency_key=KEY).replayed


def test_a_retried_call_of_one_ticket(database, uow, clock, published, site):
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    called = engine.call_ticket(uow(), "s1", 1, second["id"], idempotency_key=KEY)
    assert (called["id"], called.replayed) == (second["id"], False)
    before = snapshot(database)
    again = engine.call_ticket(uow(), "s1", 1, second["id"], idempotency_key=KEY)
    assert (again["id"], again.replayed) == (second["id"], True)
    assert snapshot(database) == before
    assert ticket_row(database, first["id"]).status == "waiting"


@pytest.mark.parametrize("other", ["another ticket", "call-next", "another counter"])
def test_the_same_key_for_another_request_is_refused(database, uow, clock, published, other, site):
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    engine.call_ticket(uow(), "s1", 1, first["id"], idempotency_key=KEY)
    before, events = snapshot(database), len(published.events)
    if other == "another ticket":
        err = refusal(engine.call_ticket, uow(), "s1", 1, second["id"], idempotency_key=KEY)
    elif other == "call-next":
        err = refusal(engine.call_next, uow(), "s1", 1, idempotency_key=KEY)
    else:
        err = refusal(engine.call_next, uow(), "s1", 2, idempotency_key=KEY)
    assert err.code == "idempotency_key_reused"
    assert snapshot(database) == before and len(published.events) == events


@pytest.mark.parametrize("key", ["short", "x" * 129, "bad key with spaces", "ký-tự-lạ-0001"])
def test_a_malformed_key_is_refused(database, uow, clock, key, site):
    issue_later(uow, clock)
    before = snapshot(database)
    assert refusal(engine.call_next, uow(), "s1", 1, idempotency_key=key).code == (
        "invalid_idempotency_key"
    )
    assert snapshot(database) == before


def test_pressing_call_next_twice_does_not_serve_the_first_citizen(database, uow, clock, site):
    """The double press of issue 9: the second press (its own key) is a new call, and the
    ticket called 3 s before is not counted as served."""
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1, idempotency_key=KEY)
    clock.advance(seconds=3)
    engine.call_next(uow(), "s1", 1, idempotency_key=KEY + "-again")
    row = ticket_row(database, first["id"])
    assert (row.status, row.finished_at) == ("no_show", None)
    assert [e.kind for e in ticket_log(database, first["id"])] == ["issued", "called", "no_show"]
    assert ticket_row(database, second["id"]).status == "called"
