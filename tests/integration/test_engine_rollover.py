"""The business day: local midnight in the site's zone restarts numbering, keeps history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from server import engine
from server.engine.views import site_by_code
from server.models import DailySequence, Ticket

from ..factories import ServiceSpec, build_site, issue, local_time, refusal, ticket_row

MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)
# Local midnight in Asia/Ho_Chi_Minh (UTC+7) is 17:00 UTC the day before.
LAST_MINUTE = datetime(2026, 11, 23, 16, 59, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_day_boundary_is_local_midnight(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    clock.now = LAST_MINUTE
    late = issue(uow, "A")
    clock.now = datetime(2026, 11, 23, 16, 59, 59, 999000, tzinfo=UTC)
    later = issue(uow, "A")
    clock.now = MIDNIGHT
    first = issue(uow, "A")
    assert (late["number"], late["business_day"]) == ("A001", "2026-11-23")
    assert (later["number"], later["business_day"]) == ("A002", "2026-11-23")
    assert (first["number"], first["business_day"]) == ("A001", "2026-11-24")


def test_new_day_restarts_every_service_and_keeps_yesterday(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=[ServiceSpec("A"), ServiceSpec("B", prefix="B")])
    monday = [issue(uow, "A"), issue(uow, "A"), issue(uow, "B")]
    clock.now = local_time(TUESDAY, "08:00")
    assert issue(uow, "B")["number"] == "B001"
    assert issue(uow, "A")["number"] == "A001"
    assert issue(uow, "A")["number"] == "A002"
    for t in monday:
        row = ticket_row(database, t["id"])
        assert row.business_day == MONDAY
        assert row.number == t["number"]
    with database.reads() as s:
        per_day = dict(
            s.execute(select(Ticket.business_day, func.count()).group_by(Ticket.business_day)).all()
        )
        sequences = s.execute(
            select(DailySequence.business_day, DailySequence.last_seq).order_by(
                DailySequence.business_day, DailySequence.service_id
            )
        ).all()
    assert per_day == {MONDAY: 3, TUESDAY: 3}
    assert [tuple(r) for r in sequences] == [(MONDAY, 2), (MONDAY, 1), (TUESDAY, 2), (TUESDAY, 1)]


def test_a_zone_other_than_vietnam_has_its_own_midnight(database, uow, clock):
    with database.writes() as s:
        build_site(s, timezone="UTC")
    clock.now = MIDNIGHT  # 00:00 in Ho Chi Minh City, still 17:00 Monday in UTC
    assert issue(uow, "A")["business_day"] == "2026-11-23"
    clock.now = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)
    assert issue(uow, "A")["number"] == "A002"
    clock.now = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    t = issue(uow, "A")
    assert (t["number"], t["business_day"]) == ("A001", "2026-11-24")


def test_days_of_a_session_are_local_weekdays(database, uow, clock):
    all_day_monday = [{"start": "00:00", "end": "23:59", "days": [1]}]
    with database.writes() as s:
        build_site(s, services=[ServiceSpec("A", sessions=all_day_monday)], counters={1: {"A": 1}})
    clock.now = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)  # Sunday in UTC, Monday 00:30 local
    assert issue(uow, "A")["number"] == "A001"
    clock.now = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # Monday in UTC, Tuesday 00:30 local
    assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "service_closed"


def test_opening_hour_is_local_not_utc(database, uow, clock):
    morning = [{"start": "07:30", "end": "11:30"}]
    with database.writes() as s:
        build_site(s, services=[ServiceSpec("A", sessions=morning)], counters={1: {"A": 1}})
    clock.now = datetime(2026, 11, 23, 0, 29, tzinfo=UTC)  # 07:29 local
    assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "service_closed"
    clock.now = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 07:30 local
    assert issue(uow, "A")["number"] == "A001"
    clock.now = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 07:30 UTC = 14:30 local
    assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "service_closed"


def test_yesterdays_waiting_tickets_are_not_called(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    clock.now = LAST_MINUTE
    old = issue(uow, "A")
    clock.now = MIDNIGHT
    err = refusal(engine.call_next, uow(), "s1", 1)
    assert err.code == "queue_empty"
    fresh = issue(uow, "A")
    called = engine.call_next(uow(), "s1", 1)
    assert called["id"] == fresh["id"]
    assert refusal(engine.call_next, uow(), "s1", 1).code == "queue_empty"
    assert ticket_row(database, old["id"]).status == "waiting"


def test_yesterdays_ticket_is_not_ahead_of_today(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    clock.now = LAST_MINUTE
    issue(uow, "A")
    issue(uow, "A")
    clock.now = MIDNIGHT
    t = issue(uow, "A")
    assert t["people_ahead"] == 0 and t["position"] == 1
    with database.reads() as s:
        site = site_by_code(s, "s1")
        overview = {x["code"]: x for x in engine.services_overview(s, site, clock.now)}
    assert overview["A"]["waiting"] == 1
    assert overview["A"]["issued_today"] == 1


def test_yesterdays_ticket_cannot_be_called_by_id(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    old = issue(uow, "A")
    clock.now = local_time(TUESDAY, "08:00")
    err = refusal(engine.call_ticket, uow(), "s1", 1, old["id"])
    assert err.code == "ticket_expired"
    assert ticket_row(database, old["id"]).status == "waiting"


def test_yesterdays_no_show_cannot_be_requeued(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    old = issue(uow, "A")
    engine.call_next(uow(), "s1", 1)
    engine.no_show(uow(), "s1", 1)
    clock.now = local_time(TUESDAY, "08:00")
    err = refusal(engine.requeue, uow(), "s1", old["id"])
    assert err.code == "ticket_expired"
    assert ticket_row(database, old["id"]).status == "no_show"
