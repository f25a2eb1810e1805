"""Published events: their names and payloads, only after commit, numbered by the site's seq."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from server import engine
from server.engine import UnitOfWork
from server.models import Site, Ticket

from ..factories import ServiceSpec, build_site, issue_later, refusal, site_seq, ticket_row

AB = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]
COUNTERS = {1: {"A": 1}, 2: {"A": 1}, 3: {"B": 1}}


@pytest.fixture
def site(database):
    with database.writes() as s:
        build_site(s, services=AB, counters=COUNTERS)


def names_of(published, call):
    """The names of the events one engine call publishes."""
    start = len(published.events)
    call()
    return [e.name for e in published.events[start:]]


# --- names -------------------------------------------------------------------------


def test_event_names_of_each_operation(database, uow, clock, published, site):
    assert names_of(published, lambda: issue_later(uow, clock)) == ["ticket.issued"]
    issue_later(uow, clock)
    issue_later(uow, clock)
    first_call = names_of(published, lambda: engine.call_next(uow(), "s1", 1))
    assert first_call == ["ticket.called", "counter.updated"]
    assert names_of(published, lambda: engine.recall(uow(), "s1", 1)) == ["ticket.called"]
    assert names_of(published, lambda: engine.start(uow(), "s1", 1)) == [
        "ticket.updated",
        "counter.updated",
    ]
    # The next call finishes the ticket being served first.
    assert names_of(published, lambda: engine.call_next(uow(), "s1", 1)) == [
        "ticket.updated",
        "ticket.called",
        "counter.updated",
    ]
    assert names_of(published, lambda: engine.no_show(uow(), "s1", 1)) == [
        "ticket.updated",
        "counter.updated",
    ]
    assert names_of(published, lambda: engine.requeue(uow(), "s1", 2)) == ["ticket.updated"]
    assert names_of(published, lambda: engine.transfer(uow(), "s1", 2, to_service="B")) == [
        "ticket.updated"
    ]
    engine.call_next(uow(), "s1", 2)
    clock.advance(minutes=1)
    assert names_of(
        published, lambda: engine.transfer(uow(), "s1", None, from_counter=2, to_counter=3)
    ) == ["ticket.updated", "counter.updated"]
    engine.call_next(uow(), "s1", 3)  # B's ticket 2, in line before ticket 3 came
    assert names_of(published, lambda: engine.finish(uow(), "s1", 3)) == [
        "ticket.updated",
        "counter.updated",
    ]
    assert ticket_row(database, 3).status == "waiting"  # still sent to counter 3
    assert names_of(published, lambda: engine.cancel(uow(), "s1", 3)) == ["ticket.updated"]
    assert names_of(published, lambda: engine.pause(uow(), "s1", 1)) == ["counter.updated"]
    assert names_of(published, lambda: engine.resume(uow(), "s1", 1)) == ["counter.updated"]


def test_updated_events_say_what_happened(uow, clock, published, site):
    for _ in range(3):
        issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    engine.finish(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 1)
    engine.no_show(uow(), "s1", 1)
    engine.requeue(uow(), "s1", 2)
    engine.transfer(uow(), "s1", 2, to_service="B")
    engine.cancel(uow(), "s1", 2)
    engine.call_next(uow(), "s1", 1)
    issue_later(uow, clock)
    engine.start(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 1)  # finishes ticket 3 on the way
    actions = [
        (e.payload["action"], e.payload["ticket"]["id"])
        for e in published.events
        if e.name == "ticket.updated"
    ]
    assert actions == [
        ("started", 1),
        ("finished", 1),
        ("no_show", 2),
        ("requeued", 2),
        ("transferred", 2),
        ("cancelled", 2),
        ("started", 3),
        ("finished", 3),
    ]


# --- payloads --------------------------------------------------------------------------


def test_issued_payload(uow, clock, published, site):
    issue_later(uow, clock, "A")
    issue_later(uow, clock, "B")
    t = issue_later(uow, clock, "A", priority="elderly")
    ev = published.events[-1]
    assert ev.name == "ticket.issued"
    assert (ev.site_code, ev.site_id) == ("s1", 1)
    ticket = ev.payload["ticket"]
    assert (ticket["id"], ticket["number"], ticket["priority"]) == (t["id"], "A002", "elderly")
    assert ticket["position"] == 1
    assert "tracking_token" not in ticket  # the token goes to the issuer only
    assert ev.payload["waiting"] == {"A": 2, "B": 1}
    message = ev.message()
    assert message["site"] == "s1"
    assert message["seq"] == ev.seq
    assert message["ticket"] == ticket


def test_called_payload(uow, clock, published, site):
    t = issue_later(uow, clock)
    issue_later(uow, clock)
    engine.call_next(uow(), "s1", 2)
    called, counter = published.events[-2:]
    assert called.payload["counter"] == 2
    assert called.payload["recall"] is False
    assert (called.payload["ticket"]["id"], called.payload["ticket"]["status"]) == (
        t["id"],
        "called",
    )
    assert called.payload["ticket"]["counter"] == 2
    assert called.payload["waiting"] == {"A": 1, "B": 0}
    current = counter.payload["counter"]
    assert (current["number"], current["status"], current["current"]["id"]) == (2, "open", t["id"])


def test_counter_payload_after_finish(uow, clock, published, site):
    issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.finish(uow(), "s1", 1)
    counter = published.events[-1]
    assert counter.name == "counter.updated"
    assert counter.payload["counter"]["current"] is None


def test_waiting_counts_follow_each_change(uow, clock, published, site):
    issue_later(uow, clock)
    issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.transfer(uow(), "s1", 2, to_service="B")
    waiting = [e.payload["waiting"] for e in published.events if "waiting" in e.payload]
    assert waiting == [{"A": 1, "B": 0}, {"A": 2, "B": 0}, {"A": 1, "B": 0}, {"A": 0, "B": 1}]


# --- after commit, and only then ----------------------------------------------------------


def test_events_are_published_after_commit(database, clock, site):
    """The publisher can already read, in a session of its own, what the events describe."""
    seen = []

    def publisher(events):
        with database.reads() as s:
            for ev in events:
                seq = s.execute(select(Site.seq).where(Site.id == ev.site_id)).scalar_one()
                ticket = ev.payload.get("ticket")
                status = s.get(Ticket, ticket["id"]).status if ticket else None
                seen.append((ev.name, ev.seq, seq, status, ticket and ticket["status"]))

    def uow():
        return UnitOfWork(database.writes, publisher, clock)

    engine.issue_ticket(uow(), "s1", "A")
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    assert seen == [
        ("ticket.issued", 1, 1, "waiting", "waiting"),
        ("ticket.called", 2, 3, "called", "called"),
        ("counter.updated", 3, 3, None, None),
        ("ticket.updated", 4, 5, "serving", "serving"),
        ("counter.updated", 5, 5, None, None),
    ]


def test_refusals_publish_nothing_and_keep_the_seq(database, uow, clock, published, site):
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    seq = site_seq(database)
    count = len(published.events)
    # queue_empty is found after the current ticket was finished in the same transaction.
    refusal(engine.call_next, uow(), "s1", 1)
    refusal(engine.start, uow(), "s1", 2)
    refusal(engine.cancel, uow(), "s1", 99)
    refusal(engine.finish, uow(), "s1", 1, dossier_code="bad code")
    refusal(engine.issue_ticket, uow(), "s1", "Z")
    refusal(engine.pause, uow(), "s1", 9)
    assert len(published.events) == count
    assert site_seq(database) == seq
    assert ticket_row(database, t["id"]).status == "called"
    engine.recall(uow(), "s1", 1)
    assert published.events[-1].seq == seq + 1


def test_replayed_issue_publishes_nothing(database, uow, clock, published, site):
    engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0001")
    seq = site_seq(database)
    count = len(published.events)
    assert engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0001").replayed
    assert len(published.events) == count
    assert site_seq(database) == seq


def test_a_failing_publisher_does_not_undo_the_change(database, clock, site, caplog):
    def broken(_events):
        raise ConnectionError("message queue down")

    with caplog.at_level(logging.ERROR):
        t = engine.issue_ticket(UnitOfWork(database.writes, broken, clock), "s1", "A").ticket
    assert ticket_row(database, t["id"]).status == "waiting"
    assert site_seq(database) == 1
    assert "publishing 1 events failed" in caplog.text


# --- seq ------------------------------------------------------------------------------------


def test_seq_rises_by_one_per_event_and_matches_the_site(database, uow, clock, published, site):
    issue_later(uow, clock)
    issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.recall(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 1)
    engine.pause(uow(), "s1", 2)
    seqs = [e.seq for e in published.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == 11
    assert site_seq(database) == seqs[-1]


def test_seq_is_counted_per_site(database, uow, clock, published):
    with database.writes() as s:
        build_site(s, "s1", services=AB, counters=COUNTERS)
        build_site(s, "s2", services=AB, counters=COUNTERS)
    issue_later(uow, clock, site="s1")
    issue_later(uow, clock, site="s2")
    issue_later(uow, clock, site="s2")
    engine.call_next(uow(), "s2", 1)
    issue_later(uow, clock, site="s1")
    engine.call_next(uow(), "s1", 1)
    by_site: dict[str, list[int]] = {}
    for ev in published.events:
        by_site.setdefault(ev.site_code, []).append(ev.seq)
    assert by_site == {"s1": [1, 2, 3, 4], "s2": [1, 2, 3, 4]}
    assert (site_seq(database, "s1"), site_seq(database, "s2")) == (4, 4)


def test_site_state_seq_is_the_last_published(database, uow, clock, published, site):
    issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    with database.reads() as s:
        assert engine.site_state(s, "s1", clock.now)["seq"] == published.events[-1].seq
