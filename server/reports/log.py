"""What a report reads: the tickets of its days, their events and ratings, and the sign-ins.

Only columns, never ORM objects, and every moment as seconds since the epoch (a float
made by the database): a month of a large center is some 30,000 tickets and 150,000
events, and building objects or aware datetimes for them would cost more than the figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, case, cast, func, null, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..models import Counter, Rating, Service, Site, Ticket, TicketEvent, User
from .period import Period, day_start

SIGN_IN = "clerk_signed_in"
SIGN_OUT = "clerk_signed_out"
DEFAULT_WAIT_TARGET_MIN = 15
# The events whose ``data`` the figures read (an automatic no-show, a transfer's target).
WITH_DATA = ("no_show", "transferred")
SLOT_S = 900  # every time zone's offset, and every change of it, falls on a quarter hour
# SQLite's julianday may give 08:00:00 as 07:59:59.99999: the log is exact to the millisecond.
EPSILON_S = 0.001


def epoch(session: Session, column: Any) -> ColumnElement[float]:
    """A timestamp column as seconds since 1970 (UTC), computed by the database."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite keeps the UTC text; julianday reads it to the millisecond.
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(func.extract("epoch", column), Float)


class LocalClock:
    """Hours and days of a site's zone for epoch seconds, looked up per quarter hour."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._slots: dict[int, tuple[int, date]] = {}

    def _slot(self, key: int) -> tuple[int, date]:
        found = self._slots.get(key)
        if found is None:
            local = datetime.fromtimestamp(key * SLOT_S, self.zone)
            found = self._slots[key] = (local.hour, local.date())
        return found

    def hour(self, ts: float) -> int:
        key = int((ts + EPSILON_S) // SLOT_S)
        found = self._slots.get(key)
        return found[0] if found is not None else self._slot(key)[0]

    def day(self, ts: float) -> date:
        key = int((ts + EPSILON_S) // SLOT_S)
        found = self._slots.get(key)
        return found[1] if found is not None else self._slot(key)[1]

    def local(self, ts: float | None) -> datetime | None:
        """A naive wall-clock time (what a spreadsheet shows)."""
        if ts is None:
            return None
        return datetime.fromtimestamp(round(ts, 3), self.zone).replace(tzinfo=None)


@dataclass
class SiteInfo:
    id: int
    code: str
    name: str
    timezone: str
    wait_target_min: int
    clock: LocalClock
    # day -> (its first second, the first second of the next day), epoch seconds
    days: dict[date, tuple[float, float]]

    @property
    def wait_target_s(self) -> float:
        return self.wait_target_min * 60.0


@dataclass
class Names:
    """What the rows of a report are called: services, counters, clerks."""

    # id -> (site id, code, name, sort order, active)
    services: dict[int, tuple[int, str, str, int, bool]] = field(default_factory=dict)
    # id -> (site id, number, name, active)
    counters: dict[int, tuple[int, int, str, bool]] = field(default_factory=dict)
    service_by_code: dict[tuple[int, str], int] = field(default_factory=dict)
    users: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (username, name)


@dataclass
class Log:
    """Everything the figures of some days are computed from."""

    sites: dict[int, SiteInfo]
    period: Period
    now: float
    names: Names
    tickets: list[Any]
    # ticket id -> its events, oldest first: (ticket_id, id, kind, from_status, at,
    # counter_id, data)
    events: dict[int, list[Any]]
    ratings: list[Any]
    # counter id -> changes of who holds it: (at, event id, clerk id or None), oldest first;
    # the first is the holder at the period's start when someone held it then.
    holders: dict[int, list[tuple[float, int, int | None]]]


def seconds(moment: datetime) -> float:
    return moment.astimezone(UTC).timestamp()


def read_sites(session: Session, site_ids: Sequence[int], period: Period) -> dict[int, SiteInfo]:
    rows = session.execute(
        select(Site.id, Site.code, Site.name, Site.timezone, Site.wait_target_min)
        .where(Site.id.in_(list(site_ids)))
        .order_by(Site.code)
    ).all()
    sites = {}
    for row in rows:
        bounds = {}
        for day in period.each_day():
            start = day_start(day, row.timezone)
            end = day_start(date.fromordinal(day.toordinal() + 1), row.timezone)
            bounds[day] = (seconds(start), seconds(end))
        sites[row.id] = SiteInfo(
            row.id,
            row.code,
            row.name,
            row.timezone,
            row.wait_target_min or DEFAULT_WAIT_TARGET_MIN,
            LocalClock(ZoneInfo(row.timezone)),
            bounds,
        )
    return sites


def read_names(session: Session, site_ids: Sequence[int]) -> Names:
    names = Names()
    ids = list(site_ids)
    for s in session.execute(
        select(
            Service.id,
            Service.site_id,
            Service.code,
            Service.name,
            Service.sort_order,
            Service.active,
        ).where(Service.site_id.in_(ids))
    ):
        names.services[s.id] = (s.site_id, s.code, s.name, s.sort_order, s.active)
        names.service_by_code[(s.site_id, s.code)] = s.id
    for c in session.execute(
        select(Counter.id, Counter.site_id, Counter.number, Counter.name, Counter.active).where(
            Counter.site_id.in_(ids)
        )
    ):
        names.counters[c.id] = (c.site_id, c.number, c.name, c.active)
    return names


def read_users(session: Session, names: Names, user_ids: set[int]) -> None:
    """Add the usernames and full names of ``user_ids`` to ``names``."""
    wanted = [u for u in user_ids if u not in names.users]
    if wanted:
        for u in session.execute(
            select(User.id, User.username, User.full_name).where(User.id.in_(wanted))
        ):
            names.users[u.id] = (u.username, u.full_name)


def read_log(
    session: Session,
    sites: dict[int, SiteInfo],
    names: Names,
    period: Period,
    now: datetime,
) -> Log:
    """Read what the figures of ``sites`` over ``period`` need, as of ``now``."""
    ids = list(sites)
    in_period = (
        Ticket.site_id.in_(ids),
        Ticket.business_day >= period.start,
        Ticket.business_day <= period.end,
        Ticket.issued_at <= now,  # the log as it stood at ``now``
    )
    tickets = session.execute(
        select(
            Ticket.id,
            Ticket.site_id,
            Ticket.issued_service_id,
            Ticket.business_day,
            Ticket.number,
            Ticket.status,
            Ticket.priority_reason,
            Ticket.channel,
            epoch(session, Ticket.issued_at).label("issued_at"),
            Ticket.clerk_id,
            Ticket.counter_id,
        )
        .where(*in_period)
        .order_by(Ticket.id)
    ).all()
    events: dict[int, list[Any]] = defaultdict(list)
    for ev in session.execute(
        select(
            TicketEvent.ticket_id,
            TicketEvent.id,
            TicketEvent.kind,
            TicketEvent.from_status,
            epoch(session, TicketEvent.at).label("at"),
            TicketEvent.counter_id,
            # Decoding every row's JSON would cost more than the rest; only these need it.
            case((TicketEvent.kind.in_(WITH_DATA), TicketEvent.data), else_=null()).label("data"),
        )
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(*in_period, TicketEvent.at <= now)
        .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)
    ):
        events[ev.ticket_id].append(ev)
    ratings = session.execute(
        select(
            Rating.ticket_id,
            Rating.site_id,
            Rating.service_id,
            Rating.counter_id,
            Rating.clerk_id,
            Rating.score,
            Rating.scale,
            Rating.reasons,
            epoch(session, Rating.created_at).label("created_at"),
            Ticket.business_day,
        )
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(*in_period, Rating.created_at <= now)
    ).all()
    holders = _holders(session, sites, period, now)
    user_ids = {t.clerk_id for t in tickets if t.clerk_id is not None}
    user_ids |= {r.clerk_id for r in ratings if r.clerk_id is not None}
    user_ids |= {h for changes in holders.values() for _, _, h in changes if h is not None}
    read_users(session, names, user_ids)
    return Log(sites, period, seconds(now), names, list(tickets), events, list(ratings), holders)


def _holders(
    session: Session, sites: dict[int, SiteInfo], period: Period, now: datetime
) -> dict[int, list[tuple[float, int, int | None]]]:
    """Who held each counter: its last sign-in change before the period, then those during it."""
    holders: dict[int, list[tuple[float, int, int | None]]] = defaultdict(list)
    kinds = (SIGN_IN, SIGN_OUT)
    for site in sites.values():
        start, end = period.bounds(site.timezone)
        end = min(end, now)
        latest_before = (
            select(func.max(TicketEvent.id))
            .where(
                TicketEvent.site_id == site.id,
                TicketEvent.kind.in_(kinds),
                TicketEvent.at < start,
            )
            .group_by(TicketEvent.counter_id)
        )
        during = (TicketEvent.at >= start) & (TicketEvent.at <= end)
        rows = session.execute(
            select(
                TicketEvent.id,
                TicketEvent.counter_id,
                TicketEvent.kind,
                epoch(session, TicketEvent.at).label("at"),
                TicketEvent.data,
            )
            .where(
                TicketEvent.site_id == site.id,
                TicketEvent.kind.in_(kinds),
                TicketEvent.id.in_(latest_before) | during,
            )
            .order_by(TicketEvent.at, TicketEvent.id)
        ).all()
        for row in rows:
            if row.counter_id is None:
                continue
            clerk = (row.data or {}).get("clerk_after") if row.kind == SIGN_IN else None
            holders[row.counter_id].append((row.at, row.id, clerk))
    return holders
