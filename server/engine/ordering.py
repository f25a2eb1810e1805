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
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
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
    session: Session,
    site: Site,
    counter: Counter,
    day: date,
    limit: int = 8,
    weights: dict[int, int] | None = None,
) -> Select[Any]:
    """Ids of waiting tickets this counter may call, best first.

    Read as the first ``limit`` of each (service, normal or priority) queue and of the
    tickets sent to this counter, each an index range in ``sort_key`` order
    (``ix_tickets_waiting_order``, ``ix_tickets_target``), then ordered together: the
    same answer as ordering the whole day's queue, at a cost that does not grow with it.
    ``weights``: the counter's service weights, when the caller has read them.
    """
    if weights is None:
        weights = counter_weights(session, counter)
    statement = _candidates(tuple(weights.items()), priority_first(site, counter), limit)
    return statement.params(site_id=site.id, day=day, counter_id=counter.id)  # type: ignore[no-any-return]


@lru_cache(maxsize=512)
def _candidates(weight_items: tuple[tuple[int, int], ...], first: bool, limit: int) -> Any:
    """The statement of ``next_candidates`` for one counter's weights, built once (building
    SQLAlchemy expressions costs more than running them); the rest are bound parameters."""
    weights = dict(weight_items)
    top = max(weights.values(), default=0)
    site_id: Any = bindparam("site_id")
    day: Any = bindparam("day")
    counter_id: Any = bindparam("counter_id")
    base = [Ticket.site_id == site_id, Ticket.status == WAITING, Ticket.business_day == day]
    columns = (Ticket.id, Ticket.service_id, Ticket.priority_reason, Ticket.target_counter_id)
    parts: list[Select[Any]] = []
    for service_id in weights:
        for flag in (Ticket.priority_reason.is_(None), Ticket.priority_reason.is_not(None)):
            part = (
                select(*columns, Ticket.sort_key)
                .where(*base, Ticket.service_id == service_id, flag)
                .where(Ticket.target_counter_id.is_(None))
                .order_by(Ticket.sort_key, Ticket.id)
                .limit(limit)
            )
            parts.append(select(part.subquery()))
    sent = (
        select(*columns, Ticket.sort_key)
        .where(Ticket.target_counter_id == counter_id, Ticket.status == WAITING)
        .where(Ticket.business_day == day, Ticket.site_id == site_id)
        .order_by(Ticket.sort_key, Ticket.id)
        .limit(limit)
    )
    parts.append(select(sent.subquery()))
    pool = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    service_weight: ColumnElement[int] = (
        case(weights, value=pool.c.service_id, else_=0) if weights else literal(0)
    )
    weight = case((pool.c.target_counter_id == counter_id, top), else_=service_weight)
    is_priority = case((pool.c.priority_reason.is_not(None), 1), else_=0)
    return (
        select(pool.c.id)
        .order_by(
            is_priority.desc() if first else is_priority.asc(),
            weight.desc(),
            pool.c.sort_key,
            pool.c.id,
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
