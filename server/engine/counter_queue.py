"""What a clerk sees beside the buttons: the counter's queue, in the order it will call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Counter, CounterService, Service, Ticket
from ..timeutil import business_day
from .errors import not_found
from .ordering import next_candidates
from .rules import NO_SHOW, WAITING
from .views import counter_dict, site_by_code, ticket_dict

LIST_LIMIT = 200


def counter_queue(
    session: Session, site_code: str, counter_number: int, now: datetime, limit: int = LIST_LIMIT
) -> dict[str, Any]:
    """The counter, its services, the waiting tickets it may call (first = the next
    "Gọi tiếp" takes, as ``engine.ordering`` orders them) and today's no-shows of
    its services, latest first, for requeueing."""
    site = site_by_code(session, site_code)
    counter = session.execute(
        select(Counter).where(Counter.site_id == site.id, Counter.number == counter_number)
    ).scalar_one_or_none()
    if counter is None or not counter.active:
        raise not_found("counter_not_found", counter=counter_number)
    day = business_day(now, site.timezone)
    service_ids = [
        service_id
        for (service_id,) in session.execute(
            select(CounterService.service_id).where(CounterService.counter_id == counter.id)
        ).all()
    ]
    ids = list(session.execute(next_candidates(session, site, counter, day, limit=limit)).scalars())
    by_id = {t.id: t for t in session.execute(select(Ticket).where(Ticket.id.in_(ids))).scalars()}
    # As engine.ordering counts them: a ticket sent to one counter is that counter's only.
    mine = (Ticket.target_counter_id.is_(None) & Ticket.service_id.in_(service_ids)) | (
        Ticket.target_counter_id == counter.id
    )
    total = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.site_id == site.id,
            Ticket.business_day == day,
            Ticket.status == WAITING,
            mine,
        )
    )
    no_shows = (
        session.execute(
            select(Ticket)
            .where(
                Ticket.site_id == site.id,
                Ticket.business_day == day,
                Ticket.status == NO_SHOW,
                mine,
            )
            .order_by(Ticket.called_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    codes = session.execute(
        select(Service.code)
        .where(Service.id.in_(service_ids))
        .order_by(Service.sort_order, Service.id)
    ).scalars()
    return {
        "counter": counter_dict(session, counter),
        "services": list(codes),
        "waiting": [ticket_dict(by_id[i]) for i in ids if i in by_id],
        "waiting_total": int(total or 0),
        "no_show": [ticket_dict(t) for t in no_shows],
    }
