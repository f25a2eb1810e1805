"""Numbers taken from home (engine): issuing, the limits, checking in, the calling order, the
phone number's keyed hash and its purge. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from server import engine
from server.engine import remote
from server.engine.remote import check_in, issue_remote, phone_hash, purge_phone_hashes
from server.engine.rules import CHANNELS, DIRECT, REMOTE, WAITING
from server.models import RemotePhone, Service, Site

from ..factories import ServiceSpec, build_site, refusal, snapshot, ticket_log, ticket_row

KEY = b"k" * 32
PHONE = "0912 345 678"


def digest(phone: str = PHONE, key: bytes = KEY) -> str:
    return phone_hash(key, phone)


@pytest.fixture
def site(database: Any) -> None:
    """s1 takes numbers from home for A (cap 10, 30 % from home) and B (no cap); check-in."""
    with database.writes() as s:
        build_site(s, services=[ServiceSpec("A", prefix="A", cap=10), ServiceSpec("B", prefix="B")])
        row = s.execute(select(Site)).scalar_one()
        row.remote_enabled = True
        for service in s.execute(select(Service)).scalars():
            service.remote_enabled = True
            service.remote_share = 30
        s.commit()


def settings(database: Any, **values: Any) -> None:
    with database.writes() as s:
        row = s.execute(select(Site)).scalar_one()
        for name, value in values.items():
            setattr(row, name, value)
        s.commit()


def take(uow: Callable[[], Any], service: str = "A", phone: str = PHONE, **kw: Any) -> Any:
    return issue_remote(uow(), "s1", service, digest(phone), **kw).ticket


def numbers_called(uow: Callable[[], Any], times: int, counter: int = 1) -> list[str]:
    return [engine.call_next(uow(), "s1", counter)["number"] for _ in range(times)]


def test_remote_is_a_channel_of_its_own() -> None:
    assert "remote" in CHANNELS


# --- issuing -------------------------------------------------------------------------------


def test_a_number_from_home_waits_outside_the_line_until_check_in(
    site: None, uow: Any, database: Any, published: Any
) -> None:
    ticket = take(uow)
    assert ticket["status"] == REMOTE and ticket["channel"] == "remote"
    assert ticket["number"] == "A001"  # the service's own numbering, gap-free with the kiosk's
    row = ticket_row(database, ticket["id"])
    assert row.check_in_code is not None and len(row.check_in_code) == 6
    assert row.check_in_code.isdigit()
    assert published.names() == ["ticket.issued"]
    assert published.events[0].payload["waiting"] == {"A": 0, "B": 0}  # not in line yet
    assert refusal(engine.call_next, uow(), "s1", 1).code == "queue_empty"
    [issued] = ticket_log(database, ticket["id"])
    assert (issued.kind, issued.to_status, issued.data["channel"]) == ("issued", REMOTE, "remote")


def test_the_calling_order_before_and_after_check_in(
    site: None, uow: Any, database: Any, clock: Any
) -> None:
    first = engine.issue_ticket(uow(), "s1", "A").ticket  # A001, at the kiosk
    clock.advance(minutes=1)
    far = take(uow)  # A002, from home
    clock.advance(minutes=1)
    second = engine.issue_ticket(uow(), "s1", "A").ticket  # A003
    # Before check-in the number from home is passed over.
    assert numbers_called(uow, 1) == [first["number"]]
    clock.advance(minutes=1)
    arrived = check_in(uow(), "s1", code=ticket_row(database, far["id"]).check_in_code)
    assert arrived["status"] == WAITING and arrived["number"] == "A002"
    assert arrived["people_ahead"] == 1  # A003, who came in before
    clock.advance(minutes=1)
    later = engine.issue_ticket(uow(), "s1", "A").ticket  # A004, after the check-in
    # After it: behind who came before its check-in, ahead of who came after.
    assert numbers_called(uow, 3) == [second["number"], "A002", later["number"]]
    assert ticket_row(database, far["id"]).checked_in_at is not None


def test_under_the_direct_rule_it_is_called_like_any_other(
    site: None, uow: Any, database: Any, clock: Any
) -> None:
    settings(database, remote_arrival=DIRECT)
    engine.issue_ticket(uow(), "s1", "A")
    clock.advance(minutes=1)
    far = take(uow)
    clock.advance(minutes=1)
    engine.issue_ticket(uow(), "s1", "A")
    assert far["status"] == WAITING and ticket_row(database, far["id"]).check_in_code is None
    assert numbers_called(uow, 3) == ["A001", "A002", "A003"]


@pytest.mark.parametrize(
    ("where", "change"),
    [("site", {"remote_enabled": False}), ("service", {"remote_enabled": False})],
)
def test_a_site_or_service_without_numbers_from_home_refuses(
    site: None, uow: Any, database: Any, where: str, change: dict[str, Any]
) -> None:
    with database.writes() as s:
        model = Site if where == "site" else Service
        for row in s.execute(select(model)).scalars():
            for name, value in change.items():
                setattr(row, name, value)
        s.commit()
    before = snapshot(database)
    assert refusal(take, uow).code == "remote_disabled"
    assert snapshot(database) == before


def test_the_same_form_sent_twice_gives_one_ticket(site: None, uow: Any, database: Any) -> None:
    one = take(uow, idempotency_key="form-key-0001")
    again = issue_remote(uow(), "s1", "A", digest(), idempotency_key="form-key-0001")
    assert again.replayed and again.ticket["id"] == one["id"]
    assert again.ticket["tracking_token"]  # the form lands on the ticket's page again
    with database.reads() as s:
        assert s.execute(select(RemotePhone.taken)).scalar_one() == 1


# --- the limits -----------------------------------------------------------------------------


def test_one_phone_number_takes_at_most_the_sites_daily_limit(
    site: None, uow: Any, database: Any, clock: Any
) -> None:
    take(uow, "B")
    take(uow, "B", phone="+84 912 345 678")  # the same number, written otherwise
    before = snapshot(database)
    err = refusal(take, uow, "B", phone="0912.345.678")
    assert (err.code, err.params) == ("phone_limit_reached", {"limit": 2})
    assert snapshot(database) == before  # refused: nothing taken, nothing counted
    assert take(uow, "B", phone="0987 654 321")["number"] == "B003"  # another phone
    settings(database, remote_per_phone=3)
    take(uow, "B")
    clock.advance(days=1)
    settings(database, remote_per_phone=2)
    take(uow, "B")  # a new day
    take(uow, "B")


def test_numbers_from_home_take_only_their_share_of_the_cap(
    site: None, uow: Any, database: Any
) -> None:
    # Cap 10, 30 % from home: 3 numbers. Other phones, so only the share stops them.
    for n in range(3):
        take(uow, "A", phone=f"090000000{n}")
    before = snapshot(database)
    assert refusal(take, uow, "A", phone="0900000009").code == "remote_share_reached"
    assert snapshot(database) == before
    # The kiosk still gives the rest of the day's numbers.
    assert engine.issue_ticket(uow(), "s1", "A").ticket["number"] == "A004"
    with database.reads() as s:
        site_row = s.execute(select(Site)).scalar_one()
        states = {x["code"]: x["state"] for x in remote.remote_services(s, site_row, uow().clock())}
    assert states == {"A": "full", "B": "open"}


def test_a_service_without_a_cap_has_no_share_limit() -> None:
    assert remote.remote_cap(Service(daily_cap=None, remote_share=10)) is None
    assert remote.remote_cap(Service(daily_cap=10, remote_share=35)) == 3
    assert (
        remote.remote_cap(Service(daily_cap=50, remote_share=100, range_start=1, range_end=20))
        == 20
    )


# --- checking in -------------------------------------------------------------------------------


def test_check_in_by_the_qr_codes_token(
    site: None, uow: Any, database: Any, published: Any
) -> None:
    far = take(uow)
    token = ticket_row(database, far["id"]).tracking_token
    published.events.clear()
    arrived = check_in(uow(), "s1", tracking_token=token, actor="kiosk:1")
    assert arrived["status"] == WAITING and arrived["tracking_token"] == token
    assert published.names() == ["ticket.updated"]
    assert published.events[0].payload["action"] == "checked_in"
    assert published.events[0].payload["waiting"]["A"] == 1
    log = ticket_log(database, far["id"])
    assert [(e.kind, e.from_status, e.to_status, e.actor) for e in log][-1] == (
        "checked_in",
        REMOTE,
        WAITING,
        "kiosk:1",
    )


def test_check_in_refusals_change_nothing(site: None, uow: Any, database: Any, clock: Any) -> None:
    far = take(uow)
    code = ticket_row(database, far["id"]).check_in_code
    kiosk_ticket = engine.issue_ticket(uow(), "s1", "B").ticket
    with database.writes() as s:
        build_site(s, "s2")
    other_code = "000000" if code != "000000" else "111111"
    before = snapshot(database)
    assert refusal(check_in, uow(), "s1", code=other_code).code == "check_in_not_found"
    assert refusal(check_in, uow(), "s1", code="12ab56").code == "invalid_check_in"
    assert refusal(check_in, uow(), "s1").code == "invalid_check_in"
    assert refusal(check_in, uow(), "s2", code=code).code == "check_in_not_found"  # other site
    token = ticket_row(database, kiosk_ticket["id"]).tracking_token
    err = refusal(check_in, uow(), "s1", tracking_token=token)
    assert (err.code, err.params) == ("already_checked_in", {"number": "B001"})
    assert snapshot(database) == before
    check_in(uow(), "s1", code=code)
    assert refusal(check_in, uow(), "s1", code=code).code == "already_checked_in"
    # Yesterday's number from home is no longer checked in.
    late = take(uow, "B", phone="0987654321")
    clock.advance(days=1)
    token = ticket_row(database, late["id"]).tracking_token
    assert refusal(check_in, uow(), "s1", tracking_token=token).code == "ticket_expired"


def test_a_number_still_at_home_is_not_in_the_line_to_cancel(
    site: None, uow: Any, database: Any
) -> None:
    # Staff cancel numbers waiting in line; one still at home is not in the line to cancel.
    far = take(uow)
    assert refusal(engine.cancel, uow(), "s1", far["id"]).code == "invalid_transition"


# --- the phone number: a keyed hash, purged after the retention period ----------------------------


def test_the_phone_number_is_kept_only_as_a_keyed_hash(site: None, uow: Any, database: Any) -> None:
    take(uow, "B")
    stored = snapshot(database)
    text = repr(stored)
    for written in ("0912345678", "912345678", "0912 345 678"):
        assert written not in text
    with database.reads() as s:
        row = s.execute(select(RemotePhone)).scalar_one()
    assert row.phone_hash == digest()
    import hashlib
    import hmac

    assert row.phone_hash == hmac.new(KEY, b"0912345678", hashlib.sha256).hexdigest()
    assert row.phone_hash != hashlib.sha256(b"0912345678").hexdigest()  # keyed, not a plain hash
    assert phone_hash(b"another key", PHONE) != row.phone_hash
    assert phone_hash(KEY, "+84912345678") == phone_hash(KEY, "84 912 345 678") == row.phone_hash


@pytest.mark.parametrize("typed", ["", "12345", "091234567", "09123456789012", "abc0912345678"])
def test_a_wrong_phone_number_is_refused(typed: str) -> None:
    with pytest.raises(engine.QueueError) as err:
        phone_hash(KEY, typed)
    assert err.value.code == "invalid_phone"


def test_the_engine_refuses_a_hash_that_is_not_one(site: None, uow: Any, database: Any) -> None:
    before = snapshot(database)
    assert refusal(issue_remote, uow(), "s1", "A", "0912345678").code == "invalid_phone"
    assert snapshot(database) == before


def test_purge_deletes_the_hashes_past_each_sites_retention(
    site: None, uow: Any, database: Any, clock: Any
) -> None:
    settings(database, phone_retention_days=2, remote_per_phone=10)
    take(uow, "B")  # day 0
    clock.advance(days=1)
    take(uow, "B", phone="0987654321")  # day 1
    clock.advance(days=1)
    take(uow, "B", phone="0911111111")  # day 2
    assert purge_phone_hashes(uow()) == 0  # day 0 is exactly 2 days old: kept
    clock.advance(days=1)
    assert purge_phone_hashes(uow()) == 1  # day 3: day 0 goes
    with database.reads() as s:
        kept = sorted(r.phone_hash for r in s.execute(select(RemotePhone)).scalars())
    assert kept == sorted([digest("0987654321"), digest("0911111111")])
    settings(database, phone_retention_days=1)
    assert purge_phone_hashes(uow()) == 1
    assert purge_phone_hashes(uow()) == 0
    # The tickets themselves stay for the reports.
    with database.reads() as s:
        assert len(s.execute(select(RemotePhone)).all()) == 1
