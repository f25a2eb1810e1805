"""Daily rollups: each closed business day's sums kept, so a month's report reads 30 rows.

Scanning a month of a large center's event log (150,000 events) and replaying it takes
a few seconds; the sums of a day that has ended do not change unless the log does. So
a report keeps, per (site, business day), the day's sums in ``report_days`` with the
*signature* of what they were computed from: how many events the day's tickets have and
the last one's id (events are only ever added), the site's zone and waiting target, and
the version of the definitions. A report uses a stored day only when its signature
still matches; otherwise (a late event: a rating after midnight, a ticket cancelled
the next morning; a changed target) the day is computed again from the log, and
stored again. Today is always computed from the log. The cache can be emptied at any
time: nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import ReportDay, Ticket, TicketEvent
from .figures import DIMENSIONS, DayRollup, Scope, StoredDay, Sums, stored_rollup, sum_days
from .log import read_log, read_names, read_sites, read_users, seconds
from .period import Period
from .replay import replay

# Bump when a definition changes: every stored day is then computed again.
VERSION = 2

Store = Callable[[], Session]


def empty_rollup() -> DayRollup:
    return {**{d: {} for d in DIMENSIONS}, "total": Sums()}


def _signatures(
    session: Session, scope: Scope, closed: list[tuple[int, date]]
) -> dict[tuple[int, date], str]:
    """What each closed day's figures depend on, as it stands now in the log."""
    if not closed:
        return {}
    counts = {
        (row.site_id, row.business_day): (row.events, row.last)
        for row in session.execute(
            select(
                Ticket.site_id,
                Ticket.business_day,
                func.count(TicketEvent.id).label("events"),
                func.max(TicketEvent.id).label("last"),
            )
            .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
            .where(
                Ticket.site_id.in_(list(scope.sites)),
                Ticket.business_day >= scope.period.start,
                Ticket.business_day <= scope.period.end,
            )
            .group_by(Ticket.site_id, Ticket.business_day)
        )
    }
    signatures = {}
    for site_id, day in closed:
        site = scope.sites[site_id]
        events, last = counts.get((site_id, day), (0, 0))
        signatures[(site_id, day)] = (
            f"v{VERSION}:{site.timezone}:{site.wait_target_min}:{events}:{last or 0}"
        )
    return signatures


def day_rollups(
    session: Session,
    site_ids: Sequence[int],
    period: Period,
    now: datetime,
    store: Store | None = None,
) -> tuple[Scope, dict[tuple[int, date], DayRollup]]:
    """Each (site, day) of the report summed: stored days that still match, the rest computed.

    With ``store`` (a write session factory), the closed days computed are stored for
    the next report; without, nothing is written.
    """
    sites = read_sites(session, site_ids, period)
    names = read_names(session, list(sites))
    scope = Scope(sites, names, period, now)
    moment = seconds(now)
    wanted = [(s.id, day) for s in sites.values() for day in period.each_day()]
    closed = [(sid, day) for sid, day in wanted if sites[sid].days[day][1] <= moment]
    signatures = _signatures(session, scope, closed)
    days: dict[tuple[int, date], DayRollup] = {}
    if closed:
        for row in session.execute(
            select(
                ReportDay.site_id, ReportDay.business_day, ReportDay.signature, ReportDay.data
            ).where(
                ReportDay.site_id.in_(list(sites)),
                ReportDay.business_day >= period.start,
                ReportDay.business_day <= period.end,
            )
        ):
            key = (row.site_id, row.business_day)
            if signatures.get(key) == row.signature:
                days[key] = StoredDay(row.data)
    missing = [key for key in wanted if key not in days]
    if missing:
        computed = _compute(session, scope, missing)
        days.update(computed)
        fresh = [key for key in missing if key in signatures]
        if store is not None and fresh:
            _store(store, {key: computed[key] for key in fresh}, signatures, now)
    clerks = {k for r in days.values() for k in r["clerk"] if k is not None}
    read_users(session, names, clerks)
    return scope, days


def _compute(
    session: Session, scope: Scope, missing: list[tuple[int, date]]
) -> dict[tuple[int, date], DayRollup]:
    """The missing days from the log: one reading from the first to the last of them."""
    site_ids = sorted({sid for sid, _ in missing})
    span = Period(min(day for _, day in missing), max(day for _, day in missing))
    sites = {sid: scope.sites[sid] for sid in site_ids}
    log = read_log(session, sites, scope.names, span, scope.now)
    summed = sum_days(replay(log).records, scope.sites)
    return {key: summed.get(key) or empty_rollup() for key in missing}


def _store(
    store: Store,
    computed: dict[tuple[int, date], DayRollup],
    signatures: dict[tuple[int, date], str],
    now: datetime,
) -> None:
    """Keep the days just computed; a report made at the same moment may have kept them too."""
    rows: list[dict[str, Any]] = [
        {
            "site_id": sid,
            "business_day": day,
            "signature": signatures[(sid, day)],
            "built_at": now,
            "data": stored_rollup(rollup),
        }
        for (sid, day), rollup in computed.items()
    ]
    by_site: dict[int, list[date]] = {}
    for sid, day in computed:
        by_site.setdefault(sid, []).append(day)
    with store() as session:
        for sid, site_days in by_site.items():
            session.execute(
                delete(ReportDay).where(
                    ReportDay.site_id == sid, ReportDay.business_day.in_(site_days)
                )
            )
        session.add_all(ReportDay(**row) for row in rows)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
