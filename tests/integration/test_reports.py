"""Every definition of docs/reports.md against the hand-computed day of tests/report_day.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update

from server import engine, reports
from server.engine import QueueError, UnitOfWork
from server.models import ReportDay, Site, TicketEvent

from ..factories import local_time
from ..report_day import DAY, NEXT, Day, build_day, stats

M = 60  # seconds in a minute: the timeline is in minutes


@pytest.fixture
def day(database: Any, uow: Any, clock: Any) -> Day:
    return build_day(database, uow, clock)


def report(database: Any, clock: Any, group: str, start: date = DAY, end: date = DAY, **kw: Any):
    with database.reads() as session:
        return reports.site_report(
            session, [database_site(database)], reports.Period(start, end), group, now=clock(), **kw
        )


def database_site(database: Any) -> int:
    with database.reads() as session:
        return int(session.execute(select(Site.id).where(Site.code == "s1")).scalar_one())


def rows(result: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    return {row["key"]: row for row in result["groups"]}


def test_the_total_of_the_day(database, clock, day):
    result = report(database, clock, "service")
    assert (result["site"], result["from"], result["to"]) == ("s1", "2026-11-23", "2026-11-23")
    assert result["wait_target_min"] == 15 and result["timezone"] == "Asia/Ho_Chi_Minh"
    total = result["total"]
    # T1..T7 drawn on the day; T8 is the next day's.
    assert total["issued"] == 7
    assert total["by_channel"] == {"kiosk": 6, "online": 0, "api": 1, "remote": 0}
    assert total["by_priority"]["elderly"] == 1 and total["by_priority"]["none"] == 6
    # served: T2, T3, T1 (after its transfer), T4, T7 (finished after midnight)
    assert total["served"] == 5
    assert (total["no_show"], total["no_show_auto"], total["requeued"]) == (1, 0, 1)
    assert (total["cancelled"], total["recalls"]) == (1, 2)
    assert (total["transferred_out"], total["transferred_in"]) == (1, 1)
    assert (total["left_waiting"], total["left_at_counter"]) == (1, 0)  # T6
    # waits: T2 15, T1 33, T3 27, T1 again 7 (requeued), T1 in B 10 (transferred), T4 10, T7 5
    assert total["wait_s"] == stats(15 * M, 33 * M, 27 * M, 7 * M, 10 * M, 10 * M, 5 * M)
    assert total["wait_s"]["mean"] == 917.1 and total["wait_s"]["median"] == 600
    assert total["first_wait_s"] == stats(15 * M, 33 * M, 27 * M, 10 * M, 5 * M)
    # walks: T2 1, T1 1 at counter 1, T1 1 at counter 2, T4 2 (from the call, not the recall),
    # T7 1; T3 was never started
    assert total["walk_s"] == stats(M, M, M, 2 * M, M)
    # service: T2 10, T3 8 (call -> finish, start skipped), T1 10, T4 10, T7 14
    assert total["service_s"] == stats(10 * M, 8 * M, 10 * M, 10 * M, 14 * M)
    # over 15 minutes: 33 and 27 (15:00 exactly is not over)
    assert (total["over_target"], total["over_target_share"]) == (2, round(2 / 7, 4))
    bars = {bar["to_min"]: bar["count"] for bar in total["wait_distribution"]}
    assert bars == {5: 1, 10: 3, 15: 1, 20: 0, 30: 1, 45: 1, 60: 0, None: 0}
    # signed in: lan 07:55-08:55 at 1, 08:55-17:00 at 3, 23:45-24:00 at 3; minh 07:56-12:00
    assert total["signed_in_s"] == (60 + 485 + 15 + 244) * M
    # holding a ticket: T2 11, T1 3 (no-show), T3 8, T1 3 (transfer), T1 11, T4 12, T7 15
    assert total["serving_s"] == (11 + 3 + 8 + 3 + 11 + 12 + 15) * M
    ratings = total["ratings"]
    assert ratings["count"] == 2 and ratings["by_level"] == {"1": 1, "2": 0, "3": 0, "4": 1}
    assert (ratings["rated_share"], ratings["satisfied_share"]) == (0.4, 0.5)
    assert ratings["satisfaction_index"] == 0.5
    assert ratings["reasons"] == {
        "waited_long": 0,
        "unclear": 0,
        "attitude": 0,
        "slow": 1,
        "other": 0,
    }


def test_per_clerk(database, clock, day):
    result = report(database, clock, "clerk")
    assert [row["key"] for row in result["groups"]] == ["lan", "minh"]  # by full name
    lan, minh = rows(result)["lan"], rows(result)["minh"]
    assert lan["label"] == "Nguyễn Thị Lan"
    # lan received T2, T1 (called twice, counted once), T4, T7; served T2, T4, T7
    assert (lan["issued"], lan["served"], lan["no_show"]) == (4, 3, 1)
    assert (lan["transferred_out"], lan["transferred_in"], lan["recalls"]) == (1, 0, 2)
    assert lan["wait_s"] == stats(15 * M, 33 * M, 7 * M, 10 * M, 5 * M)
    assert lan["over_target"] == 1
    assert lan["service_s"] == stats(10 * M, 10 * M, 14 * M)
    assert lan["service_s"]["mean"] == 680
    # at counter 1 then counter 3 (the change of counters), and the evening at 3
    assert lan["signed_in_s"] == (60 + 485 + 15) * M
    assert lan["serving_s"] == (11 + 3 + 3 + 12 + 15) * M
    assert lan["serving_share"] == round(lan["serving_s"] / lan["signed_in_s"], 4)
    assert lan["ratings"]["count"] == 1 and lan["ratings"]["satisfaction_index"] == 1.0
    assert lan["ratings"]["rated_share"] == round(1 / 3, 4)
    # minh received T3 and T1 (sent over by a transfer)
    assert (minh["issued"], minh["served"], minh["transferred_in"]) == (2, 2, 1)
    assert minh["wait_s"] == stats(27 * M, 10 * M) and minh["over_target"] == 1
    assert minh["walk_s"] == stats(M) and minh["service_s"] == stats(8 * M, 10 * M)
    assert (minh["signed_in_s"], minh["serving_s"]) == (244 * M, (8 + 11) * M)
    assert minh["ratings"]["by_level"]["1"] == 1 and minh["ratings"]["satisfaction_index"] == 0
    assert minh["ratings"]["satisfied_share"] == 0 and minh["ratings"]["reasons"]["slow"] == 1


def test_per_counter(database, clock, day):
    by = rows(report(database, clock, "counter"))
    assert list(by) == ["1", "2", "3"] and by["1"]["label"] == "Quầy 1"
    one, two, three = by["1"], by["2"], by["3"]
    assert (one["issued"], one["served"], one["no_show"], one["transferred_out"]) == (2, 1, 1, 1)
    assert one["wait_s"] == stats(15 * M, 33 * M, 7 * M) and one["recalls"] == 1
    assert (one["signed_in_s"], one["serving_s"]) == (60 * M, (11 + 3 + 3) * M)
    assert (two["issued"], two["served"], two["transferred_in"]) == (2, 2, 1)
    assert (two["signed_in_s"], two["serving_s"]) == (244 * M, (8 + 11) * M)
    assert (three["issued"], three["served"], three["recalls"]) == (2, 2, 1)
    assert three["walk_s"] == stats(2 * M, M) and three["service_s"] == stats(10 * M, 14 * M)
    assert three["signed_in_s"] == (485 + 15) * M


def test_per_service(database, clock, day):
    result = report(database, clock, "service")
    by = rows(result)
    assert list(by) == ["A", "B"] and by["A"]["label"] == "Hộ tịch"
    a, b = by["A"], by["B"]
    assert (a["issued"], b["issued"]) == (5, 2)
    assert (a["served"], b["served"]) == (3, 2)  # T1 is served in B, where it was sent
    # T1 waited in A twice, then in B
    assert a["wait_s"] == stats(15 * M, 33 * M, 7 * M, 10 * M, 5 * M)
    assert b["wait_s"] == stats(27 * M, 10 * M)
    assert a["first_wait_s"] == stats(15 * M, 33 * M, 10 * M, 5 * M)  # at the issuing service
    assert (a["transferred_out"], a["transferred_in"]) == (1, 0)
    assert (b["transferred_out"], b["transferred_in"]) == (0, 1)
    assert (a["no_show"], a["requeued"], a["left_waiting"], b["cancelled"]) == (1, 1, 1, 1)
    assert a["signed_in_s"] is None and a["serving_share"] is None
    assert a["serving_s"] == (11 + 3 + 3 + 12 + 15) * M
    assert sum(row["issued"] for row in result["groups"]) == result["total"]["issued"]


def test_per_hour_of_the_sites_day(database, clock, day):
    by = rows(report(database, clock, "hour"))
    assert list(by) == [f"{h:02d}" for h in range(24)]  # 00 (after midnight) to 23
    assert by["08"]["label"] == "08:00–09:00"
    assert (by["08"]["issued"], by["09"]["issued"], by["23"]["issued"]) == (4, 2, 1)
    # served in the hour it was finished: T7 after midnight
    assert (by["00"]["served"], by["08"]["served"], by["09"]["served"]) == (1, 2, 2)
    assert by["00"]["service_s"] == stats(14 * M)
    # a wait counts in the hour it began: T7's in 23, all the others began at 08
    assert by["08"]["wait_s"]["count"] == 6 and by["23"]["wait_s"] == stats(5 * M)
    # T7 held 23:55-00:10: 5 minutes in 23, 10 in 00; lan's 23:45-24:00 sign-in in 23
    assert (by["23"]["serving_s"], by["00"]["serving_s"]) == (5 * M, 10 * M)
    assert (by["23"]["signed_in_s"], by["00"]["signed_in_s"]) == (15 * M, 0)
    assert by["07"]["signed_in_s"] == (5 + 4) * M  # lan from 07:55, minh from 07:56
    assert sum(r["signed_in_s"] for r in by.values()) == (60 + 485 + 15 + 244) * M


def test_per_day_across_the_sites_midnight(database, clock, day):
    result = report(database, clock, "day", DAY, NEXT)
    by = rows(result)
    assert list(by) == ["2026-11-23", "2026-11-24"] and by["2026-11-23"]["label"] == "23/11/2026"
    first, second = by["2026-11-23"], by["2026-11-24"]
    # T7 was finished on the 24th but belongs to the day its number was drawn
    assert (first["issued"], first["served"]) == (7, 5)
    assert (second["issued"], second["served"], second["left_waiting"]) == (1, 0, 1)
    # lan's sign-in 23:45-00:15 is cut at midnight
    assert (first["signed_in_s"], second["signed_in_s"]) == ((60 + 485 + 15 + 244) * M, 15 * M)
    assert result["total"]["issued"] == 8


def test_a_forgotten_sign_out_counts_only_the_presses_of_each_day(database, uow, clock, day):
    lan = day.lan
    clock.now = local_time(NEXT, "08:00")
    engine.sign_in(uow(), "s1", 3, lan)
    clock.now = local_time(NEXT, "08:30")
    engine.issue_ticket(uow(), "s1", "B")
    clock.now = local_time(NEXT, "09:00")
    engine.call_next(uow(), "s1", 3)  # T8 (A001 of the 24th) comes first
    clock.now = local_time(NEXT, "10:00")
    engine.call_next(uow(), "s1", 3)
    # never signed out; two days later the report of the 24th and 25th
    clock.now = local_time(date(2026, 11, 26), "09:00")
    by = rows(report(database, clock, "clerk", NEXT, date(2026, 11, 25)))
    # 24th: 00:00-00:15 (the evening sign-in), then 08:00 to the last press at 10:00;
    # 25th: no press at counter 3, nothing counted although still signed in
    assert by["lan"]["signed_in_s"] == (15 + 120) * M


def test_several_sites_and_the_site_grouping(database, uow, clock, day):
    from ..factories import build_site

    with database.writes() as session:
        other = build_site(session, "s2").id
    clock.now = local_time(DAY, "10:00")
    engine.issue_ticket(UnitOfWork(database.writes, clock=clock), "s2", "A")
    clock.now = local_time(NEXT, "09:00")
    with database.reads() as session:
        ids = [database_site(database), other]
        result = reports.site_report(session, ids, reports.Period(DAY, DAY), "site", now=clock())
        services = reports.site_report(session, ids, reports.Period(DAY, DAY), "service")
    assert result["site"] == "*" and result["sites"] == ["s1", "s2"]
    assert [(r["key"], r["issued"]) for r in result["groups"]] == [("s1", 7), ("s2", 1)]
    assert [r["key"] for r in services["groups"]] == ["s1:A", "s1:B", "s2:A", "s2:B"]
    assert services["groups"][2]["site"] == "s2"


def test_rollups_are_used_and_rebuilt_when_the_log_changes(database, uow, clock, day):
    plain = report(database, clock, "clerk")
    kept = report(database, clock, "clerk", store=database.writes)
    with database.reads() as session:
        stored = session.execute(select(ReportDay.business_day)).scalars().all()
    assert stored == [DAY]
    assert kept["groups"] == plain["groups"] and kept["total"] == plain["total"]
    # the stored day is what is read: change it by hand and the report shows the change
    with database.writes() as session:
        row = session.get(ReportDay, (day.site_id, DAY))
        data = dict(row.data)
        data["total"] = data["total"].replace('"issued":7', '"issued":70')
        row.data = data
        session.commit()
    assert report(database, clock, "clerk")["total"]["issued"] == 70
    # a late event: T6, left waiting on the 23rd, is cancelled the next morning
    engine.cancel(uow(), "s1", day.tickets["T6"])
    late = report(database, clock, "clerk", store=database.writes)["total"]
    assert (late["issued"], late["cancelled"], late["left_waiting"]) == (7, 2, 0)
    # a new waiting target: the stored day no longer fits and is computed again
    with database.writes() as session:
        session.execute(update(Site).values(wait_target_min=10))
        session.commit()
    assert report(database, clock, "service")["total"]["over_target"] == 3  # 15, 33, 27
    # an open day (today) is never stored
    report(database, clock, "service", NEXT, NEXT, store=database.writes)
    with database.reads() as session:
        assert session.execute(select(ReportDay.business_day)).scalars().all() == [DAY]


def test_automatic_no_show_and_requeue_of_a_called_ticket(database, uow, clock):
    """The engine's call-next on a ticket called but never started (issue 9, item 1)."""
    from ..factories import build_site

    with database.writes() as session:
        build_site(session)
    clock.now = local_time(DAY, "08:00")
    first = engine.issue_ticket(uow(), "s1", "A").ticket["id"]
    second = engine.issue_ticket(uow(), "s1", "A").ticket["id"]
    clock.now = local_time(DAY, "08:10")
    engine.call_next(uow(), "s1", 1)
    # what call-next writes when the site's setting is "requeue", then "no_show"
    log = [
        (first, "requeued", "called", "08:12", {"automatic": True, "position": "front"}),
        (second, "called", "waiting", "08:12", {}),
        (second, "no_show", "called", "08:15", {"automatic": True}),
        (first, "called", "waiting", "08:15", {}),
        (first, "finished", "called", "08:20", {}),
    ]
    counter = 1
    with database.writes() as session:
        from server.models import Counter

        counter = session.execute(select(Counter.id).where(Counter.number == 1)).scalar_one()
        for ticket, kind, before, hhmm, data in log:
            session.add(
                TicketEvent(
                    site_id=1,
                    ticket_id=ticket,
                    counter_id=counter,
                    kind=kind,
                    from_status=before,
                    at=local_time(DAY, hhmm),
                    data=data,
                )
            )
        session.commit()
    clock.now = local_time(NEXT, "08:00")
    total = report(database, clock, "counter")["total"]
    assert (total["no_show"], total["no_show_auto"], total["requeued"]) == (1, 1, 1)
    # first waited 10 min, then 3 (from its automatic requeue to its call again)
    assert total["wait_s"] == stats(10 * M, 12 * M, 3 * M)
    assert total["walk_s"]["count"] == 0 and total["service_s"] == stats(5 * M)
    # held: first 08:10-08:12 and 08:15-08:20, second 08:12-08:15
    assert total["serving_s"] == (2 + 5 + 3) * M


