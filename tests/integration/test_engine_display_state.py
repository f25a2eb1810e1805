"""What the displays start from (``site_state``): the last calls, what each counter serves.

A citizen who looked away must still find their number under "Vừa gọi" after the clerk has
finished it, marked it absent or sent it on; only newer calls push it out.
"""

from __future__ import annotations

from server import engine

from ..factories import build_site, issue_later


def recent(database, clock):
    with database.reads() as s:
        return engine.site_state(s, "s1", clock.now)["recent_calls"]


def test_a_call_stays_listed_whatever_happened_to_the_ticket_after(database, uow, clock):
    counters = {1: {"A": 1}, 2: {"A": 1}, 3: {"A": 1}, 4: {"A": 1}, 5: {"A": 1, "B": 1}}
    with database.writes() as s:
        build_site(s, counters=counters)
    tickets = [issue_later(uow, clock) for _ in range(5)]
    called_at = {}
    for n in range(1, 6):
        clock.advance(seconds=30)
        called_at[n] = clock.now
        engine.call_next(uow(), "s1", n)
    clock.advance(seconds=30)
    engine.finish(uow(), "s1", 1)  # served
    engine.no_show(uow(), "s1", 2)  # did not come
    engine.requeue(uow(), "s1", tickets[1]["id"], position="front")  # back in line
    engine.transfer(uow(), "s1", None, from_counter=3, to_service="B")  # sent on, waits again
    engine.cancel(uow(), "s1", tickets[3]["id"])
    engine.start(uow(), "s1", 5)

    calls = recent(database, clock)
    assert [c["number"] for c in calls] == ["A005", "A004", "A003", "A002", "A001"]
    # each with the counter it was called to and when, though it is no longer there
    assert [c["counter"] for c in calls] == [5, 4, 3, 2, 1]
    assert [c["call_at"] for c in calls] == [called_at[n].isoformat() for n in (5, 4, 3, 2, 1)]
    assert [c["status"] for c in calls] == ["serving", "cancelled", "waiting", "waiting", "done"]
    with database.reads() as s:
        state = engine.site_state(s, "s1", clock.now)
    assert [c["current"] for c in state["counters"]][:4] == [None] * 4


def test_a_recall_brings_the_number_back_to_the_top_once(database, uow, clock):
    with database.writes() as s:
        build_site(s, counters={1: {"A": 1}, 2: {"A": 1}})
    first, second = issue_later(uow, clock), issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    clock.advance(seconds=20)
    engine.call_next(uow(), "s1", 2)
    clock.advance(seconds=40)
    engine.recall(uow(), "s1", 1)
    calls = recent(database, clock)
    assert [c["id"] for c in calls] == [first["id"], second["id"]]
    assert calls[0]["call_at"] == clock.now.isoformat()  # the recall's moment
    assert calls[0]["recall_count"] == 1


def test_a_number_called_again_later_shows_its_last_counter(database, uow, clock):
    with database.writes() as s:
        build_site(s, counters={1: {"A": 1}, 2: {"B": 1}})
    ticket = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.transfer(uow(), "s1", None, from_counter=1, to_counter=2)
    clock.advance(minutes=2)
    engine.call_next(uow(), "s1", 2)
    calls = recent(database, clock)
    assert [(c["id"], c["counter"]) for c in calls] == [(ticket["id"], 2)]


def test_the_snapshot_says_what_each_counter_serves_main_duty_first(database, clock):
    from sqlalchemy import update

    from server.models import Service

    from ..factories import ServiceSpec

    services = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B"), ServiceSpec("C")]
    with database.writes() as s:
        build_site(s, services=services, counters={1: {"A": 1, "B": 10, "C": 5}, 2: {}})
        s.execute(update(Service).where(Service.code == "C").values(active=False))
        s.commit()
    with database.reads() as s:
        counters = engine.site_state(s, "s1", clock.now)["counters"]
    assert [(c["number"], c["services"]) for c in counters] == [(1, ["B", "A"]), (2, [])]
