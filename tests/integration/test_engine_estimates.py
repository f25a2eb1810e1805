"""Where a ticket stands, how long it may wait, and the read models built from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from server import engine
from server.engine import estimates
from server.engine.views import site_by_code
from server.models import Counter, Site, Ticket, User, UserSite

from ..factories import ServiceSpec, build_site, issue_later, local_time, site_seq

AB = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]


def view(database, clock, ticket_id, site="s1"):
    """The ticket as the API shows it now, with position and estimated wait."""
    with database.reads() as s:
        ticket = s.get(Ticket, ticket_id)
        return engine.ticket_with_wait(s, site_by_code(s, site), ticket, clock.now)


def overview(database, clock, site="s1"):
    with database.reads() as s:
        rows = engine.services_overview(s, site_by_code(s, site), clock.now)
        return {row["code"]: row for row in rows}


def serve(uow, clock, counter, span_s, *, start_after_s=0):
    """Call the next ticket at a counter and finish it ``span_s`` seconds after the call."""
    engine.call_next(uow(), "s1", counter)
    if start_after_s:
        clock.advance(seconds=start_after_s)
        engine.start(uow(), "s1", counter)
    clock.advance(seconds=span_s - start_after_s)
    engine.finish(uow(), "s1", counter)


def make_clerk(database, name="lan", site="s1"):
    """A clerk of the site who can sign in at its counters; returns the user id."""
    with database.writes() as s:
        user = User(username=name, password_hash="-", role="clerk", created_at=datetime.now(UTC))
        s.add(user)
        s.flush()
        s.add(UserSite(user_id=user.id, site_id=site_by_code(s, site).id))
        s.commit()
        return user.id


def set_counter(database, number, **values):
    with database.writes() as s:
        s.execute(update(Counter).where(Counter.number == number).values(**values))
        s.commit()


# --- position ----------------------------------------------------------------------


def test_position_counts_the_same_queue_only(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True, services=AB)
    a1 = issue_later(uow, clock, "A")
    b1 = issue_later(uow, clock, "B")
    a2 = issue_later(uow, clock, "A")
    a3 = issue_later(uow, clock, "A")
    assert [a1["position"], a2["position"], a3["position"]] == [1, 2, 3]
    assert (b1["position"], b1["people_ahead"]) == (1, 0)
    assert a3["people_ahead"] == 2
    engine.call_next(uow(), "s1", 1)
    now = view(database, clock, a3["id"])
    assert (now["position"], now["people_ahead"]) == (2, 1)
    assert view(database, clock, b1["id"])["position"] == 1


def test_position_leaves_out_cancelled_and_no_show_tickets(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True)
    a1, a2, a3, a4 = (issue_later(uow, clock) for _ in range(4))
    engine.cancel(uow(), "s1", a2["id"])
    engine.call_next(uow(), "s1", 1)
    engine.no_show(uow(), "s1", 1)
    assert view(database, clock, a4["id"])["position"] == 2
    assert view(database, clock, a3["id"])["position"] == 1
    assert view(database, clock, a1["id"])["position"] is None


def test_strict_priority_is_ahead_of_normal_tickets(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True, policy="strict")
    n1 = issue_later(uow, clock)
    n2 = issue_later(uow, clock)
    p1 = issue_later(uow, clock, priority="elderly")
    p2 = issue_later(uow, clock, priority="disabled")
    assert p1["position"] == 1
    assert p2["position"] == 2
    assert view(database, clock, n1["id"])["position"] == 3
    assert view(database, clock, n2["id"])["position"] == 4


def test_interleave_position_follows_issue_order(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True, policy="interleave", every=3)
    issue_later(uow, clock)
    issue_later(uow, clock)
    p = issue_later(uow, clock, priority="elderly")
    assert (p["position"], p["people_ahead"]) == (3, 2)


def test_position_of_a_ticket_sent_to_a_counter(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True, counters={1: {"A": 1}, 2: {"A": 1}})
    a1, a2, a3 = (issue_later(uow, clock) for _ in range(3))
    engine.transfer(uow(), "s1", a2["id"], to_counter=2)
    engine.transfer(uow(), "s1", a3["id"], to_counter=2)
    assert view(database, clock, a3["id"])["position"] == 2
    assert view(database, clock, a2["id"])["position"] == 1
    assert view(database, clock, a1["id"])["position"] == 1


def test_position_is_none_once_called(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True)
    t = issue_later(uow, clock)
    called = engine.call_next(uow(), "s1", 1)
    assert (called["position"], called["people_ahead"], called["estimated_wait_s"]) == (
        None,
        None,
        None,
    )
    assert view(database, clock, t["id"])["position"] is None


# --- estimated wait -----------------------------------------------------------------


def test_default_service_time_until_three_samples(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=300)],
            counters={1: {"A": 1}},
        )
    tickets = [issue_later(uow, clock) for _ in range(6)]
    last = tickets[-1]["id"]
    assert view(database, clock, last)["estimated_wait_s"] == 5 * 300
    serve(uow, clock, 1, 60)
    serve(uow, clock, 1, 120)
    assert view(database, clock, last)["estimated_wait_s"] == 3 * 300
    serve(uow, clock, 1, 180)
    assert view(database, clock, last)["estimated_wait_s"] == 2 * 120


def test_service_time_runs_from_call_to_finish(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=999)],
            counters={1: {"A": 1}},
        )
    tickets = [issue_later(uow, clock) for _ in range(5)]
    clock.advance(minutes=30)  # time spent waiting before the call does not count
    for _ in range(3):
        serve(uow, clock, 1, 150, start_after_s=90)
    assert view(database, clock, tickets[-1]["id"])["estimated_wait_s"] == 150


def add_served(database, clock, service_code, spans_s):
    """Tickets served earlier, one per span, written straight to the database."""
    with database.writes() as s:
        site = site_by_code(s, "s1")
        service = next(x for x in site.services if x.code == service_code)
        for i, span in enumerate(spans_s):
            finished = clock.now - timedelta(minutes=len(spans_s) - i)
            s.add(
                Ticket(
                    site_id=site.id,
                    issued_service_id=service.id,
                    service_id=service.id,
                    business_day=date(2026, 11, 22),
                    seq=i + 1,
                    number=f"X{i + 1}",
                    status="done",
                    sort_key=i,
                    issued_at=finished - timedelta(seconds=span + 60),
                    called_at=finished - timedelta(seconds=span),
                    finished_at=finished,
                    tracking_token=f"served-{i}",
                )
            )
        s.commit()


def test_only_recent_finished_tickets_count(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=999)],
            counters={1: {"A": 1}},
        )
    # The three oldest of 23 samples fall outside the last 20.
    add_served(database, clock, "A", [1000, 1000, 1000] + [100] * 20)
    issue_later(uow, clock)
    t = issue_later(uow, clock)
    assert t["people_ahead"] == 1
    assert t["estimated_wait_s"] == 100
    serve(uow, clock, 1, 400)  # the newest sample pushes out one of the 100s
    assert issue_later(uow, clock)["estimated_wait_s"] == round((19 * 100 + 400) / 20)


def test_no_show_and_cancelled_tickets_are_no_samples(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=400)],
            counters={1: {"A": 1}},
        )
    for _ in range(4):
        issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    clock.advance(seconds=30)
    engine.no_show(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 1)
    clock.advance(seconds=30)
    engine.cancel(uow(), "s1", 2)
    serve(uow, clock, 1, 30)
    serve(uow, clock, 1, 30)
    t = issue_later(uow, clock)
    assert t["people_ahead"] == 0
    later = issue_later(uow, clock)
    assert later["estimated_wait_s"] == 400


def test_samples_older_than_two_weeks_do_not_count(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=400)],
            counters={1: {"A": 1}},
        )
    for _ in range(3):
        issue_later(uow, clock)
    for _ in range(3):
        serve(uow, clock, 1, 60)
    issue_later(uow, clock)
    assert issue_later(uow, clock)["estimated_wait_s"] == 60
    clock.advance(days=13)
    issue_later(uow, clock)
    assert issue_later(uow, clock)["estimated_wait_s"] == 60
    clock.advance(days=2)
    issue_later(uow, clock)
    assert issue_later(uow, clock)["estimated_wait_s"] == 400


def test_samples_are_per_service(database, uow, clock):
    services = [ServiceSpec("A", default_service_s=200), ServiceSpec("B", prefix="B")]
    with database.writes() as s:
        build_site(s, staffed=True, services=services, counters={1: {"A": 1}, 2: {"B": 1}})
    for _ in range(3):
        issue_later(uow, clock, "B")
    for _ in range(3):
        serve(uow, clock, 2, 30)
    issue_later(uow, clock, "A")
    assert issue_later(uow, clock, "A")["estimated_wait_s"] == 200


def test_wait_is_shared_by_open_counters(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=300), ServiceSpec("B", prefix="B")],
            counters={1: {"A": 1}, 2: {"A": 1}, 3: {"A": 1, "B": 1}, 4: {"B": 1}},
        )
    tickets = [issue_later(uow, clock) for _ in range(3)]
    last = tickets[-1]["id"]
    assert view(database, clock, last)["estimated_wait_s"] == 2 * 300 // 3
    engine.pause(uow(), "s1", 3)
    assert view(database, clock, last)["estimated_wait_s"] == 2 * 300 // 2
    set_counter(database, 2, active=False)
    assert view(database, clock, last)["estimated_wait_s"] == 2 * 300
    engine.resume(uow(), "s1", 3)
    assert view(database, clock, last)["estimated_wait_s"] == 300


def test_wait_is_rounded_to_seconds(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=100)],
            counters={1: {"A": 1}, 2: {"A": 1}, 3: {"A": 1}},
        )
    issue_later(uow, clock)
    assert issue_later(uow, clock)["estimated_wait_s"] == 33
    assert issue_later(uow, clock)["estimated_wait_s"] == 67


def test_no_wait_estimate_without_a_staffed_counter(database, uow, clock):
    """Issue 9, item 5: only counters open and with a clerk signed in share the wait."""
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1}, 2: {"B": 1}})
    b = issue_later(uow, clock, "B")
    assert (b["position"], b["estimated_wait_s"]) == (1, None)  # nobody signed in anywhere
    first = issue_later(uow, clock, "A")
    assert first["estimated_wait_s"] is None  # never "no wait" with no one to call it
    clerk = make_clerk(database)
    engine.sign_in(uow(), "s1", 1, clerk)
    assert view(database, clock, first["id"])["estimated_wait_s"] == 0
    second = issue_later(uow, clock, "A")
    assert second["estimated_wait_s"] == 300
    engine.pause(uow(), "s1", 1)
    assert view(database, clock, first["id"])["estimated_wait_s"] is None
    assert view(database, clock, second["id"])["estimated_wait_s"] is None
    engine.resume(uow(), "s1", 1)
    engine.release(uow(), "s1", 1)
    assert view(database, clock, second["id"])["estimated_wait_s"] is None
    assert view(database, clock, b["id"])["estimated_wait_s"] is None


def test_never_no_wait_while_someone_waits_ahead(database, uow, clock):
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=[ServiceSpec("A", default_service_s=0)],
            counters={1: {"A": 1}},
        )
    assert issue_later(uow, clock)["estimated_wait_s"] == 0
    assert issue_later(uow, clock)["estimated_wait_s"] == 1  # a moment, not "Không phải chờ"


def test_counters_open_and_staffed_per_service(database, uow, clock):
    """What the dashboard reads: served (any active counter), open (not paused), staffed."""
    with database.writes() as s:
        build_site(
            s,
            services=[*AB, ServiceSpec("C", prefix="C")],
            counters={1: {"A": 1}, 2: {"A": 1, "B": 1}, 3: {"B": 1}},
        )
    engine.sign_in(uow(), "s1", 1, make_clerk(database, "lan"))
    engine.sign_in(uow(), "s1", 3, make_clerk(database, "minh"))
    engine.pause(uow(), "s1", 3)
    set_counter(database, 2, active=False)
    with database.reads() as s:
        site = s.execute(select(Site)).scalar_one()
        assert estimates.counters_open(s, site) == {"A": 1, "B": 0, "C": 0}
        assert estimates.counters_staffed(s, site) == {"A": 1, "B": 0, "C": 0}
        by_code = {sv.code: sv.id for sv in site.services}
        found = estimates.coverage(s, site)
        assert found[by_code["B"]] == estimates.Coverage(serving=1, open=0, staffed=0)
        assert found[by_code["B"]].served and by_code["C"] not in found


# --- services overview ------------------------------------------------------------------


def test_services_overview(database, uow, clock):
    services = [
        ServiceSpec("A", name="Đất đai", default_service_s=120),
        ServiceSpec("B", prefix="B", sessions=[{"start": "13:30", "end": "17:00"}]),
        ServiceSpec("C", prefix="C", cap=2),
        ServiceSpec("D", prefix="D", active=False),
        ServiceSpec("R", range=(1001, 1050)),
        ServiceSpec("U", prefix="U"),  # no counter serves it
    ]
    with database.writes() as s:
        build_site(
            s,
            staffed=True,
            services=services,
            counters={1: {"A": 1, "C": 1}, 2: {"A": 1}, 3: {"R": 1}},
        )
    for _ in range(3):
        issue_later(uow, clock, "A")
    issue_later(uow, clock, "C")
    issue_later(uow, clock, "C")
    engine.call_next(uow(), "s1", 1)  # equal weights: A001, issued first
    rows = overview(database, clock)
    assert list(rows) == ["A", "B", "C", "R", "U"]
    a = rows["A"]
    assert a == {
        "code": "A",
        "name": "Đất đai",
        "hint": "",
        "state": "open",
        "open": True,
        "waiting": 2,
        "issued_today": 3,
        "daily_cap": None,
        "staffed_counters": 2,
        "estimated_wait_s": 2 * 120 // 2,
    }
    assert (rows["B"]["state"], rows["B"]["open"]) == ("closed", False)
    assert rows["B"]["estimated_wait_s"] is None
    c = rows["C"]
    assert (c["state"], c["open"], c["issued_today"], c["daily_cap"], c["waiting"]) == (
        "full",
        False,
        2,
        2,
        2,
    )
    assert (rows["R"]["daily_cap"], rows["R"]["state"], rows["R"]["waiting"]) == (50, "open", 0)
    assert rows["R"]["estimated_wait_s"] == 0
    u = rows["U"]
    assert (u["state"], u["open"], u["staffed_counters"], u["estimated_wait_s"]) == (
        "unserved",
        False,
        0,
        None,
    )


def test_overview_is_of_todays_business_day(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True, services=[ServiceSpec("A", cap=2)], counters={1: {"A": 1}})
    issue_later(uow, clock)
    issue_later(uow, clock)
    assert overview(database, clock)["A"]["state"] == "full"
    clock.now = local_time(date(2026, 11, 24), "08:00")
    row = overview(database, clock)["A"]
    assert (row["state"], row["waiting"], row["issued_today"]) == ("open", 0, 0)


def test_overview_after_a_refused_issue(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True, services=[ServiceSpec("A", cap=1)], counters={1: {"A": 1}})
    issue_later(uow, clock)
    with pytest.raises(engine.QueueError):
        issue_later(uow, clock)
    assert overview(database, clock)["A"]["issued_today"] == 1


# --- site state --------------------------------------------------------------------------


def test_site_state_snapshot(database, uow, clock):
    with database.writes() as s:
        build_site(s, staffed=True, services=AB, counters={1: {"A": 1}, 2: {"A": 1}, 3: {"B": 1}})
    a1, a2, a3 = (issue_later(uow, clock, "A") for _ in range(3))
    b1 = issue_later(uow, clock, "B")
    engine.call_next(uow(), "s1", 2)
    clock.advance(minutes=1)
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    clock.advance(minutes=1)
    engine.call_next(uow(), "s1", 3)
    engine.finish(uow(), "s1", 3)
    engine.pause(uow(), "s1", 3)
    with database.reads() as s:
        state = engine.site_state(s, "s1", clock.now)
    assert state["site"] == {
        "code": "s1",
        "name": "Site s1",
        "timezone": "Asia/Ho_Chi_Minh",
        "header_lines": ["UBND"],
        "remote_check_in": False,  # no numbers from home at this site
    }
    assert state["seq"] == site_seq(database)
    assert state["business_day"] == "2026-11-23"
    assert state["now"] == clock.now.isoformat()
    assert state["services"] == list(overview(database, clock).values())
    assert [c["number"] for c in state["counters"]] == [1, 2, 3]
    c1, c2, c3 = state["counters"]
    assert (c1["status"], c1["current"]["id"], c1["current"]["status"]) == (
        "open",
        a2["id"],
        "serving",
    )
    assert (c2["current"]["id"], c2["current"]["status"]) == (a1["id"], "called")
    assert (c3["status"], c3["current"]) == ("paused", None)
    assert c1["name"] == "Quầy 1" and c1["active"] is True
    # the last calls, b1 too though it was finished since
    # (tests/integration/test_engine_recent_calls.py)
    assert [t["id"] for t in state["recent_calls"]] == [b1["id"], a2["id"], a1["id"]]
    assert a3["id"] not in [t["id"] for t in state["recent_calls"]]
    assert "tracking_token" not in state["recent_calls"][0]


def test_recent_calls_are_the_last_ten_of_today(database, uow, clock):
    counters = {n: {"A": 1} for n in range(1, 12)}
    with database.writes() as s:
        build_site(s, staffed=True, counters=counters)
    issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    clock.now = local_time(date(2026, 11, 24), "08:00")
    tickets = [issue_later(uow, clock) for _ in range(11)]
    for n in range(1, 12):
        clock.advance(seconds=10)
        engine.call_next(uow(), "s1", n)
    with database.reads() as s:
        state = engine.site_state(s, "s1", clock.now)
    expected = [t["id"] for t in reversed(tickets)][:10]
    assert [t["id"] for t in state["recent_calls"]] == expected
    assert all(t["business_day"] == "2026-11-24" for t in state["recent_calls"])


def test_site_state_of_an_unknown_site(database, clock):
    with database.reads() as s, pytest.raises(engine.QueueError) as info:
        engine.site_state(s, "nowhere", clock.now)
    assert info.value.code == "site_not_found"
