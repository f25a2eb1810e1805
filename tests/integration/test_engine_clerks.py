"""Clerks at counters: sign in, sign out, release; the counter's queue; who served a ticket.

Rules (server/engine/counters.py): one clerk per counter and one counter per clerk; a
counter another clerk holds is refused (``counter_taken``) unless taken over; an unknown or
inactive counter is ``counter_not_found``. Each change is logged and published as
``counter.updated`` with the clerk. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from server import engine
from server.db import Database
from server.engine import QueueError, UnitOfWork
from server.models import Counter, Rating, Site, User, UserSite

from ..factories import (
    HCM_MORNING,
    ServiceSpec,
    build_site,
    counter_ids,
    issue_later,
    refusal,
    snapshot,
    ticket_log,
    ticket_row,
)
from ..threads import in_threads

AB = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]
# Counter 1 serves A (weight 2) before B (weight 1); counter 2 serves A; counter 3 serves B.
COUNTERS = {1: {"A": 2, "B": 1}, 2: {"A": 1}, 3: {"B": 1}}
WAIT_S = 60


@pytest.fixture
def site(database: Database) -> None:
    with database.writes() as s:
        build_site(s, services=AB, counters=COUNTERS)
        build_site(s, "s2", services=AB, counters={1: {"A": 1}})


def add_user(
    database: Database,
    username: str,
    full_name: str = "",
    *,
    role: str = "clerk",
    photo_url: str | None = None,
    active: bool = True,
    sites: tuple[str, ...] | None = None,
) -> int:
    """A staff account linked to ``sites`` (by default every site there is by now)."""
    with database.writes() as s:
        user = User(
            username=username,
            full_name=full_name,
            password_hash="x",
            role=role,
            photo_url=photo_url,
            active=active,
            created_at=HCM_MORNING,
        )
        s.add(user)
        s.flush()
        query = select(Site.id) if sites is None else select(Site.id).where(Site.code.in_(sites))
        s.add_all(UserSite(user_id=user.id, site_id=site_id) for site_id in s.scalars(query))
        s.commit()
        return user.id


@pytest.fixture
def lan(database: Database, site: None) -> int:
    return add_user(database, "lan", "Nguyễn Thị Lan", photo_url="/static/photos/lan.jpg")


@pytest.fixture
def binh(database: Database, site: None) -> int:
    return add_user(database, "binh", "Trần Văn Bình")


def holders(database: Database, site_code: str = "s1") -> dict[int, int | None]:
    """Counter number -> the clerk signed in there."""
    with database.reads() as s:
        rows = s.execute(
            select(Counter.number, Counter.clerk_id)
            .join(Site, Site.id == Counter.site_id)
            .where(Site.code == site_code)
            .order_by(Counter.number)
        ).all()
        return {number: clerk for number, clerk in rows}


def clerk_log(database: Database) -> list[tuple[str, int | None, Any, str]]:
    """The clerk_signed_in / clerk_signed_out rows: (kind, counter id, data, actor)."""
    return [
        (e.kind, e.counter_id, e.data, e.actor)
        for e in ticket_log(database)
        if e.kind.startswith("clerk_")
    ]


def counter_events(published: Any) -> list[dict[str, Any]]:
    return [e.payload["counter"] for e in published.events if e.name == "counter.updated"]


def unchanged(database: Database, published: Any, call: Any, *args: Any, **kwargs: Any) -> Any:
    """The call is refused; neither the database nor the published events change."""
    before = snapshot(database)
    events = len(published.events)
    err = refusal(call, *args, **kwargs)
    assert snapshot(database) == before
    assert len(published.events) == events
    return err


# --- sign in ---------------------------------------------------------------------------


def test_a_clerk_signs_in_at_a_free_counter(database, uow, published, lan) -> None:
    data = engine.sign_in(uow(), "s1", 1, lan, actor="clerk@user#1")
    assert data["number"] == 1
    assert data["clerk"] == {
        "id": lan,
        "name": "Nguyễn Thị Lan",
        "photo_url": "/static/photos/lan.jpg",
    }
    assert holders(database) == {1: lan, 2: None, 3: None}
    assert clerk_log(database) == [
        (
            "clerk_signed_in",
            counter_ids(database)[1],
            {"clerk_before": None, "clerk_after": lan},
            "clerk@user#1",
        )
    ]
    assert published.names() == ["counter.updated"]
    [event] = published.events
    assert event.site_code == "s1" and event.seq == 1
    assert event.payload == {"counter": data}


def test_signing_in_again_at_the_same_counter_changes_nothing(database, uow, published, lan):
    engine.sign_in(uow(), "s1", 1, lan)
    before, events = snapshot(database), len(published.events)
    data = engine.sign_in(uow(), "s1", 1, lan)
    assert data["clerk"]["id"] == lan
    assert snapshot(database) == before
    assert len(published.events) == events


def test_signing_in_elsewhere_leaves_the_old_counter(database, uow, published, lan) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    published.events.clear()
    engine.sign_in(uow(), "s1", 2, lan, actor="a")
    assert holders(database) == {1: None, 2: lan, 3: None}
    ids = counter_ids(database)
    assert clerk_log(database)[1:] == [
        ("clerk_signed_out", ids[1], {"clerk_before": lan, "clerk_after": None}, "a"),
        ("clerk_signed_in", ids[2], {"clerk_before": None, "clerk_after": lan}, "a"),
    ]
    assert [(c["number"], c["clerk"] and c["clerk"]["id"]) for c in counter_events(published)] == [
        (1, None),
        (2, lan),
    ]
    seqs = [e.seq for e in published.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 2


def test_signing_in_at_another_site_leaves_the_first_sites_counter(
    database, uow, published, lan
) -> None:
    engine.sign_in(uow(), "s1", 3, lan)
    published.events.clear()
    engine.sign_in(uow(), "s2", 1, lan)
    assert holders(database, "s1")[3] is None
    assert holders(database, "s2")[1] == lan
    assert [(e.site_code, e.payload["counter"]["number"]) for e in published.events] == [
        ("s1", 3),
        ("s2", 1),
    ]


def test_only_an_active_account_of_the_site_signs_in(database, uow, published, site) -> None:
    """Tickets and ratings follow whoever signs in, so the engine checks it too."""
    only_s1 = add_user(database, "hoa", "Hoa", sites=("s1",))
    gone = add_user(database, "cuc", "Cúc", active=False)
    admin = add_user(database, "root", "Quản trị", role="admin", sites=())
    for user, site in ((only_s1, "s2"), (gone, "s1"), (12345, "s1")):
        err = unchanged(database, published, engine.sign_in, uow(), site, 1, user)
        assert (err.code, err.kind) == ("not_staff_of_site", "forbidden")
    engine.sign_in(uow(), "s1", 2, only_s1)
    engine.sign_in(uow(), "s2", 1, admin)
    assert holders(database, "s1")[2] == only_s1 and holders(database, "s2")[1] == admin


def test_a_counter_held_by_another_clerk_is_refused(database, uow, published, lan, binh):
    engine.sign_in(uow(), "s1", 1, lan)
    err = unchanged(database, published, engine.sign_in, uow(), "s1", 1, binh)
    assert (err.code, err.kind) == ("counter_taken", "conflict")
    assert err.params == {"counter": 1, "clerk": "Nguyễn Thị Lan"}
    assert holders(database)[1] == lan


def test_a_refused_sign_in_does_not_leave_the_clerks_own_counter(
    database, uow, published, lan, binh
) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    engine.sign_in(uow(), "s1", 2, binh)
    unchanged(database, published, engine.sign_in, uow(), "s1", 1, binh)
    assert holders(database) == {1: lan, 2: binh, 3: None}


def test_take_over_moves_the_counter_to_the_new_clerk(database, uow, published, lan, binh):
    engine.sign_in(uow(), "s1", 1, lan)
    published.events.clear()
    data = engine.sign_in(uow(), "s1", 1, binh, take_over=True, actor="manager@user#9")
    assert data["clerk"] == {"id": binh, "name": "Trần Văn Bình", "photo_url": None}
    assert holders(database)[1] == binh
    assert clerk_log(database)[-1] == (
        "clerk_signed_in",
        counter_ids(database)[1],
        {"clerk_before": lan, "clerk_after": binh},
        "manager@user#9",
    )
    assert counter_events(published) == [data]


@pytest.mark.parametrize("number", [9, 0])
def test_an_unknown_counter_is_not_found(database, uow, published, lan, number) -> None:
    err = unchanged(database, published, engine.sign_in, uow(), "s1", number, lan)
    assert (err.code, err.kind) == ("counter_not_found", "not_found")
    assert err.params == {"counter": number}


def test_an_inactive_counter_is_not_found(database, uow, published, lan) -> None:
    with database.writes() as s:
        s.execute(update(Counter).where(Counter.number == 2).values(active=False))
        s.commit()
    err = unchanged(database, published, engine.sign_in, uow(), "s1", 2, lan)
    assert err.code == "counter_not_found"


def test_an_unknown_site_is_not_found(database, uow, published, lan) -> None:
    err = unchanged(database, published, engine.sign_in, uow(), "nope", 1, lan)
    assert err.code == "site_not_found"


def test_a_paused_counter_can_be_signed_in_at(database, uow, lan) -> None:
    engine.pause(uow(), "s1", 1)
    assert engine.sign_in(uow(), "s1", 1, lan)["status"] == "paused"


# --- the clerk in the counter's payload -------------------------------------------------


@pytest.mark.parametrize(
    ("photo", "shown"),
    [
        ("https://anh.example.vn/lan.jpg", "https://anh.example.vn/lan.jpg"),
        ("http://10.0.0.5/lan.png", "http://10.0.0.5/lan.png"),
        ("/media/lan.png", "/media/lan.png"),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("lan.png", None),
        ("", None),
        (None, None),
    ],
)
def test_only_web_and_local_photo_urls_are_shown(database, uow, site, photo, shown) -> None:
    user = add_user(database, "lan", "Lan", photo_url=photo)
    assert engine.sign_in(uow(), "s1", 1, user)["clerk"]["photo_url"] == shown


def test_a_clerk_without_a_full_name_is_shown_by_username(database, uow, site) -> None:
    user = add_user(database, "lan")
    assert engine.sign_in(uow(), "s1", 1, user)["clerk"]["name"] == "lan"


def test_the_site_state_shows_who_is_at_each_counter(database, uow, clock, lan) -> None:
    engine.sign_in(uow(), "s1", 2, lan)
    with database.reads() as s:
        state = engine.site_state(s, "s1", clock())
    clerks = {c["number"]: c["clerk"] for c in state["counters"]}
    lan_shown = {"id": lan, "name": "Nguyễn Thị Lan", "photo_url": "/static/photos/lan.jpg"}
    assert clerks == {1: None, 2: lan_shown, 3: None}


def test_calling_events_carry_the_clerk(database, uow, clock, published, lan) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    issue_later(uow, clock)
    published.events.clear()
    engine.call_next(uow(), "s1", 1)
    [counter] = counter_events(published)
    assert counter["clerk"]["id"] == lan
    assert counter["current"]["status"] == "called"


# --- sign out and release ------------------------------------------------------------------


def test_sign_out_frees_the_clerks_counter(database, uow, published, lan) -> None:
    engine.sign_in(uow(), "s1", 3, lan)
    published.events.clear()
    assert engine.sign_out(uow(), lan, actor="clerk@user#1") == 1
    assert holders(database) == {1: None, 2: None, 3: None}
    assert clerk_log(database)[-1] == (
        "clerk_signed_out",
        counter_ids(database)[3],
        {"clerk_before": lan, "clerk_after": None},
        "clerk@user#1",
    )
    [counter] = counter_events(published)
    assert (counter["number"], counter["clerk"]) == (3, None)


def test_sign_out_without_a_counter_changes_nothing(database, uow, published, lan) -> None:
    before = snapshot(database)
    assert engine.sign_out(uow(), lan) == 0
    assert snapshot(database) == before
    assert published.events == []


def test_sign_out_leaves_other_clerks_alone(database, uow, lan, binh) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    engine.sign_in(uow(), "s1", 2, binh)
    engine.sign_out(uow(), lan)
    assert holders(database) == {1: None, 2: binh, 3: None}


def test_release_frees_a_counter_from_whoever_holds_it(database, uow, published, lan) -> None:
    engine.sign_in(uow(), "s1", 2, lan)
    published.events.clear()
    data = engine.release(uow(), "s1", 2, actor="manager@user#7")
    assert data["clerk"] is None and data["number"] == 2
    assert holders(database)[2] is None
    assert clerk_log(database)[-1] == (
        "clerk_signed_out",
        counter_ids(database)[2],
        {"clerk_before": lan, "clerk_after": None},
        "manager@user#7",
    )
    assert counter_events(published) == [data]


def test_releasing_a_free_counter_changes_nothing(database, uow, published, site) -> None:
    before = snapshot(database)
    assert engine.release(uow(), "s1", 1)["clerk"] is None
    assert snapshot(database) == before
    assert published.events == []


def test_releasing_an_unknown_counter_is_not_found(database, uow, published, site) -> None:
    err = unchanged(database, published, engine.release, uow(), "s1", 9)
    assert err.code == "counter_not_found"


def test_a_released_counter_can_be_taken_by_another_clerk(database, uow, lan, binh) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    engine.release(uow(), "s1", 1)
    engine.sign_in(uow(), "s1", 1, binh)
    assert holders(database)[1] == binh


# --- who served a ticket ------------------------------------------------------------------


def test_a_ticket_called_and_finished_belongs_to_the_signed_in_clerk(
    database, uow, clock, lan
) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).clerk_id == lan
    engine.finish(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).clerk_id == lan


def test_a_call_without_a_clerk_has_no_clerk(database, uow, clock, site) -> None:
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.finish(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).clerk_id is None


def test_a_clerk_who_signs_in_after_the_call_gets_the_ticket_at_finish(
    database, uow, clock, lan
) -> None:
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).clerk_id is None
    engine.sign_in(uow(), "s1", 1, lan)
    engine.finish(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).clerk_id == lan


def test_the_clerk_signed_in_at_finish_replaces_the_one_who_called(
    database, uow, clock, lan, binh
) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.sign_in(uow(), "s1", 1, binh, take_over=True)
    engine.finish(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).clerk_id == binh


def test_a_clerk_who_left_before_finish_keeps_the_ticket(database, uow, clock, lan) -> None:
    engine.sign_in(uow(), "s1", 1, lan)
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.sign_out(uow(), lan)
    engine.finish(uow(), "s1", 1)
    assert ticket_row(database, t["id"]).clerk_id == lan


def test_call_next_finishing_the_previous_ticket_credits_the_signed_in_clerk(
    database, uow, clock, lan
) -> None:
    first = issue_later(uow, clock)
    issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    engine.sign_in(uow(), "s1", 1, lan)
    engine.call_next(uow(), "s1", 1)  # finishes the first ticket, being served
    assert ticket_row(database, first["id"]).status == "done"
    assert ticket_row(database, first["id"]).clerk_id == lan


def test_the_rating_goes_to_the_clerk_signed_in_at_finish(database, uow, clock, lan) -> None:
    t = issue_later(uow, clock)
    engine.call_next(uow(), "s1", 1)
    engine.sign_in(uow(), "s1", 1, lan)
    engine.finish(uow(), "s1", 1)
    engine.rate_ticket(uow(), "s1", 1, t["id"], 4)
    with database.reads() as s:
        assert s.execute(select(Rating.clerk_id)).scalar_one() == lan


# --- the counter's queue --------------------------------------------------------------------


def queue_of(database: Database, clock: Any, number: int, site_code: str = "s1") -> dict:
    with database.reads() as s:
        return engine.counter_queue(s, site_code, number, clock())


def called_in_order(uow: Callable[[], UnitOfWork], number: int) -> list[int]:
    """Press "call next" until the queue is empty; the ids called, in order."""
    ids = []
    while True:
        try:
            ids.append(engine.call_next(uow(), "s1", number)["id"])
        except QueueError as exc:
            assert exc.code == "queue_empty"
            return ids


def test_the_queue_lists_tickets_in_the_order_call_next_takes_them(
    database, uow, clock, site
) -> None:
    # Normal tickets of A and B, a priority B ticket, one sent straight to counter 1, one
    # sent to counter 2 (not counter 1's to call), and an A ticket moved to the front.
    for service in ("B", "A", "B", "A"):
        issue_later(uow, clock, service)
    issue_later(uow, clock, "B", priority="elderly")
    to_me = issue_later(uow, clock, "B")
    engine.transfer(uow(), "s1", to_me["id"], to_counter=1)
    elsewhere = issue_later(uow, clock, "A")
    engine.transfer(uow(), "s1", elsewhere["id"], to_counter=2)
    late = issue_later(uow, clock, "A")
    engine.transfer(uow(), "s1", late["id"], to_service="A", position="front")
    issue_later(uow, clock, "A")

    listed = queue_of(database, clock, 1)
    order = [t["id"] for t in listed["waiting"]]
    assert listed["counter"]["number"] == 1
    assert listed["services"] == ["A", "B"]
    assert all(t["status"] == "waiting" for t in listed["waiting"])
    assert elsewhere["id"] not in order
    assert order[0] != late["id"] and order[1] == late["id"]  # priority first, then the front
    assert called_in_order(uow, 1) == order
    assert len(order) == 8


@pytest.mark.parametrize("policy", ["strict", "interleave"])
def test_the_queue_follows_the_priority_policy(database, uow, clock, policy) -> None:
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1, "B": 1}}, policy=policy, every=2)
    for i in range(6):
        issue_later(uow, clock, "AB"[i % 2], priority="disabled" if i in (1, 4) else None)
    first = queue_of(database, clock, 1)["waiting"][0]["id"]
    assert engine.call_next(uow(), "s1", 1)["id"] == first
    # The list is the order of the *next* call, so it is read again after every call.
    while True:
        waiting = queue_of(database, clock, 1)["waiting"]
        if not waiting:
            break
        assert engine.call_next(uow(), "s1", 1)["id"] == waiting[0]["id"]


def test_the_queue_of_a_counter_without_the_service_is_empty(database, uow, clock, site) -> None:
    issue_later(uow, clock, "A")
    listed = queue_of(database, clock, 3)
    assert listed["waiting"] == [] and listed["waiting_total"] == 0
    assert listed["services"] == ["B"]


def test_waiting_total_counts_beyond_the_listed_limit(database, uow, clock, site) -> None:
    for _ in range(5):
        issue_later(uow, clock, "A")
    with database.reads() as s:
        listed = engine.counter_queue(s, "s1", 2, clock(), limit=2)
    assert len(listed["waiting"]) == 2
    assert listed["waiting_total"] == 5


def test_waiting_total_is_what_the_counter_can_call(database, uow, clock, site) -> None:
    issue_later(uow, clock, "A")
    other = issue_later(uow, clock, "A")
    engine.transfer(uow(), "s1", other["id"], to_counter=2)
    listed = queue_of(database, clock, 1)
    assert len(listed["waiting"]) == 1
    assert listed["waiting_total"] == len(listed["waiting"])


def test_the_queue_is_only_today(database, uow, clock, site) -> None:
    issue_later(uow, clock, "A")
    clock.advance(days=1)
    listed = queue_of(database, clock, 1)
    assert listed["waiting"] == [] and listed["waiting_total"] == 0


def test_no_shows_of_today_latest_first(database, uow, clock, site) -> None:
    a1, a2, b1 = (
        issue_later(uow, clock, "A"),
        issue_later(uow, clock, "A"),
        issue_later(uow, clock, "B"),
    )
    for number, ticket in ((2, a1), (3, b1), (2, a2)):
        clock.advance(minutes=1)
        engine.call_ticket(uow(), "s1", number, ticket["id"])
        engine.no_show(uow(), "s1", number)
    listed = queue_of(database, clock, 1)
    assert [t["id"] for t in listed["no_show"]] == [a2["id"], b1["id"], a1["id"]]
    assert all(t["status"] == "no_show" for t in listed["no_show"])
    # Counter 2 serves A only: B's no-show is not its.
    assert [t["id"] for t in queue_of(database, clock, 2)["no_show"]] == [a2["id"], a1["id"]]
    # Requeued: waiting again, no longer a no-show.
    engine.requeue(uow(), "s1", a2["id"], position="front")
    listed = queue_of(database, clock, 2)
    assert [t["id"] for t in listed["no_show"]] == [a1["id"]]
    assert listed["waiting"][0]["id"] == a2["id"]
    # Yesterday's no-shows are gone the next day.
    clock.advance(days=1)
    assert queue_of(database, clock, 1)["no_show"] == []


def test_the_queue_shows_the_clerk(database, uow, clock, lan) -> None:
    engine.sign_in(uow(), "s1", 2, lan)
    assert queue_of(database, clock, 2)["counter"]["clerk"]["id"] == lan
    assert queue_of(database, clock, 1)["counter"]["clerk"] is None


@pytest.mark.parametrize(
    ("site_code", "number", "code"), [("s1", 9, "counter_not_found"), ("x", 1, "site_not_found")]
)
def test_the_queue_of_an_unknown_counter_is_not_found(
    database, clock, site, site_code, number, code
) -> None:
    with database.reads() as s, pytest.raises(QueueError) as info:
        engine.counter_queue(s, site_code, number, clock())
    assert info.value.code == code


def test_the_queue_of_an_inactive_counter_is_not_found(database, clock, site) -> None:
    with database.writes() as s:
        s.execute(update(Counter).where(Counter.number == 2).values(active=False))
        s.commit()
    with database.reads() as s, pytest.raises(QueueError) as info:
        engine.counter_queue(s, "s1", 2, clock())
    assert info.value.code == "counter_not_found"


# --- under contention -----------------------------------------------------------------


def _try_sign_in(database: Database, clock: Any, site_code: str, number: int, user: int) -> str:
    try:
        engine.sign_in(
            UnitOfWork(database.writes, lambda events: None, clock), site_code, number, user
        )
    except QueueError as exc:
        return exc.code
    return "ok"


@pytest.mark.parametrize("rounds", [5])
def test_two_clerks_at_one_counter_at_once_exactly_one_wins(database, clock, site, rounds) -> None:
    users = [add_user(database, f"c{i}", f"Cán bộ {i}") for i in range(2)]
    for number in range(1, 1 + min(rounds, 3)):
        outcomes = in_threads(
            2, lambda i, number=number: _try_sign_in(database, clock, "s1", number, users[i])
        )
        assert sorted(outcomes) == ["counter_taken", "ok"], outcomes
        winner = users[outcomes.index("ok")]
        assert holders(database)[number] == winner
        signed_in = [e for e in clerk_log(database) if e[0] == "clerk_signed_in"]
        assert signed_in[-1][2] == {"clerk_before": None, "clerk_after": winner}
        engine.release(UnitOfWork(database.writes, lambda events: None, clock), "s1", number)


def test_one_clerk_at_two_counters_at_once_ends_at_one(database, clock, site) -> None:
    user = add_user(database, "lan", "Lan")
    for _ in range(5):
        outcomes = in_threads(2, lambda i: _try_sign_in(database, clock, "s1", i + 1, user))
        assert outcomes == ["ok", "ok"]
        held = [n for n, clerk in holders(database).items() if clerk == user]
        assert len(held) == 1, held
        engine.sign_out(UnitOfWork(database.writes, lambda events: None, clock), user)