@pytest.mark.parametrize("rule", ["no_show", "requeue"])
def test_call_next_on_a_ticket_never_started_is_not_served(database, uow, clock, rule):
    """Issue 9, item 1, through the engine itself: a clerk presses G twice, 3 s apart."""
    from ..factories import build_site

    with database.writes() as session:
        build_site(session)
        session.execute(update(Site).values(unstarted_on_next=rule))
        session.commit()
    clock.now = local_time(DAY, "08:00")
    first = engine.issue_ticket(uow(), "s1", "A").ticket["id"]
    engine.issue_ticket(uow(), "s1", "A")
    clock.now = local_time(DAY, "08:10")
    engine.call_next(uow(), "s1", 1, idempotency_key="press-000001")
    clock.advance(seconds=3)
    engine.call_next(uow(), "s1", 1, idempotency_key="press-000002")
    engine.start(uow(), "s1", 1)
    clock.now = local_time(DAY, "08:20")
    engine.finish(uow(), "s1", 1)
    clock.now = local_time(NEXT, "08:00")
    total = report(database, clock, "counter")["total"]
    assert total["served"] == 1  # the second citizen only
    assert total["service_s"] == stats(10 * M - 3)
    if rule == "no_show":
        assert (total["no_show"], total["no_show_auto"], total["requeued"]) == (1, 1, 0)
        assert total["left_waiting"] == 0
    else:
        assert (total["no_show"], total["no_show_auto"], total["requeued"]) == (0, 0, 1)
        assert total["left_waiting"] == 1  # back at the front, never called again that day
    from ..factories import ticket_row

    assert ticket_row(database, first).status == ("no_show" if rule == "no_show" else "waiting")


