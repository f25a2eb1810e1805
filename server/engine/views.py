"""Read models: the plain dicts the API, events and the snapshot are made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from ..models import (
    Counter,
    CounterService,
    DailySequence,
    QueueCount,
    Service,
    Site,
    Ticket,
    TicketEvent,
    User,
)
from ..timeutil import business_day
from . import estimates, hours, numbering
from .errors import not_found
from .ordering import people_ahead
from .rules import CHECK_IN, STRICT, WAITING

RECENT_CALLS = 10
# The ticket events that are a call: what a lobby says and lists under "Vừa gọi".
CALL_EVENTS = ("called", "recalled")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def ticket_dict(ticket: Ticket, *, private: bool = False) -> dict[str, Any]:
    """A ticket as clients see it; ``private`` adds the tracking token (issuer only)."""
    data: dict[str, Any] = {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service.code,
        "service_name": ticket.service.name,
        "status": ticket.status,
        "priority": ticket.priority_reason,
        "channel": ticket.channel,
        "business_day": ticket.business_day.isoformat(),
        "issued_at": iso(ticket.issued_at),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "counter": ticket.counter.number if ticket.counter else None,
        "target_counter": ticket.target_counter.number if ticket.target_counter else None,
        "recall_count": ticket.recall_count,
        "dossier_code": ticket.dossier_code,
    }
    if private:
        data["tracking_token"] = ticket.tracking_token
    return data


def ticket_with_wait(
    session: Session,
    site: Site,
    ticket: Ticket,
    now: datetime,
    *,
    private: bool = False,
    ahead: int | None = None,
    staffed: int | None = None,
) -> dict[str, Any]:
    """The ticket plus, while it waits, its position (1 = next) and estimated wait.

    ``ahead``, ``staffed``: when the caller knows them (``QueueFigures``)."""
    data = ticket_dict(ticket, private=private)
    if ticket.status == WAITING:
        if ahead is None:
            ahead = people_ahead(session, site, ticket)
        data["position"] = ahead + 1
        data["people_ahead"] = ahead
        data["estimated_wait_s"] = estimates.estimated_wait_seconds(
            session, ticket.service, ahead, now, staffed=staffed
        )
    else:
        data["position"] = None
        data["people_ahead"] = None
        data["estimated_wait_s"] = None
    return data


def safe_photo_url(url: str | None) -> str | None:
    """Only a web address or a path on this server is ever put in a page's image."""
    if url and (url.startswith(("https://", "http://")) or url.startswith("/")):
        return url
    return None


def clerk_dict(session: Session, clerk_id: int | None) -> dict[str, Any] | None:
    """The clerk signed in at a counter, as the tablet and the displays show them."""
    clerk = session.get(User, clerk_id) if clerk_id is not None else None
    if clerk is None:
        return None
    return {
        "id": clerk.id,
        "name": clerk.full_name or clerk.username,
        "photo_url": safe_photo_url(clerk.photo_url),
    }


def counter_dict(session: Session, counter: Counter) -> dict[str, Any]:
    """A counter with the ticket it is calling or serving now and the clerk signed in."""
    current = session.get(Ticket, counter.current_ticket_id) if counter.current_ticket_id else None
    return {
        "number": counter.number,
        "name": counter.name,
        "status": counter.status,
        "active": counter.active,
        "current": ticket_dict(current) if current else None,
        "clerk": clerk_dict(session, counter.clerk_id),
    }


def waiting_counts(session: Session, site_id: int, day: date) -> dict[int, int]:
    """Service id -> tickets waiting, from the counts the triggers keep (``QueueCount``)."""
    rows = session.execute(
        select(QueueCount.service_id, func.sum(QueueCount.waiting))
        .where(QueueCount.site_id == site_id, QueueCount.business_day == day)
        .group_by(QueueCount.service_id)
    ).all()
    return {service_id: int(n or 0) for service_id, n in rows}


@dataclass
class QueueFigures:
    """The site's services (loaded into the session) with their waiting counts, and the
    place in line of a ticket just put at the back of its queue, from one statement."""

    by_code: dict[str, int]
    ahead: int | None = None
    # With ``ahead``: the counters calling that ticket's service now (staffed).
    staffed: int | None = None
    # Held, so the session's identity map (weak) keeps them for the tickets' views.
    services: list[Service] = field(default_factory=list)


