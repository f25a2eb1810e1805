"""The rating rules (issue 5): one rating per finished ticket, only right after its finish at
that counter, tied to the counter, the clerk and the dossier code; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from server import engine
from server.engine.ratings import RATING_RECORDED, RATING_WINDOW, is_low
from server.models import Counter, Rating, Site, User

from ..factories import HCM_MORNING, build_site, counter_ids, refusal, snapshot, ticket_row

# Counters 1 and 2 serve A.
TWO_COUNTERS = {1: {"A": 1}, 2: {"A": 1}}


@pytest.fixture
def clerk_id(database):
    """Site s1 with a clerk signed in at counter 1; returns the clerk's user id."""
    with database.writes() as s:
        build_site(s, counters=TWO_COUNTERS)
        user = User(
            username="lan",
            full_name="Nguyễn Thị Lan",
            password_hash="x",
            role="clerk",
            created_at=HCM_MORNING,
        )
        s.add(user)
        s.flush()
        s.execute(update(Counter).where(Counter.number == 1).values(clerk_id=user.id))
        s.commit()
        return user.id


def served(uow, clock, counter=1, dossier_code=None):
    """A ticket issued, called and finished at the counter; returns the finished ticket."""
    clock.advance(minutes=1)
    engine.issue_ticket(uow(), "s1", "A")
    called = engine.call_next(uow(), "s1", counter)
    clock.advance(minutes=5)
    return engine.finish(uow(), "s1", counter, called["id"], dossier_code=dossier_code)


def ratings(database):
    with database.reads() as s:
        return list(s.execute(select(Rating).order_by(Rating.id)).scalars())


def stored(database, ticket_id, score):
    """The one rating stored is this ticket's, with this score."""
    [rating] = ratings(database)
    assert (rating.ticket_id, rating.score) == (ticket_id, score)


def unchanged(database, published, *args, **kwargs):
    """The rating is refused, and neither the database nor the published events change."""
    before = snapshot(database)
    events = len(published.events)
    err = refusal(engine.rate_ticket, *args, **kwargs)
    assert snapshot(database) == before
    assert len(published.events) == events
    return err


def set_scale(database, scale):
    with database.writes() as s:
        s.execute(update(Site).values(rating_scale=scale))
        s.commit()


def test_rating_is_stored_with_ticket_counter_clerk_service_and_dossier_code(
    database, uow, clock, published, clerk_id
):
    ticket = served(uow, clock, dossier_code="HS-2026/001")
    clock.advance(minutes=1)
    result = engine.rate_ticket(uow(), "s1", 1, ticket["id"], 4, device_id=None, actor="tablet:1")
    assert result["ticket_id"] == ticket["id"]
    assert result["ticket_number"] == ticket["number"]
    assert (result["counter"], result["score"], result["scale"], result["reasons"]) == (1, 4, 4, [])

    [rating] = ratings(database)
    stored = ticket_row(database, ticket["id"])
    assert stored.clerk_id == clerk_id  # recorded when the counter called it
    assert rating.ticket_id == ticket["id"]
    assert rating.counter_id == counter_ids(database)[1]
    assert rating.clerk_id == clerk_id
    assert rating.service_id == stored.service_id
    assert rating.dossier_code == "HS-2026/001"
    assert (rating.score, rating.scale, rating.reasons) == (4, 4, [])
    assert rating.created_at == clock.now

    assert published.names()[-1] == RATING_RECORDED
    event = published.events[-1]
    assert event.payload["rating"] == result
    assert event.seq > published.events[-2].seq


def test_ticket_of_a_counter_without_clerk_is_rated_without_clerk(database, uow, clock, clerk_id):
    ticket = served(uow, clock, counter=2)
    engine.rate_ticket(uow(), "s1", 2, ticket["id"], 3)
    assert ratings(database)[0].clerk_id is None