def test_the_clerks_own_figures_today(database, uow, clock, day):
    clock.now = local_time(DAY, "23:59")
    with database.reads() as session:
        mine = reports.clerk_today(session, day.site_id, day.lan, now=clock())
    assert (mine["clerk"], mine["day"], mine["served"]) == ("lan", "2026-11-23", 2)  # T2, T4
    assert mine["service_s"]["mean"] == 600
    assert mine["ratings"]["satisfaction_index"] == 1.0
    assert mine["signed_in_s"] == (60 + 485 + 14) * M  # up to now: 23:45-23:59


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("2026-11-23", "2026-11-22", "report_range_reversed"),
        ("2026-01-01", "2027-01-02", "report_range_too_long"),
        ("23/11/2026", "2026-11-23", "report_bad_date"),
        ("2026-02-30", "2026-03-01", "report_bad_date"),
        ("", "2026-03-01", "report_date_required"),
        (None, "2026-03-01", "report_date_required"),
    ],
)
def test_periods_are_checked(start, end, code):
    with pytest.raises(QueueError) as info:
        reports.parse_period(start, end)
    assert info.value.code == code and info.value.kind == "invalid"


def test_groups_formats_and_named_periods():
    assert reports.parse_group(None) == "service" and reports.parse_group("hour") == "hour"
    with pytest.raises(QueueError):
        reports.parse_group("week")
    with pytest.raises(QueueError):
        reports.parse_format("pdf")
    assert reports.parse_period("2026-01-01", "2026-12-31").days == 365
    today = date(2026, 12, 3)  # a Thursday
    assert reports.named_period("this_week", today) == reports.Period(date(2026, 11, 30), today)
    assert reports.named_period("last_month", today) == reports.Period(
        date(2026, 11, 1), date(2026, 11, 30)
    )
    assert reports.named_period("yesterday", today).start == date(2026, 12, 2)


def test_nothing_in_the_period_gives_zeros_and_nulls(database, clock):
    from ..factories import build_site

    with database.writes() as session:
        build_site(session)
    total = report(database, clock, "day")["total"]
    assert total["issued"] == 0 and total["wait_s"]["mean"] is None
    assert total["ratings"]["satisfaction_index"] is None and total["over_target_share"] is None
