"""A hand-computed day at site s1 for the report tests (docs/reports.md is the key).

Services A and B; counter 1 serves A, counter 2 serves B, counter 3 serves both. Two
clerks: lan (counter 1, then counter 3: a clerk who changes counters) and minh
(counter 2). Business day 2026-11-23 in Asia/Ho_Chi_Minh; the last ticket is served
across the site's midnight, and one ticket is drawn the next day. Every time below is
the site's wall-clock time, and every expected figure in the tests is worked out from
this timeline by hand.

    07:55 lan signs in at 1            07:56 minh signs in at 2
    08:00 T1 A001 drawn (kiosk)        08:05 T2 A002 drawn (elderly)   08:10 T3 B001
    08:20 1 calls T2 (waited 15:00)    08:21 start    08:31 finish     08:32 rated 4
    08:33 1 calls T1 (waited 33:00)    08:34 recall   08:36 no-show
    08:37 2 calls T3 (waited 27:00)    08:40 T1 requeued to the front
    08:45 2 finishes T3, start skipped (service 8:00)      08:46 rated 1, "slow"
    08:47 1 calls T1 (waited 7:00)     08:48 start    08:50 sent to service B
    08:52 T4 A003 drawn (api)          08:55 lan signs in at 3 (leaves 1)
    09:00 2 calls T1 (waited 10:00)    09:01 start
    09:02 3 calls T4 (waited 10:00)    09:03 recall   09:04 start
    09:11 2 finishes T1                09:14 3 finishes T4
    09:20 T5 B002 drawn                09:25 T5 cancelled while waiting
    09:30 T6 A004 drawn: still waiting at closing
    12:00 minh signs out               17:00 lan signs out
    23:45 lan signs in at 3            23:50 T7 A005 drawn
    23:55 3 calls T7 (waited 5:00)     23:56 start
    next day 00:10 3 finishes T7       00:12 T8 A001 drawn (the next day's)
    next day 00:15 lan signs out
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from server import engine
from server.models import Site, User, UserSite

from .factories import FakeClock, ServiceSpec, build_site, local_time

DAY = date(2026, 11, 23)
NEXT = DAY + timedelta(days=1)


@dataclass
class Day:
    site_id: int
    lan: int
    minh: int
    tickets: dict[str, int]  # T1..T8 -> ticket id


def _clerk(session: Any, site_id: int, username: str, name: str, clock: FakeClock) -> int:
    from werkzeug.security import generate_password_hash

    from .staff import PASSWORD

    # A cheap hash of the tests' password, so the API tests can log the clerks in.
    hashed = generate_password_hash(PASSWORD, "pbkdf2:sha256:1000")
    user = User(
        username=username, full_name=name, password_hash=hashed, role="clerk", created_at=clock()
    )
    session.add(user)
    session.flush()
    session.add(UserSite(user_id=user.id, site_id=site_id))
    return int(user.id)


def build_day(database: Any, uow: Callable[[], Any], clock: FakeClock) -> Day:
    """Play the timeline above through the engine, with the clock set at each step."""
    with database.writes() as session:
        site = build_site(
            session,
            services=[ServiceSpec("A", name="Hộ tịch", prefix="A"), ServiceSpec("B", prefix="B")],
            counters={1: {"A": 1}, 2: {"B": 1}, 3: {"A": 1, "B": 1}},
        )
        site_id = site.id
        lan = _clerk(session, site_id, "lan", "Nguyễn Thị Lan", clock)
        minh = _clerk(session, site_id, "minh", "Trần Văn Minh", clock)
        session.commit()
    t: dict[str, int] = {}

    def at(hhmm: str, day: date = DAY) -> None:
        clock.now = local_time(day, hhmm)

    def issue(name: str, service: str, **kw: Any) -> None:
        t[name] = engine.issue_ticket(uow(), "s1", service, **kw).ticket["id"]

    at("07:55")
    engine.sign_in(uow(), "s1", 1, lan)
    at("07:56")
    engine.sign_in(uow(), "s1", 2, minh)
    at("08:00")
    issue("T1", "A")
    at("08:05")
    issue("T2", "A", priority="elderly")
    at("08:10")
    issue("T3", "B")
    at("08:20")
    assert engine.call_next(uow(), "s1", 1)["id"] == t["T2"]
    at("08:21")
    engine.start(uow(), "s1", 1)
    at("08:31")
    engine.finish(uow(), "s1", 1)
    at("08:32")
    engine.rate_ticket(uow(), "s1", 1, t["T2"], 4)
    at("08:33")
    assert engine.call_next(uow(), "s1", 1)["id"] == t["T1"]
    at("08:34")
    engine.recall(uow(), "s1", 1)
    at("08:36")
    engine.no_show(uow(), "s1", 1)
    at("08:37")
    assert engine.call_next(uow(), "s1", 2)["id"] == t["T3"]
    at("08:40")
    engine.requeue(uow(), "s1", t["T1"], position="front")
    at("08:45")
    engine.finish(uow(), "s1", 2)
    at("08:46")
    engine.rate_ticket(uow(), "s1", 2, t["T3"], 1, reasons=["slow"])
    at("08:47")
    assert engine.call_next(uow(), "s1", 1)["id"] == t["T1"]
    at("08:48")
    engine.start(uow(), "s1", 1)
    at("08:50")
    engine.transfer(uow(), "s1", None, from_counter=1, to_service="B")
    at("08:52")
    issue("T4", "A", channel="api")
    at("08:55")
    engine.sign_in(uow(), "s1", 3, lan)
    at("09:00")
    assert engine.call_next(uow(), "s1", 2)["id"] == t["T1"]
    at("09:01")
    engine.start(uow(), "s1", 2)
    at("09:02")
    assert engine.call_next(uow(), "s1", 3)["id"] == t["T4"]
    at("09:03")
    engine.recall(uow(), "s1", 3)
    at("09:04")
    engine.start(uow(), "s1", 3)
    at("09:11")
    engine.finish(uow(), "s1", 2)
    at("09:14")
    engine.finish(uow(), "s1", 3)
    at("09:20")
    issue("T5", "B")
    at("09:25")
    engine.cancel(uow(), "s1", t["T5"])
    at("09:30")
    issue("T6", "A")
    at("12:00")
    engine.sign_out(uow(), minh)
    at("17:00")
    engine.sign_out(uow(), lan)
    at("23:45")
    engine.sign_in(uow(), "s1", 3, lan)
    at("23:50")
    issue("T7", "A")
    at("23:55")
    engine.call_ticket(uow(), "s1", 3, t["T7"])
    at("23:56")
    engine.start(uow(), "s1", 3)
    at("00:10", NEXT)
    engine.finish(uow(), "s1", 3)
    at("00:12", NEXT)
    issue("T8", "A")
    at("00:15", NEXT)
    engine.sign_out(uow(), lan)
    at("09:00", NEXT)
    return Day(site_id, lan, minh, t)


def stats(*values: float) -> dict[str, Any]:
    """The expected {count, mean, median, p90, max} of some durations, worked out here only
    as arithmetic: mean, middle, value at rank ceil(0.9 n), largest."""
    import math

    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return {"count": 0, "mean": None, "median": None, "p90": None, "max": None}
    middle = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return {
        "count": n,
        "mean": round(sum(ordered) / n, 1),
        "median": middle,
        "p90": ordered[math.ceil(0.9 * n) - 1],
        "max": ordered[-1],
    }


def site_of(database: Any) -> int:
    from sqlalchemy import select

    with database.reads() as session:
        return int(session.execute(select(Site.id).where(Site.code == "s1")).scalar_one())