def test_exactly_one_rating_per_ticket(database, uow, clock, published, clerk_id):
    ticket = served(uow, clock)
    engine.rate_ticket(uow(), "s1", 1, ticket["id"], 4)
    err = unchanged(database, published, uow(), "s1", 1, ticket["id"], 1)
    assert err.code == "already_rated"
    assert err.kind == "conflict"
    assert len(ratings(database)) == 1


def test_unique_constraint_is_the_last_guard(database, uow, clock, clerk_id):
    ticket = served(uow, clock)
    engine.rate_ticket(uow(), "s1", 1, ticket["id"], 4)
    with database.writes() as s:
        first = s.execute(select(Rating)).scalar_one()
        s.add(
            Rating(
                site_id=first.site_id,
                ticket_id=first.ticket_id,
                counter_id=first.counter_id,
                service_id=first.service_id,
                score=1,
                scale=4,
                reasons=[],
                created_at=clock.now,
            )
        )
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            s.commit()


def test_only_a_finished_ticket_can_be_rated(database, uow, clock, published, clerk_id):
    clock.advance(minutes=1)
    waiting = engine.issue_ticket(uow(), "s1", "A").ticket
    assert unchanged(database, published, uow(), "s1", 1, waiting["id"], 4).code == (
        "rating_not_allowed"
    )
    called = engine.call_next(uow(), "s1", 1)
    assert unchanged(database, published, uow(), "s1", 1, called["id"], 4).code == (
        "rating_not_allowed"
    )
    engine.start(uow(), "s1", 1, called["id"])
    assert unchanged(database, published, uow(), "s1", 1, called["id"], 4).code == (
        "rating_not_allowed"
    )


def test_only_at_the_counter_that_finished_it(database, uow, clock, published, clerk_id):
    ticket = served(uow, clock, counter=1)
    err = unchanged(database, published, uow(), "s1", 2, ticket["id"], 4)
    assert err.code == "rating_not_allowed"
    engine.rate_ticket(uow(), "s1", 1, ticket["id"], 4)
    stored(database, ticket["id"], 4)


def test_not_after_the_window(database, uow, clock, published, clerk_id):
    ticket = served(uow, clock)
    clock.advance(seconds=RATING_WINDOW.total_seconds() + 1)
    err = unchanged(database, published, uow(), "s1", 1, ticket["id"], 4)
    assert err.code == "rating_not_allowed"


def test_at_the_end_of_the_window_it_is_still_allowed(database, uow, clock, clerk_id):
    ticket = served(uow, clock)
    clock.advance(seconds=RATING_WINDOW.total_seconds())
    engine.rate_ticket(uow(), "s1", 1, ticket["id"], 4)
    stored(database, ticket["id"], 4)


def test_not_for_an_older_ticket_once_a_newer_one_finished_there(
    database, uow, clock, published, clerk_id
):
    older = served(uow, clock)
    newer = served(uow, clock)
    err = unchanged(database, published, uow(), "s1", 1, older["id"], 4)
    assert err.code == "rating_not_allowed"
    engine.rate_ticket(uow(), "s1", 1, newer["id"], 4)
    stored(database, newer["id"], 4)


def test_the_last_finished_ticket_stays_rateable_while_the_next_is_served(
    database, uow, clock, clerk_id
):
    ticket = served(uow, clock)
    clock.advance(minutes=1)
    engine.issue_ticket(uow(), "s1", "A")
    engine.call_next(uow(), "s1", 1)
    engine.rate_ticket(uow(), "s1", 1, ticket["id"], 4)
    stored(database, ticket["id"], 4)


def test_a_ticket_finished_by_calling_the_next_can_be_rated(database, uow, clock, clerk_id):
    clock.advance(minutes=1)
    first = engine.issue_ticket(uow(), "s1", "A").ticket
    engine.issue_ticket(uow(), "s1", "A")
    engine.call_next(uow(), "s1", 1)
    engine.start(uow(), "s1", 1)
    clock.advance(minutes=3)
    engine.call_next(uow(), "s1", 1)  # ends the first ticket
    engine.rate_ticket(uow(), "s1", 1, first["id"], 2)
    stored(database, first["id"], 2)


