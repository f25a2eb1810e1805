"""Which waiting ticket a counter calls next, and where a ticket stands in line.

The order, explicitly:

1. priority tickets, by the site's policy: ``strict`` puts them before every
   normal ticket; ``interleave`` gives one priority ticket after every N normal
   calls at the counter (or whenever no normal ticket waits);
2. the counter's service weights: a higher weight is served first (a ticket
   transferred to this counter counts with the counter's highest weight);
3. first issued, first called (``sort_key``; a move to the front or back of a
   queue sets it), whatever the channel.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from ..models import Counter, CounterService, Site, Ticket
from .rules import STRICT, WAITING


def sort_key_at(moment: datetime) -> int:
    """Back of the line: microseconds since the epoch of the moment a ticket joins."""
    return int(moment.timestamp() * 1_000_000)


def front_sort_key(session: Session, site_id: int, day: date) -> int:
    """Ahead of every waiting ticket of the day, in whatever queue it is."""
    lowest = session.execute(
        select(func.min(Ticket.sort_key)).where(
            Ticket.site_id == site_id, Ticket.business_day == day, Ticket.status == WAITING
        )
    ).scalar_one_or_none()
    return int(lowest) - 1 if lowest is not None else 0


def counter_weights(session: Session, counter: Counter) -> dict[int, int]:
    rows = session.execute(
        select(CounterService.service_id, CounterService.weight).where(
            CounterService.counter_id == counter.id
        )
    ).all()
    return {service_id: weight for service_id, weight in rows}


def priority_first(site: Site, counter: Counter) -> bool:
    if site.priority_policy == STRICT:
        return True
    return bool(counter.normal_since_priority >= site.priority_every)


def next_candidates(
    session: Session, site: Site, counter: Counter, day: date, limit: int = 8
) -> Select[int]:
    """Ids of waiting tickets this counter may call, best first."""
    weights = counter_weights(session, counter)
    top = max(weights.values(), default=0)
    service_weight: ColumnElement[int] = (
        case(weights, value=Ticket.service_id, else_=0) if weights else literal(0)
    )
    weight = case((Ticket.target_counter_id == counter.id, top), else_=service_weight)
    is_priority = case((Ticket.priority_reason.is_not(None), 1), else_=0)
    mine = or_(
        and_(Ticket.target_counter_id.is_(None), Ticket.service_id.in_(list(weights))),
        Ticket.target_counter_id == counter.id,
    )
    return (
        select(Ticket.id)
        .where(
            Ticket.site_id == site.id,
            Ticket.status == WAITING,
            Ticket.business_day == day,
            mine,
        )
        .order_by(
            is_priority.desc() if priority_first(site, counter) else is_priority.asc(),
            weight.desc(),
            Ticket.sort_key,
            Ticket.id,
        )
        .limit(limit)
    )


def people_ahead(session: Session, site: Site, ticket: Ticket) -> int:
    """How many waiting tickets of the same queue will be called before this one."""
    same_queue = [
        Ticket.site_id == ticket.site_id,
        Ticket.business_day == ticket.business_day,
        Ticket.status == WAITING,
        Ticket.id != ticket.id,
    ]
    if ticket.target_counter_id is not None:
        same_queue.append(Ticket.target_counter_id == ticket.target_counter_id)
    else:
        same_queue += [Ticket.target_counter_id.is_(None), Ticket.service_id == ticket.service_id]
    earlier = or_(
        Ticket.sort_key < ticket.sort_key,
        and_(Ticket.sort_key == ticket.sort_key, Ticket.id < ticket.id),
    )
    if site.priority_policy == STRICT:
        if ticket.priority_reason is not None:
            ahead = and_(Ticket.priority_reason.is_not(None), earlier)
        else:
            ahead = or_(Ticket.priority_reason.is_not(None), earlier)
    else:
        ahead = earlier
    return int(session.execute(select(func.count()).where(*same_queue, ahead)).scalar_one())
