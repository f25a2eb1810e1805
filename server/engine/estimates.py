"""Estimated waiting time, from recent service times and the counters calling for a service.

Which counters count, for a service (docs/counter.md, "Open, staffed, served"):

- a counter *serves* a service when it is active (not deactivated by an admin) and lists
  it, paused or not, with a clerk or not: a ticket of that service will be called there;
  a service no counter serves is refused at the kiosk (``service_unserved``);
- a counter is *staffed* when it serves the service, is open (not paused: "Tạm dừng")
  and a clerk is signed in there: only those call now, so only those share the wait.

The mean service time changes only when a ticket of the service is finished (or the
site's settings change), and every issue's answer needs it, so it is kept per process
and per site: the events this process commits refresh it at once (``forget``), and an
entry is at most ``FIGURES_TTL_S`` old, for what other processes finished. The staffed
counters are read with the statement that needs them (``views.queue_figures`` reads
them with the waiting counts), so a pause counts at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from ..models import Counter, CounterService, Service, Site, Ticket
from .events import SITE_UPDATED, TICKET_UPDATED, Event
from .rules import DONE

RECENT_TICKETS = 20
MIN_SAMPLES = 3
LOOKBACK = timedelta(days=14)


FIGURES_TTL_S = 5.0
# A cached mean was computed at some "now"; a clock that moved on further than this
# (a test's fake clock, a long idle night) computes it again.
CLOCK_DRIFT = timedelta(seconds=60)

monotonic: Callable[[], float] = time.monotonic


@dataclass
class _SiteFigures:
    expires: float
    # service id -> (mean service seconds, the "now" it was computed for)
    means: dict[int, tuple[float, datetime]] = field(default_factory=dict)


# Per database (its connection pool, shared by the read and write engines), per site.
_figures: WeakKeyDictionary[Any, dict[int, _SiteFigures]] = WeakKeyDictionary()
_lock = threading.Lock()


def _site_figures(session: Session, site_id: int) -> _SiteFigures:
    pool = session.get_bind().pool  # type: ignore[union-attr]
    now = monotonic()
    with _lock:
        sites = _figures.get(pool)
        if sites is None:
            sites = _figures[pool] = {}
        entry = sites.get(site_id)
        if entry is None or entry.expires <= now:
            entry = sites[site_id] = _SiteFigures(expires=now + FIGURES_TTL_S)
        return entry


def _mean_from_database(session: Session, service: Service, now: datetime) -> float:
    """Mean of call-to-finish over the service's last tickets; its default until enough exist."""
    rows = session.execute(
        select(Ticket.called_at, Ticket.finished_at)
        .where(
            Ticket.service_id == service.id,
            Ticket.status == DONE,
            Ticket.finished_at >= now - LOOKBACK,
            Ticket.called_at.is_not(None),
        )
        .order_by(Ticket.finished_at.desc())
        .limit(RECENT_TICKETS)
    ).all()
    spans = [(done - called).total_seconds() for called, done in rows if called and done]
    if len(spans) < MIN_SAMPLES:
        return float(service.default_service_s)
    return float(sum(spans) / len(spans))


def average_service_seconds(session: Session, service: Service, now: datetime) -> float:
    """Mean of call-to-finish over the service's last tickets; its default until enough exist."""
    entry = _site_figures(session, service.site_id)
    cached = entry.means.get(service.id)
    if cached is not None and abs(now - cached[1]) <= CLOCK_DRIFT:
        return cached[0]
    mean = _mean_from_database(session, service, now)
    entry.means[service.id] = (mean, now)
    return mean


def forget(pool: Any, events: Iterable[Event]) -> None:
    """Refresh what these committed events changed (called by the unit of work)."""
    with _lock:
        sites = _figures.get(pool)
        if not sites:
            return
        for ev in events:
            entry = sites.get(ev.site_id)
            if entry is None:
                continue
            if ev.name == SITE_UPDATED:
                sites.pop(ev.site_id, None)
            elif ev.name == TICKET_UPDATED and ev.payload.get("action") == "finished":
                entry.means.clear()


@dataclass(frozen=True)
class Coverage:
    """How a service's counters stand now (the rules in this module's docstring)."""

    serving: int = 0  # active counters that list it, paused or not, staffed or not
    open: int = 0  # of those, not paused
    staffed: int = 0  # of those open, with a clerk signed in: the ones calling now

    @property
    def served(self) -> bool:
        return self.serving > 0


def _staffed() -> ColumnElement[bool]:
    return (Counter.status == "open") & Counter.clerk_id.is_not(None)


def coverage(session: Session, site: Site) -> dict[int, Coverage]:
    """Service id -> its counters now; a service missing from it has none (``Coverage()``)."""
    rows = session.execute(
        select(
            CounterService.service_id,
            func.count(),
            func.sum(case((Counter.status == "open", 1), else_=0)),
            func.sum(case((_staffed(), 1), else_=0)),
        )
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(Counter.site_id == site.id, Counter.active.is_(True))
        .group_by(CounterService.service_id)
    ).all()
    return {
        service_id: Coverage(int(n), int(opened or 0), int(staffed or 0))
        for service_id, n, opened, staffed in rows
    }


def counters_open(session: Session, site: Site) -> dict[str, int]:
    """Service code -> how many active, unpaused counters serve it (staffed or not)."""
    found = coverage(session, site)
    return {s.code: found.get(s.id, Coverage()).open for s in site.services}


def counters_staffed(session: Session, site: Site) -> dict[str, int]:
    """Service code -> how many counters call it now (open, a clerk signed in)."""
    found = coverage(session, site)
    return {s.code: found.get(s.id, Coverage()).staffed for s in site.services}


def served_column(service_id: Any) -> Any:
    """Whether any active counter serves a service (paused or unstaffed counts), as a
    column: ``issue_ticket`` reads it with the site and the service."""
    return (
        select(CounterService.counter_id)
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(CounterService.service_id == service_id, Counter.active.is_(True))
        .exists()
    )


def is_served(session: Session, service: Service) -> bool:
    """Whether any active counter serves the service (paused or unstaffed counts)."""
    found = session.execute(
        select(CounterService.counter_id)
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(CounterService.service_id == service.id, Counter.active.is_(True))
        .limit(1)
    ).first()
    return found is not None


def staffed_counters_query(service_id: Any) -> Any:
    """How many counters call a service now (a column too, for a correlated read)."""
    return (
        select(func.count())
        .select_from(Counter)
        .join(CounterService, CounterService.counter_id == Counter.id)
        .where(
            CounterService.service_id == service_id,
            Counter.active.is_(True),
            Counter.status == "open",
            Counter.clerk_id.is_not(None),
        )
    )


def staffed_counters(session: Session, service_id: int) -> int:
    return int(session.execute(staffed_counters_query(service_id)).scalar_one())


def estimated_wait_seconds(
    session: Session, service: Service, ahead: int, now: datetime, *, staffed: int | None = None
) -> int | None:
    """``ahead × mean service time ÷ staffed counters``; None while no counter is staffed.

    0 ("no wait") only with nobody ahead; with someone ahead it is at least a second.
    ``staffed``: the count when the caller has it already (``coverage``).
    """
    counters = staffed_counters(session, service.id) if staffed is None else staffed
    if counters == 0:
        return None
    if ahead == 0:
        return 0
    return max(1, round(ahead * average_service_seconds(session, service, now) / counters))