def test_unknown_ticket_counter_or_site(database, uow, clock, published, clerk_id):
    ticket = served(uow, clock)
    assert unchanged(database, published, uow(), "s1", 1, 999_999, 4).code == "ticket_not_found"
    assert unchanged(database, published, uow(), "s1", 9, ticket["id"], 4).code == (
        "counter_not_found"
    )
    assert unchanged(database, published, uow(), "nope", 1, ticket["id"], 4).code == (
        "site_not_found"
    )


def test_a_ticket_of_another_site_is_not_found(database, uow, clock, published, clerk_id):
    with database.writes() as s:
        build_site(s, code="s2", counters={1: {"A": 1}})
    clock.advance(minutes=1)
    engine.issue_ticket(uow(), "s2", "A")
    called = engine.call_next(uow(), "s2", 1)
    other = engine.finish(uow(), "s2", 1, called["id"])
    err = unchanged(database, published, uow(), "s1", 1, other["id"], 4)
    assert err.code == "ticket_not_found"


@pytest.mark.parametrize("scale", [3, 4, 5])
def test_score_bounds_follow_the_sites_scale(database, uow, clock, published, clerk_id, scale):
    set_scale(database, scale)
    ticket = served(uow, clock)
    for score in (0, -1, scale + 1):
        err = unchanged(database, published, uow(), "s1", 1, ticket["id"], score)
        assert (err.code, err.kind, err.params["scale"]) == ("invalid_score", "invalid", scale)
    result = engine.rate_ticket(uow(), "s1", 1, ticket["id"], scale)
    assert (result["score"], result["scale"]) == (scale, scale)
    stored(database, ticket["id"], scale)
    assert ratings(database)[0].scale == scale


def test_lowest_score_is_one(database, uow, clock, clerk_id):
    ticket = served(uow, clock)
    assert engine.rate_ticket(uow(), "s1", 1, ticket["id"], 1)["score"] == 1
    stored(database, ticket["id"], 1)


@pytest.mark.parametrize(
    ("scale", "low"), [(3, {1}), (4, {1}), (5, {1, 2})], ids=["three", "four", "five"]
)
def test_low_scores_of_each_scale(scale, low):
    assert {score for score in range(1, scale + 1) if is_low(score, scale)} == low


def test_reasons_with_a_low_score(database, uow, clock, clerk_id):
    ticket = served(uow, clock)
    result = engine.rate_ticket(
        uow(), "s1", 1, ticket["id"], 1, reasons=["waited_long", "attitude", "waited_long"]
    )
    assert result["reasons"] == ["waited_long", "attitude"]
    assert ratings(database)[0].reasons == ["waited_long", "attitude"]


def test_reasons_only_with_a_low_score(database, uow, clock, published, clerk_id):
    ticket = served(uow, clock)
    for score in (2, 3, 4):
        err = unchanged(database, published, uow(), "s1", 1, ticket["id"], score, reasons=["slow"])
        assert err.code == "reasons_need_low_score"


def test_reasons_from_the_fixed_list_only(database, uow, clock, published, clerk_id):
    ticket = served(uow, clock)
    err = unchanged(
        database, published, uow(), "s1", 1, ticket["id"], 1, reasons=["<script>x</script>"]
    )
    assert err.code == "invalid_rating_reason"


def test_rating_is_in_the_tickets_log(database, uow, clock, clerk_id):
    from ..factories import ticket_log

    ticket = served(uow, clock)
    engine.rate_ticket(uow(), "s1", 1, ticket["id"], 1, reasons=["slow"], actor="tablet:1#7")
    last = ticket_log(database, ticket["id"])[-1]
    assert (last.kind, last.actor) == ("rated", "tablet:1#7")
    assert last.data == {"score": 1, "scale": 4, "reasons": ["slow"]}