def _counted(flag: int, priority: int | None) -> Any:
    """The waiting tickets of a service sent to no counter (priority 1/0 or both)."""
    wanted = QueueCount.target_counter_id == 0
    if priority is not None:
        wanted = wanted & (QueueCount.priority == priority)
    return func.coalesce(func.sum(case((wanted, QueueCount.waiting), else_=0)), flag)


# (a new ticket's place is read, strict policy, the new ticket is a priority one)
_Variant = tuple[bool, bool, bool]


@cache
def _figures_statement(variant: _Variant) -> Any:
    """The statement of ``queue_figures``, built once per variant (building SQLAlchemy
    expressions costs more than running them); values come as bound parameters."""
    with_new, strict, is_priority = variant
    total = func.coalesce(func.sum(QueueCount.waiting), 0)
    columns: list[Any] = [Service, total]
    if with_new:
        behind_filter: list[Any] = [
            Ticket.site_id == bindparam("site_id"),
            Ticket.status == WAITING,
            Ticket.business_day == bindparam("day"),
            Ticket.service_id == bindparam("service_id"),
            Ticket.target_counter_id.is_(None),
            or_(
                Ticket.sort_key > bindparam("sort_key"),
                and_(Ticket.sort_key == bindparam("sort_key"), Ticket.id > bindparam("ticket_id")),
            ),
        ]
        if strict:
            behind_filter.append(
                Ticket.priority_reason.is_not(None)
                if is_priority
                else Ticket.priority_reason.is_(None)
            )
        behind = select(func.count()).where(*behind_filter).scalar_subquery()
        serving = estimates.staffed_counters_query(Service.id).scalar_subquery()
        columns += [
            _counted(0, (1 if is_priority else None) if strict else None),
            behind,
            case((Service.id == bindparam("service_id"), serving), else_=0),
        ]
    return (
        select(*columns)
        .outerjoin(
            QueueCount,
            and_(
                QueueCount.service_id == Service.id,
                QueueCount.site_id == Service.site_id,
                QueueCount.business_day == bindparam("day"),
            ),
        )
        .where(Service.site_id == bindparam("site_id"))
        .group_by(Service.id)
        .order_by(Service.sort_order, Service.id)
    )


def queue_figures(
    session: Session, site: Site, day: date, newest: Ticket | None = None
) -> QueueFigures:
    """Waiting per service code (every service of the site, in its order), and with
    ``newest`` (a waiting ticket just issued) how many wait before it in its queue.

    The count of a new ticket is what ``ordering.people_ahead`` says: its queue's
    tickets (priority ones too under the strict policy, for a normal ticket) less itself
    and less the few, if any, that stand after it (an index range after its sort key).
    """
    is_new = newest is not None and newest.status == WAITING and newest.target_counter_id is None
    params: dict[str, Any] = {"site_id": site.id, "day": day}
    if newest is not None and is_new:
        variant = (True, site.priority_policy == STRICT, newest.priority_reason is not None)
        params.update(service_id=newest.service_id, sort_key=newest.sort_key, ticket_id=newest.id)
    else:
        variant = (False, False, False)
    rows = session.execute(_figures_statement(variant), params).all()
    figures = QueueFigures(
        {row[0].code: int(row[1]) for row in rows}, services=[row[0] for row in rows]
    )
    if newest is not None and is_new:
        for row in rows:
            if row[0].id == newest.service_id:
                figures.ahead = max(int(row[2]) - 1 - int(row[3] or 0), 0)
                figures.staffed = int(row[4] or 0)
    return figures


def waiting_by_code(session: Session, site: Site, day: date) -> dict[str, int]:
    return queue_figures(session, site, day).by_code


def service_state(
    service: Service, issued: int, now: datetime, tz: str, *, served: bool = True
) -> str:
    """``open``, ``inactive``, ``closed`` (outside its sessions), ``unserved`` (no active
    counter serves it: ``engine.estimates``) or ``full`` (cap reached)."""
    if not service.active:
        return "inactive"
    if not hours.is_open(service.sessions, now, tz):
        return "closed"
    if not served:
        return "unserved"
    cap = numbering.capacity(service)
    if cap is not None and issued >= cap:
        return "full"
    return "open"


