"""Read models: the plain dicts the API, events and the snapshot are made of."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Counter, DailySequence, Service, Site, Ticket, User
from ..timeutil import business_day
from . import estimates, hours, numbering
from .errors import not_found
from .ordering import people_ahead
from .rules import AT_COUNTER, WAITING

RECENT_CALLS = 10


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
    session: Session, site: Site, ticket: Ticket, now: datetime, *, private: bool = False
) -> dict[str, Any]:
    """The ticket plus, while it waits, its position (1 = next) and estimated wait."""
    data = ticket_dict(ticket, private=private)
    if ticket.status == WAITING:
        ahead = people_ahead(session, site, ticket)
        data["position"] = ahead + 1
        data["people_ahead"] = ahead
        data["estimated_wait_s"] = estimates.estimated_wait_seconds(
            session, ticket.service, ahead, now
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
    rows = session.execute(
        select(Ticket.service_id, func.count())
        .where(Ticket.site_id == site_id, Ticket.business_day == day, Ticket.status == WAITING)
        .group_by(Ticket.service_id)
    ).all()
    return {service_id: int(n) for service_id, n in rows}


def waiting_by_code(session: Session, site: Site, day: date) -> dict[str, int]:
    counts = waiting_counts(session, site.id, day)
    return {s.code: counts.get(s.id, 0) for s in site.services}


def service_state(service: Service, issued: int, now: datetime, tz: str) -> str:
    """``open``, ``inactive``, ``closed`` (outside its sessions) or ``full`` (cap reached)."""
    if not service.active:
        return "inactive"
    if not hours.is_open(service.sessions, now, tz):
        return "closed"
    cap = numbering.capacity(service)
    if cap is not None and issued >= cap:
        return "full"
    return "open"


def services_overview(session: Session, site: Site, now: datetime) -> list[dict[str, Any]]:
    """Every active service with its state, waiting count and the wait a new ticket faces."""
    day = business_day(now, site.timezone)
    counts = waiting_counts(session, site.id, day)
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
        state = service_state(service, issued.get(service.id, 0), now, site.timezone)
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
                "estimated_wait_s": estimates.estimated_wait_seconds(
                    session, service, waiting, now
                ),
            }
        )
    return result


def site_by_code(session: Session, code: str) -> Site:
    site = session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()
    if site is None:
        raise not_found("site_not_found", site=code)
    return site


def site_state(session: Session, site_code: str, now: datetime) -> dict[str, Any]:
    """The snapshot a display starts from; ``seq`` is read first so it never runs ahead."""
    site = site_by_code(session, site_code)
    seq = site.seq
    day = business_day(now, site.timezone)
    counters = [counter_dict(session, counter) for counter in site.counters]
    recent = (
        session.execute(
            select(Ticket)
            .where(
                Ticket.site_id == site.id,
                Ticket.business_day == day,
                Ticket.called_at.is_not(None),
                Ticket.status.in_(AT_COUNTER),
            )
            .order_by(Ticket.called_at.desc())
            .limit(RECENT_CALLS)
        )
        .scalars()
        .all()
    )
    return {
        "site": {
            "code": site.code,
            "name": site.name,
            "timezone": site.timezone,
            "header_lines": site.header_lines,
        },
        "seq": seq,
        "business_day": day.isoformat(),
        "now": iso(now),
        "services": services_overview(session, site, now),
        "counters": counters,
        "recent_calls": [ticket_dict(t) for t in recent],
    }
