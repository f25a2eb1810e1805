"""Issuing tickets: numbering, refusals that change nothing, priority, idempotency."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from server import engine
from server.engine import tickets as tickets_module
from server.engine.rules import CHANNELS, PRIORITY_REASONS
from server.models import Counter, DailySequence, Service, Ticket

from ..factories import (
    ServiceSpec,
    build_site,
    issue,
    local_time,
    refusal,
    snapshot,
    ticket_log,
    ticket_row,
)

MONDAY = date(2026, 11, 23)
SATURDAY = date(2026, 11, 28)
OFFICE_HOURS = [{"start": "07:30", "end": "11:30"}, {"start": "13:30", "end": "17:00"}]


def numbers(uow, service, n, site="s1"):
    return [issue(uow, service, site)["number"] for _ in range(n)]


def last_seq(database, service_code):
    with database.reads() as s:
        return s.execute(
            select(DailySequence.last_seq)
            .join(Service, Service.id == DailySequence.service_id)
            .where(Service.code == service_code)
        ).scalar_one_or_none()


def site_with(session, *specs):
    """Site s1 with these services, all served by counter 1."""
    return build_site(session, services=list(specs), counters={1: {x.code: 1 for x in specs}})


def set_service(database, code, **values):
    with database.writes() as s:
        s.execute(update(Service).where(Service.code == code).values(**values))
        s.commit()


# --- numbering -----------------------------------------------------------------


def test_prefix_numbers_are_zero_padded_and_counted_per_service(database, uow):
    with database.writes() as s:
        build_site(
            s,
            services=[
                ServiceSpec("A", prefix="A"),
                ServiceSpec("B", prefix="B"),
                ServiceSpec("C", prefix="C", width=4),
            ],
            counters={1: {"A": 1, "B": 1, "C": 1}},
        )
    assert numbers(uow, "A", 2) == ["A001", "A002"]
    assert numbers(uow, "B", 1) == ["B001"]
    assert numbers(uow, "A", 1) == ["A003"]
    assert numbers(uow, "C", 2) == ["C0001", "C0002"]
    assert numbers(uow, "B", 1) == ["B002"]


def test_number_grows_past_its_padding(database, uow):
    with database.writes() as s:
        build_site(s, services=[ServiceSpec("X", prefix="X", width=1)], counters={1: {"X": 1}})
    assert numbers(uow, "X", 10)[-2:] == ["X9", "X10"]


def test_ticket_keeps_its_seq_and_service(database, uow):
    with database.writes() as s:
        build_site(s)
    issue(uow, "A")
    t = issue(uow, "A")
    row = ticket_row(database, t["id"])
    assert (row.seq, row.number, row.business_day) == (2, "A002", MONDAY)
    assert row.issued_service_id == row.service_id


def test_numeric_range_numbers_start_at_the_range_start(database, uow):
    with database.writes() as s:
        build_site(
            s,
            services=[ServiceSpec("R", range=(1001, 1999)), ServiceSpec("S", range=(5000, 5999))],
            counters={1: {"R": 1, "S": 1}},
        )
    assert numbers(uow, "R", 3) == ["1001", "1002", "1003"]
    assert numbers(uow, "S", 1) == ["5000"]
    assert numbers(uow, "R", 1) == ["1004"]


def test_numbers_are_counted_per_site(database, uow):
    with database.writes() as s:
        build_site(s, "s1")
        build_site(s, "s2")
    assert numbers(uow, "A", 2, site="s1") == ["A001", "A002"]
    assert numbers(uow, "A", 1, site="s2") == ["A001"]
    assert numbers(uow, "A", 1, site="s1") == ["A003"]


def test_issued_ticket_content(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    result = engine.issue_ticket(uow(), "s1", "A", channel="online", actor="kiosk-1")
    t = result.ticket
    assert result.replayed is False
    assert t["status"] == "waiting"
    assert t["service"] == "A"
    assert t["channel"] == "online"
    assert t["priority"] is None
    assert t["business_day"] == "2026-11-23"
    assert t["issued_at"] == clock.now.isoformat()
    assert t["called_at"] is None and t["counter"] is None
    assert t["position"] == 1 and t["people_ahead"] == 0
    assert t["tracking_token"] == ticket_row(database, t["id"]).tracking_token
    assert len(t["tracking_token"]) >= 16


def test_tracking_tokens_differ(database, uow):
    with database.writes() as s:
        build_site(s)
    tokens = {issue(uow, "A")["tracking_token"] for _ in range(5)}
    assert len(tokens) == 5


def test_issue_writes_one_issued_event(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    t = issue(uow, "A", priority="elderly", channel="api", actor="kiosk-7")
    log = ticket_log(database, t["id"])
    assert len(log) == 1
    ev = log[0]
    assert (ev.kind, ev.from_status, ev.to_status) == ("issued", None, "waiting")
    assert ev.actor == "kiosk-7"
    assert ev.counter_id is None
    assert ev.at == clock.now
    assert ev.data == {"channel": "api", "priority": "elderly"}


def test_the_unique_number_constraint_is_the_last_guard(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    first = ticket_row(database, issue(uow, "A")["id"])
    with database.writes() as s:
        s.add(
            Ticket(
                site_id=first.site_id,
                issued_service_id=first.issued_service_id,
                service_id=first.service_id,
                business_day=first.business_day,
                seq=first.seq,
                number="A001",
                sort_key=0,
                issued_at=clock.now,
                tracking_token="another-token",
            )
        )
        with pytest.raises(IntegrityError):
            s.commit()


# --- priority and channel --------------------------------------------------------


@pytest.mark.parametrize("reason", PRIORITY_REASONS)
def test_every_priority_reason_is_stored(database, uow, reason):
    with database.writes() as s:
        build_site(s)
    t = issue(uow, "A", priority=reason)
    assert t["priority"] == reason
    assert ticket_row(database, t["id"]).priority_reason == reason


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_is_stored(database, uow, channel):
    with database.writes() as s:
        build_site(s)
    t = issue(uow, "A", channel=channel)
    assert ticket_row(database, t["id"]).channel == channel


def test_priority_and_normal_share_one_numbering(database, uow):
    with database.writes() as s:
        build_site(s)
    assert issue(uow, "A")["number"] == "A001"
    assert issue(uow, "A", priority="disabled")["number"] == "A002"
    assert issue(uow, "A")["number"] == "A003"


# --- refusals ---------------------------------------------------------------------


def _closed_hours(database, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", sessions=OFFICE_HOURS))
    clock.now = local_time(MONDAY, "12:00")
    return {"service": "A"}


def _closed_day(database, clock):
    weekdays = [{"start": "07:00", "end": "17:00", "days": [1, 2, 3, 4, 5]}]
    with database.writes() as s:
        site_with(s, ServiceSpec("A", sessions=weekdays))
    clock.now = local_time(SATURDAY, "09:00")
    return {"service": "A"}


def _inactive(database, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", active=False))
    return {"service": "A"}


def _inactive_and_closed(database, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", active=False, sessions=OFFICE_HOURS))
    clock.now = local_time(MONDAY, "12:00")
    return {"service": "A"}


def _cap(database, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", cap=2))
    return {"service": "A", "before": 2}


def _range_exhausted(database, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", range=(1001, 1003)))
    return {"service": "A", "before": 3}


def _cap_below_range(database, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", range=(1001, 1999), cap=2))
    return {"service": "A", "before": 2}


def _unknown_service(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "Z"}


def _unknown_site(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "A", "site": "nowhere"}


def _bad_priority(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "A", "priority": "vip"}


def _bad_channel(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "A", "channel": "fax"}


def _short_key(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "A", "idempotency_key": "short"}


def _key_with_space(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "A", "idempotency_key": "has a space in it"}


def _long_key(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "A", "idempotency_key": "k" * 129}


def _key_with_newline(database, clock):
    with database.writes() as s:
        build_site(s)
    return {"service": "A", "idempotency_key": "kiosk1-0001\n"}


REFUSALS = [
    (_closed_hours, "service_closed", "conflict"),
    (_closed_day, "service_closed", "conflict"),
    (_inactive, "service_inactive", "conflict"),
    (_inactive_and_closed, "service_inactive", "conflict"),
    (_cap, "daily_cap_reached", "conflict"),
    (_range_exhausted, "daily_cap_reached", "conflict"),
    (_cap_below_range, "daily_cap_reached", "conflict"),
    (_unknown_service, "service_not_found", "not_found"),
    (_unknown_site, "site_not_found", "not_found"),
    (_bad_priority, "invalid_priority", "invalid"),
    (_bad_channel, "invalid_channel", "invalid"),
    (_short_key, "invalid_idempotency_key", "invalid"),
    (_key_with_space, "invalid_idempotency_key", "invalid"),
    (_long_key, "invalid_idempotency_key", "invalid"),
    (_key_with_newline, "invalid_idempotency_key", "invalid"),
]


@pytest.mark.parametrize(("setup", "code", "kind"), REFUSALS, ids=[code for _, code, _ in REFUSALS])
def test_refused_issue_changes_nothing(database, uow, clock, published, setup, code, kind):
    args = setup(database, clock)
    for _ in range(args.pop("before", 0)):
        issue(uow, args["service"])
    before = snapshot(database)
    published.events.clear()
    site = args.pop("site", "s1")
    service = args.pop("service")
    err = refusal(engine.issue_ticket, uow(), site, service, **args)
    assert err.code == code
    assert err.kind == kind
    assert snapshot(database) == before
    assert published.events == []


def test_cap_counts_tickets_of_the_day(database, uow):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", cap=2))
    assert numbers(uow, "A", 2) == ["A001", "A002"]
    err = refusal(engine.issue_ticket, uow(), "s1", "A")
    assert err.params == {"service": "A", "cap": 2}


def test_range_exhaustion_stops_at_the_range_end(database, uow):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", range=(1001, 1003)))
    assert numbers(uow, "A", 3) == ["1001", "1002", "1003"]
    assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "daily_cap_reached"


@pytest.mark.parametrize(
    ("hhmm", "is_open"),
    [
        ("07:29", False),
        ("07:30", True),
        ("11:29", True),
        ("11:30", False),
        ("12:00", False),
        ("13:29", False),
        ("13:30", True),
        ("16:59", True),
        ("17:00", False),
        ("20:00", False),
    ],
)
def test_sessions_are_read_in_local_time(database, uow, clock, hhmm, is_open):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", sessions=OFFICE_HOURS))
    clock.now = local_time(MONDAY, hhmm)
    if is_open:
        assert issue(uow, "A")["number"] == "A001"
    else:
        assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "service_closed"


def test_days_restrict_a_session_to_weekdays(database, uow, clock):
    weekdays = [{"start": "07:00", "end": "17:00", "days": [1, 2, 3, 4, 5]}]
    saturday_morning = [{"start": "08:00", "end": "10:00", "days": [6]}]
    with database.writes() as s:
        site_with(s, ServiceSpec("A", sessions=weekdays + saturday_morning))
    clock.now = local_time(MONDAY, "16:00")
    assert issue(uow, "A")["number"] == "A001"
    clock.now = local_time(SATURDAY, "09:00")
    assert issue(uow, "A")["number"] == "A001"
    clock.now = local_time(SATURDAY, "11:00")
    assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "service_closed"
    clock.now = local_time(date(2026, 11, 29), "09:00")  # Sunday
    assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "service_closed"


# --- gap-free numbering around refusals ---------------------------------------------


def test_refusals_do_not_consume_numbers(database, uow, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", sessions=OFFICE_HOURS))
    clock.now = local_time(MONDAY, "11:00")
    assert issue(uow, "A")["number"] == "A001"
    refusal(engine.issue_ticket, uow(), "s1", "A", priority="vip")
    refusal(engine.issue_ticket, uow(), "s1", "A", channel="fax")
    refusal(engine.issue_ticket, uow(), "s1", "A", idempotency_key="bad")
    clock.now = local_time(MONDAY, "12:00")
    refusal(engine.issue_ticket, uow(), "s1", "A")
    assert last_seq(database, "A") == 1
    clock.now = local_time(MONDAY, "13:30")
    assert issue(uow, "A")["number"] == "A002"


def test_cap_refusal_gives_the_number_back(database, uow):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", cap=2))
    numbers(uow, "A", 2)
    for _ in range(3):
        assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "daily_cap_reached"
    assert last_seq(database, "A") == 2
    set_service(database, "A", daily_cap=3)
    assert issue(uow, "A")["number"] == "A003"


def test_inactive_refusal_gives_no_number(database, uow):
    with database.writes() as s:
        build_site(s)
    issue(uow, "A")
    set_service(database, "A", active=False)
    refusal(engine.issue_ticket, uow(), "s1", "A")
    set_service(database, "A", active=True)
    assert issue(uow, "A")["number"] == "A002"


# --- idempotency --------------------------------------------------------------------


def test_same_key_returns_the_same_ticket(database, uow, published, clock):
    with database.writes() as s:
        build_site(s)
    first = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0001")
    assert first.replayed is False
    before = snapshot(database)
    events = len(published.events)
    clock.advance(minutes=1)
    again = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0001")
    assert again.replayed is True
    assert again.ticket["id"] == first.ticket["id"]
    assert again.ticket["number"] == "A001"
    assert again.ticket["tracking_token"] == first.ticket["tracking_token"]
    assert snapshot(database) == before
    assert len(published.events) == events
    assert issue(uow, "A")["number"] == "A002"


def test_replay_shows_the_ticket_as_it_is_now(database, uow):
    with database.writes() as s:
        build_site(s)
    t = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0002").ticket
    engine.call_next(uow(), "s1", 1)
    again = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0002")
    assert again.replayed is True
    assert again.ticket["id"] == t["id"]
    assert again.ticket["status"] == "called"


def test_key_with_another_service_is_refused(database, uow, published):
    with database.writes() as s:
        build_site(s)
    engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0003")
    before = snapshot(database)
    published.events.clear()
    err = refusal(engine.issue_ticket, uow(), "s1", "B", idempotency_key="kiosk1-0003")
    assert err.code == "idempotency_key_reused"
    assert snapshot(database) == before
    assert published.events == []
    assert issue(uow, "B")["number"] == "B001"


def test_key_still_matches_after_a_transfer(database, uow):
    with database.writes() as s:
        build_site(s)
    t = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0004").ticket
    engine.transfer(uow(), "s1", t["id"], to_service="B")
    for service in ("A", "B"):
        again = engine.issue_ticket(uow(), "s1", service, idempotency_key="kiosk1-0004")
        assert again.replayed is True and again.ticket["id"] == t["id"]


def test_keys_are_per_site(database, uow):
    with database.writes() as s:
        build_site(s, "s1")
        build_site(s, "s2")
    a = engine.issue_ticket(uow(), "s1", "A", idempotency_key="shared-key-1")
    b = engine.issue_ticket(uow(), "s2", "A", idempotency_key="shared-key-1")
    assert b.replayed is False
    assert a.ticket["id"] != b.ticket["id"]


def test_key_replay_does_not_need_the_service_open(database, uow, clock):
    with database.writes() as s:
        site_with(s, ServiceSpec("A", sessions=OFFICE_HOURS))
    clock.now = local_time(MONDAY, "11:29")
    t = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0005").ticket
    clock.now = local_time(MONDAY, "11:31")
    again = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0005")
    assert again.replayed is True and again.ticket["id"] == t["id"]


def test_key_race_lost_at_insert_returns_the_winner(database, uow, published, monkeypatch):
    """The unique key is the guard when two requests pass the replay check at once."""
    with database.writes() as s:
        build_site(s)
    winner = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0006").ticket
    before = snapshot(database)
    events = len(published.events)
    real_replay = tickets_module._replay
    calls = []

    def replay_missing_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            return None  # as if the winner had not committed yet
        return real_replay(*args, **kwargs)

    monkeypatch.setattr(tickets_module, "_replay", replay_missing_once)
    again = engine.issue_ticket(uow(), "s1", "A", idempotency_key="kiosk1-0006")
    assert len(calls) == 2
    assert again.replayed is True
    assert again.ticket["id"] == winner["id"]
    assert snapshot(database) == before
    assert len(published.events) == events
    monkeypatch.undo()
    assert issue(uow, "A")["number"] == "A002"


def test_a_service_no_counter_serves_issues_no_ticket(database, uow, published):
    """Issue 9, item 4: G would never call it. A paused or unstaffed counter still serves."""
    with database.writes() as s:
        build_site(s, counters={1: {"A": 1}})
    before = snapshot(database)
    err = refusal(engine.issue_ticket, uow(), "s1", "B")
    assert (err.code, err.kind, err.params) == ("service_unserved", "conflict", {"service": "B"})
    assert snapshot(database) == before and published.events == []
    engine.pause(uow(), "s1", 1)
    assert issue(uow, "A")["number"] == "A001"  # paused for a while: it will call again
    with database.writes() as s:
        s.execute(update(Counter).values(active=False))
        s.commit()
    assert refusal(engine.issue_ticket, uow(), "s1", "A").code == "service_unserved"
