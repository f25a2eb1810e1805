"""The citizen's rating of the service they just received, on the tablet at the counter.

Ratings decide clerks' evaluations, so they must be exact and hard to fake: one
per finished ticket, only for the ticket the counter has just finished, stored
with the counter, the clerk who served it and the dossier code it produced.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..models import Counter, Rating, Site, Ticket, TicketEvent
from .errors import conflict, invalid, not_found
from .rules import DONE
from .unit_of_work import UnitOfWork
from .views import iso, site_by_code

RATING_RECORDED = "rating.recorded"
# How long after "Hoàn thành" the citizen may still rate at the counter.
RATING_WINDOW = timedelta(minutes=10)
# Why a citizen was not satisfied (Vietnamese labels in server.messages.RATING_REASONS).
REASONS = ("waited_long", "unclear", "attitude", "slow", "other")
SCALES = (3, 4, 5)


def is_low(score: int, scale: int) -> bool:
    """The dissatisfied levels of a scale: 1 of 3 or 4, 1 and 2 of 5."""
    return score <= (scale - 1) // 2


def _counter(uow: UnitOfWork, site: Site, number: int) -> Counter:
    counter = uow.session.execute(
        select(Counter).where(Counter.site_id == site.id, Counter.number == number)
    ).scalar_one_or_none()
    if counter is None or not counter.active:
        raise not_found("counter_not_found", counter=number)
    return counter


def _last_finished(uow: UnitOfWork, counter: Counter) -> int | None:
    return uow.session.execute(
        select(Ticket.id)
        .where(Ticket.counter_id == counter.id, Ticket.status == DONE)
        .order_by(Ticket.finished_at.desc(), Ticket.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _check_reasons(reasons: Iterable[str], score: int, scale: int) -> list[str]:
    chosen = list(dict.fromkeys(reasons))  # a reason counts once, in the order given
    if any(reason not in REASONS for reason in chosen):
        raise invalid("invalid_rating_reason")
    if chosen and not is_low(score, scale):
        raise invalid("reasons_need_low_score")
    return chosen


def rating_dict(rating: Rating, ticket: Ticket, counter: Counter) -> dict[str, Any]:
    return {
        "id": rating.id,
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "counter": counter.number,
        "score": rating.score,
        "scale": rating.scale,
        "reasons": list(rating.reasons),
        "created_at": iso(rating.created_at),
    }


def rate_ticket(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int,
    score: int,
    *,
    reasons: Iterable[str] = (),
    device_id: int | None = None,
    actor: str = "",
) -> dict[str, Any]:
    """Record the citizen's rating of a ticket the counter has just finished.

    Exactly one rating per ticket (the unique constraint is the last guard);
    only the counter's most recently finished ticket, within ``RATING_WINDOW``
    of its finish; a score from 1 (worst) to the site's scale (best); reasons
    only from ``REASONS`` and only with a low score. The rating is tied to the
    counter, the clerk who served the ticket, its service and dossier code.
    """
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _counter(uow, site, counter_number)
        scale = site_scale(site)
        chosen = check_score(score, reasons, scale)
        ticket = uow.session.get(Ticket, ticket_id)
        if ticket is None or ticket.site_id != site.id:
            raise not_found("ticket_not_found", ticket=ticket_id)
        refuse_if_rated(uow, ticket)
        now = uow.clock()
        if not within_window(ticket, counter.id, now) or _last_finished(uow, counter) != ticket.id:
            raise conflict("rating_not_allowed", ticket=ticket_id, counter=counter_number)
        return record_rating(uow, site, ticket, counter, score, chosen, scale, device_id, actor)


def site_scale(site: Site) -> int:
    return site.rating_scale if site.rating_scale in SCALES else 4


def check_score(score: int, reasons: Iterable[str], scale: int) -> list[str]:
    """A score from 1 (worst) to the scale (best); reasons only known ones, with a low score."""
    if not 1 <= score <= scale:
        raise invalid("invalid_score", scale=scale)
    return _check_reasons(reasons, score, scale)


def refuse_if_rated(uow: UnitOfWork, ticket: Ticket) -> None:
    already = uow.session.execute(
        select(Rating.id).where(Rating.ticket_id == ticket.id)
    ).scalar_one_or_none()
    if already is not None:
        raise conflict("already_rated", ticket=ticket.id)


def within_window(ticket: Ticket, counter_id: int | None, now: datetime) -> bool:
    """Finished at that counter, at most ``RATING_WINDOW`` ago."""
    return (
        ticket.status == DONE
        and counter_id is not None
        and ticket.counter_id == counter_id
        and ticket.finished_at is not None
        and timedelta(0) <= now - ticket.finished_at <= RATING_WINDOW
    )


def record_rating(
    uow: UnitOfWork,
    site: Site,
    ticket: Ticket,
    counter: Counter,
    score: int,
    chosen: list[str],
    scale: int,
    device_id: int | None,
    actor: str,
) -> dict[str, Any]:
    """Store the rating with the counter, the clerk who served the ticket, its service and
    dossier code, log it and commit; a rating another request committed first is refused."""
    now = uow.clock()
    rating = Rating(
        site_id=site.id,
        ticket_id=ticket.id,
        counter_id=counter.id,
        clerk_id=ticket.clerk_id,
        service_id=ticket.service_id,
        dossier_code=ticket.dossier_code,
        score=score,
        scale=scale,
        reasons=chosen,
        device_id=device_id,
        created_at=now,
    )
    uow.session.add(rating)
    try:
        uow.session.flush()
    except IntegrityError:
        # Another request for the same ticket (a tablet, a phone) committed first.
        uow.rollback()
        raise conflict("already_rated", ticket=ticket.id) from None
    uow.session.add(
        TicketEvent(
            site_id=site.id,
            ticket_id=ticket.id,
            counter_id=counter.id,
            kind="rated",
            from_status=DONE,
            to_status=DONE,
            actor=actor,
            at=now,
            data={"score": score, "scale": scale, "reasons": chosen},
        )
    )
    result = rating_dict(rating, ticket, counter)
    uow.emit(site, RATING_RECORDED, {"rating": result})
    uow.commit()
    return result
