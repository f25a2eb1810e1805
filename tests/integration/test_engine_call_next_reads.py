"""What call-next reads and writes: one read of what it needs, counts kept, no re-reads.

Call-next reads the site, the counter, its ticket, the key's call and the waiting counts in
one statement, and keeps the counts itself as it ends one ticket and claims another; the
events must still carry the counts as they stand after each change, in any time zone.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, update

from server import engine
from server.engine import views
from server.models import Site
from server.timeutil import business_day

from ..factories import ServiceSpec, build_site
from ..factories import issue_later as issue

AB = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]
# Counter 1 calls A; counter 2 serves B (so B takes numbers) and stays idle.
COUNTERS = {1: {"A": 1}, 2: {"B": 1}}


def waiting_now(database, clock):
    with database.reads() as s:
        site = views.site_by_code(s, "s1")
        return views.waiting_by_code(s, site, business_day(clock(), site.timezone))


def counts_of(published, name=None):
    return [
        (e.name, e.payload.get("action"), e.payload["waiting"])
        for e in published.events
        if "waiting" in e.payload and (name is None or e.name == name)
    ]


@pytest.mark.parametrize(
    ("rule", "ended"), [("no_show", "no_show"), ("requeue", "requeued"), ("serving", "finished")]
)
def test_call_next_events_carry_the_counts_after_each_change(
    database, uow, clock, published, rule, ended
):
    with database.writes() as s:
        build_site(s, services=AB, counters=COUNTERS)
        if rule != "serving":
            s.execute(update(Site).values(unstarted_on_next=rule))
        s.commit()
    first, second = issue(uow, clock), issue(uow, clock)
    issue(uow, clock, "B")
    engine.call_next(uow(), "s1", 1)
    if rule == "serving":
        engine.start(uow(), "s1", 1)
    published.events.clear()
    called = engine.call_next(uow(), "s1", 1)
    assert called["id"] == second["id"]
    after_end = {"A": 2, "B": 1} if rule == "requeue" else {"A": 1, "B": 1}
    after_call = {"A": after_end["A"] - 1, "B": 1}
    assert counts_of(published) == [
        ("ticket.updated", ended, after_end),
        ("ticket.called", None, after_call),
    ]
    assert waiting_now(database, clock) == after_call
    assert first["id"] != called["id"]


def test_counts_are_the_sites_own_day_in_a_zone_far_from_vietnam(database, uow, clock, published):
    """09:00 in Hà Nội is still the day before in Los Angeles: the counts read are that
    site's business day, also when the last site of that code lived in another zone."""
    with database.writes() as s:
        build_site(s, services=AB, counters=COUNTERS, timezone="America/Los_Angeles")
    assert business_day(clock(), "America/Los_Angeles") != business_day(clock(), "Asia/Ho_Chi_Minh")
    for _ in range(3):
        issue(uow, clock)
    issue(uow, clock, "B")
    engine.call_next(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 1)
    assert counts_of(published, "ticket.called") == [
        ("ticket.called", None, {"A": 2, "B": 1}),
        ("ticket.called", None, {"A": 1, "B": 1}),
    ]
    assert waiting_now(database, clock) == {"A": 1, "B": 1}


@contextmanager
def statements(database):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(" ".join(statement.split()))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


def before_commit_work(seen):
    """The statements of the use case itself: those before the events are numbered and
    logged (the numbers, the log and the hub's outbox come after, at commit)."""
    commit_work = ("INSERT INTO ticket_events", "UPDATE sites SET seq")  # the events' numbers
    upto = next(i for i, s in enumerate(seen) if s.startswith(commit_work))
    return seen[:upto]


@pytest.mark.parametrize("key", [None, "press-0001"])
def test_call_next_reads_once_and_reads_nothing_back(database, uow, clock, key):
    """One read (site, counter, its ticket, the key's call, the counts), the end of the
    counter's ticket, the candidates, the claim (RETURNING the row), the counter, the key."""
    with database.writes() as s:
        build_site(s, services=AB, counters=COUNTERS)
    for _ in range(3):
        issue(uow, clock)
    engine.call_next(uow(), "s1", 1)
    with statements(database) as seen:
        engine.call_next(uow(), "s1", 1, idempotency_key=key)
    work = before_commit_work(seen)
    kinds = [
        " ".join(s.split()[:3]) if s.startswith(("UPDATE", "INSERT")) else "SELECT" for s in work
    ]
    assert kinds == [
        "SELECT",  # site, counter, clerk, weights, its ticket, the key's call, the counts
        "UPDATE tickets SET",  # the counter's ticket ended (absent)
        "SELECT",  # the candidates
        "UPDATE tickets SET",  # the claim, RETURNING the row
        *(["INSERT INTO call_keys"] if key else []),
        "UPDATE counters SET",  # the counter holds the new ticket
    ], work
    # A retry with the key is answered from that same first read.
    if key:
        with statements(database) as seen:
            replay = engine.call_next(uow(), "s1", 1, idempotency_key=key)
        assert replay.replayed
        assert len(seen) <= 2, seen  # the read, and the ticket it names
