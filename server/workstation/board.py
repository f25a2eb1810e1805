"""What the clerk pages read: the sites a staff member may work at, the counters of a site
with their services and clerks, and the counter a clerk holds. Reads only; every change
goes through the engine (``engine.sign_in``, ``engine.release``) or the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.security import Staff
from ..models import Counter, CounterService, Service, Site, User


@dataclass(frozen=True)
class CounterCard:
    """One counter on the chooser: its services and who works there now."""

    number: int
    name: str
    paused: bool
    services: tuple[str, ...]
    clerk_id: int | None
    clerk_name: str | None


@dataclass(frozen=True)
class Held:
    """The counter a staff member is signed in at."""

    site_code: str
    number: int


def sites_for(session: Session, staff: Staff) -> list[Site]:
    """The sites this person may work at, by name (an admin: every site)."""
    query = select(Site).order_by(Site.name, Site.code)
    if staff.role != "admin":
        query = query.where(Site.id.in_(staff.site_ids))
    return list(session.execute(query).scalars())


def site_by_code(session: Session, code: str) -> Site | None:
    return session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()


def active_counter(session: Session, site: Site, number: int) -> Counter | None:
    counter = session.execute(
        select(Counter).where(Counter.site_id == site.id, Counter.number == number)
    ).scalar_one_or_none()
    return counter if counter is not None and counter.active else None


def clerk_name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        return None
    return user.full_name or user.username


def held_counter(session: Session, user_id: int) -> Held | None:
    row = session.execute(
        select(Site.code, Counter.number)
        .join(Site, Site.id == Counter.site_id)
        .where(Counter.clerk_id == user_id, Counter.active.is_(True))
        .order_by(Counter.id)
        .limit(1)
    ).first()
    return Held(row[0], row[1]) if row is not None else None


def counter_cards(session: Session, site: Site) -> list[CounterCard]:
    """The site's active counters in number order, each with its services by the site's order."""
    counters = [c for c in site.counters if c.active]
    links = session.execute(
        select(CounterService.counter_id, Service.name)
        .join(Service, Service.id == CounterService.service_id)
        .where(CounterService.counter_id.in_([c.id for c in counters]))
        .order_by(Service.sort_order, Service.id)
    ).all()
    names: dict[int, list[str]] = {}
    for counter_id, service_name in links:
        names.setdefault(counter_id, []).append(service_name)
    return [
        CounterCard(
            number=c.number,
            name=c.name,
            paused=c.status == "paused",
            services=tuple(names.get(c.id, [])),
            clerk_id=c.clerk_id,
            clerk_name=clerk_name(session, c.clerk_id),
        )
        for c in counters
    ]


def transfer_targets(
    session: Session, site: Site, number: int
) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    """Where a ticket can be sent from this counter: the site's active services, other counters."""
    services = [{"code": s.code, "name": s.name} for s in site.services if s.active]
    counters: list[dict[str, object]] = [
        {"number": c.number, "name": c.name}
        for c in site.counters
        if c.active and c.number != number
    ]
    return services, counters