def services_overview(session: Session, site: Site, now: datetime) -> list[dict[str, Any]]:
    """Every active service with its state, waiting count, the counters calling it now
    (``staffed_counters``) and the wait a new ticket faces (None: no counter staffed)."""
    day = business_day(now, site.timezone)
    counts = waiting_counts(session, site.id, day)
    covered = estimates.coverage(session, site)
    issued: dict[int, int] = dict(
        session.execute(
            select(DailySequence.service_id, DailySequence.last_seq).where(
                DailySequence.site_id == site.id, DailySequence.business_day == day
            )
        ).all()
    )
    result = []
    for service in site.services:
        if not service.active:
            continue
        waiting = counts.get(service.id, 0)
        counters = covered.get(service.id, estimates.Coverage())
        state = service_state(
            service, issued.get(service.id, 0), now, site.timezone, served=counters.served
        )
        result.append(
            {
                "code": service.code,
                "name": service.name,
                "hint": service.hint,
                "state": state,
                "open": state == "open",
                "waiting": waiting,
                "issued_today": issued.get(service.id, 0),
                "daily_cap": numbering.capacity(service),
                "staffed_counters": counters.staffed,
                "estimated_wait_s": estimates.estimated_wait_seconds(
                    session, service, waiting, now, staffed=counters.staffed
                ),
            }
        )
    return result


def site_by_code(session: Session, code: str) -> Site:
    site = session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()
    if site is None:
        raise not_found("site_not_found", site=code)
    return site


def recent_calls(session: Session, site: Site, day: date) -> list[dict[str, Any]]:
    """The day's last calls, newest first, one per ticket (its latest call or recall).

    Read from the call events, not from where the tickets stand now: a number stays
    listed after it was finished, marked absent or sent elsewhere, until newer calls push
    it out, so a citizen who looked away still sees that it was called. Each is the ticket
    with the counter it was called to and ``call_at``, when that call was made.
    """
    latest = (
        select(func.max(TicketEvent.id).label("event_id"))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.site_id == site.id,
            TicketEvent.kind.in_(CALL_EVENTS),
            Ticket.business_day == day,
        )
        .group_by(TicketEvent.ticket_id)
        .order_by(func.max(TicketEvent.id).desc())
        .limit(RECENT_CALLS)
        .subquery()
    )
    rows = session.execute(
        select(TicketEvent, Ticket, Counter)
        .join(latest, TicketEvent.id == latest.c.event_id)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .outerjoin(Counter, Counter.id == TicketEvent.counter_id)
        .order_by(TicketEvent.id.desc())
    ).all()
    return [
        {
            **ticket_dict(ticket),
            "counter": counter.number if counter else None,
            "call_at": iso(event.at),
        }
        for event, ticket, counter in rows
    ]


def counter_services(session: Session, site: Site) -> dict[int, list[str]]:
    """Counter id -> the codes of the active services it serves, its main duty first."""
    rows = session.execute(
        select(CounterService.counter_id, Service.code)
        .join(Service, Service.id == CounterService.service_id)
        .where(Service.site_id == site.id, Service.active)
        .order_by(CounterService.weight.desc(), Service.sort_order, Service.id)
    ).all()
    served: dict[int, list[str]] = {}
    for counter_id, code in rows:
        served.setdefault(counter_id, []).append(code)
    return served


def site_state(session: Session, site_code: str, now: datetime) -> dict[str, Any]:
    """The snapshot a display starts from; ``seq`` is read first so it never runs ahead."""
    site = site_by_code(session, site_code)
    seq = site.seq
    day = business_day(now, site.timezone)
    # What each counter serves, for the screen above it while no one is called there.
    served = counter_services(session, site)
    counters = [
        {**counter_dict(session, counter), "services": served.get(counter.id, [])}
        for counter in site.counters
    ]
    return {
        "site": {
            "code": site.code,
            "name": site.name,
            "timezone": site.timezone,
            "header_lines": site.header_lines,
            # Numbers from home wait for the citizen to check in at the kiosk.
            "remote_check_in": site.remote_enabled and site.remote_arrival == CHECK_IN,
        },
        "seq": seq,
        "business_day": day.isoformat(),
        "now": iso(now),
        "services": services_overview(session, site, now),
        "counters": counters,
        "recent_calls": recent_calls(session, site, day),
    }
