"""The XLSX's ticket list, streamed: one query, one pass, one row (a tuple) per ticket.

The same rows as ``replay(..., ticket_list=True)`` (tests/integration/test_report_pages.py holds the
two equal on the hand-computed day), without what the figures need and the list does
not: no records, no sign-ins, no ratings' details, no dict per ticket. A month of a large
center is 30,000 rows: building them was a third of the workbook's time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import case, null, select
from sqlalchemy.orm import Session

from ..engine.rules import AT_COUNTER
from ..messages import PRIORITY_LABELS
from ..models import Rating, Ticket, TicketEvent
from .log import Names, SiteInfo, epoch, read_users
from .period import Period

STREAM_ROWS = 2000
CLOSING = ("finished", "no_show")
# The events the fold below looks at; the others (issued, rated, checked_in, …) change
# none of its columns, and leaving them in the database cuts a fifth of a month's rows.
FOLDED = ("called", "recalled", "started", *CLOSING, "requeued", "transferred", "cancelled")


def ticket_rows(
    session: Session,
    sites: dict[int, SiteInfo],
    names: Names,
    period: Period,
    now: datetime,
    *,
    several_sites: bool,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``export.TICKET_COLUMNS`` (without the site's column for one site)."""
    from .export import CHANNEL_LABELS, STATUS_LABELS, minutes

    ids = list(sites)
    in_period = (
        Ticket.site_id.in_(ids),
        Ticket.business_day >= period.start,
        Ticket.business_day <= period.end,
        Ticket.issued_at <= now,
    )
    scores = dict(
        session.execute(
            select(Rating.ticket_id, Rating.score)
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .where(*in_period, Rating.created_at <= now)
        ).all()
    )
    clerks = session.execute(
        select(Ticket.clerk_id).where(*in_period, Ticket.clerk_id.is_not(None)).distinct()
    ).scalars()
    read_users(session, names, {clerk for clerk in clerks if clerk is not None})
    query = (
        select(
            Ticket.id,
            Ticket.site_id,
            Ticket.issued_service_id,
            Ticket.number,
            Ticket.status,
            Ticket.priority_reason,
            Ticket.channel,
            epoch(session, Ticket.issued_at).label("issued_at"),
            Ticket.clerk_id,
            Ticket.counter_id,
            TicketEvent.kind,
            TicketEvent.from_status,
            epoch(session, TicketEvent.at).label("at"),
            TicketEvent.counter_id.label("event_counter"),
            case((TicketEvent.kind == "transferred", TicketEvent.data), else_=null()).label("data"),
        )
        .outerjoin(
            TicketEvent,
            (TicketEvent.ticket_id == Ticket.id)
            & (TicketEvent.at <= now)
            & TicketEvent.kind.in_(FOLDED),
        )
        .where(*in_period)
        .order_by(Ticket.id, TicketEvent.at, TicketEvent.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    services = names.services
    counters = names.counters
    users = names.users
    by_code = names.service_by_code
    current: Any = None
    events: list[Any] = []

    def row(t: Any, evs: list[Any]) -> tuple[Any, ...]:
        site = sites[t.site_id]
        service = t.issued_service_id
        first_call = first_wait = service_s = None
        at_counter = False
        called_at = started_at = None
        recalls = transfers = requeues = no_shows = 0
        for kind, before, at, counter, data in evs:
            if kind == "called" and counter is not None:
                if first_call is None:
                    first_call = at
                    first_wait = round(at - t.issued_at, 3)
                at_counter, called_at, started_at = True, at, None
            elif not at_counter:
                if kind == "requeued":
                    requeues += 1
                elif kind == "transferred":
                    transfers += 1
                    target = (data or {}).get("to_service")
                    if target is not None:
                        service = by_code.get((site.id, target), service)
            elif kind == "recalled":
                recalls += 1
            elif kind == "started":
                started_at = at
            elif kind in CLOSING:
                if kind == "finished":
                    service_s = round(at - (started_at or called_at), 3)
                else:
                    no_shows += 1
                at_counter = False
            elif kind in ("requeued", "transferred", "cancelled"):
                if kind == "requeued":
                    requeues += 1
                elif kind == "transferred":
                    transfers += 1
                    target = (data or {}).get("to_service")
                    if target is not None:
                        service = by_code.get((site.id, target), service)
                if before in AT_COUNTER:
                    at_counter = False
        status = t.status
        counter = counters.get(t.counter_id) if t.counter_id else None
        clerk = users.get(t.clerk_id) if t.clerk_id else None
        local = site.clock.local
        cells = (
            t.number,
            services[t.issued_service_id][1],
            services[service][1],
            CHANNEL_LABELS.get(t.channel, t.channel),
            PRIORITY_LABELS.get(t.priority_reason) if t.priority_reason else None,
            STATUS_LABELS.get(status, status),
            local(t.issued_at),
            local(first_call),
            counter[1] if counter and status != "waiting" else None,
            clerk[0] if clerk and status == "done" else None,
            minutes(first_wait),
            minutes(service_s if status == "done" else None),
            recalls,
            transfers,
            requeues,
            no_shows,
            scores.get(t.id),
        )
        return (site.code, *cells) if several_sites else cells

    # Core rows, not the ORM's: the columns are plain values, and a month is 135,000 rows.
    current_id = None
    for r in session.connection().execute(query):
        ticket_id, kind = r[0], r[10]
        if ticket_id != current_id:
            if current is not None:
                yield row(current, events)
            current, current_id, events = r, ticket_id, []
        if kind is not None:
            events.append((kind, r[11], r[12], r[13], r[14]))
    if current is not None:
        yield row(current, events)
