"""Reports: the figures of issue 10, computed from the event log. Plain functions, no Flask.

Interface (kept stable; the report pages, the dashboard, the API, the exports and the
CLI all call these, with a read session and the app's clock):

- ``parse_period(from_text, to_text) -> Period`` and ``parse_group(text) -> str``,
  ``parse_format(text)``, ``named_period(name, today)``: what a caller typed, checked;
  a refusal is a ``QueueError`` (kind "invalid", code ``report_*``, Vietnamese text in
  ``server.messages.ERRORS``).
- ``site_report(session, site_ids, period, group, now=..., store=...) -> dict``: the JSON of
  ``GET /api/v1/sites/{site}/reports`` (one site) or of ``GET /api/v1/reports`` (several):
  ``{"site", "sites", "from", "to", "group", "groups": [{"key", "label", <figures>}],
  "total": {<figures>}}``. ``group`` is one of ``GROUPS``.
- ``site_reports(session, site_ids, period, groups, now=..., store=...) -> dict[group, report]``:
  several groupings from one reading of the log (a page with tables and charts).
  ``store=runtime().db.writes`` keeps closed days' sums (daily rollups) for speed.
- ``clerk_today(session, site_id, user_id, now=...) -> dict``: a clerk's own figures
  for the site's today (served, service_s, ratings.satisfaction_index, ...).
- ``report_csv(report) -> bytes`` (UTF-8 with BOM) and
  ``report_xlsx(session, site_ids, period, now=..., first=group, store=...) -> bytes``
  (one sheet per grouping, then the ticket list).
- Several sites (a province view): pass their ids; ``group="site"`` gives one row each.
- ``visible_site_ids(session, role, site_ids) -> list[int]``: the sites a staff
  member may see in reports (admin: all; manager: theirs; others: none).

Every definition is in docs/reports.md; a change here changes it there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Site, User
from ..timeutil import business_day, utcnow
from .export import report_csv, report_xlsx
from .figures import Sums, figures, merged, shape, sum_days
from .log import read_log, read_names, read_sites
from .period import (
    FORMATS,
    GROUPS,
    MAX_DAYS,
    NAMED_PERIODS,
    Period,
    named_period,
    parse_day,
    parse_format,
    parse_group,
    parse_period,
)
from .replay import replay
from .rollups import Store, day_rollups

__all__ = [
    "FORMATS",
    "GROUPS",
    "MAX_DAYS",
    "NAMED_PERIODS",
    "Period",
    "Store",
    "clerk_today",
    "named_period",
    "parse_day",
    "parse_format",
    "parse_group",
    "parse_period",
    "report_csv",
    "report_xlsx",
    "site_report",
    "site_reports",
    "visible_site_ids",
]


def site_report(
    session: Session,
    site_ids: Sequence[int],
    period: Period,
    group: str = "service",
    *,
    now: datetime | None = None,
    store: Store | None = None,
) -> dict[str, Any]:
    """The figures of one or several sites over ``period``, one row per ``group``, and a total.

    Each site's days and hours are its own time zone's. Several sites: the keys of
    service and counter rows are prefixed with the site code (``demo:HT``, ``demo:3``).
    ``store`` (a write session factory such as ``Database.writes``) lets the report keep
    the sums of the closed days it computed (``server.reports.rollups``): pass it
    wherever a write is allowed, the next report of those days is then much faster.
    """
    return site_reports(session, site_ids, period, (group,), now=now, store=store)[group]


def site_reports(
    session: Session,
    site_ids: Sequence[int],
    period: Period,
    groups: Sequence[str] = GROUPS,
    *,
    now: datetime | None = None,
    store: Store | None = None,
) -> dict[str, dict[str, Any]]:
    """The same report grouped several ways, from one reading of the log."""
    scope, days = day_rollups(session, site_ids, period, now or utcnow(), store)
    return {group: shape(scope, days, group) for group in groups}


def clerk_today(
    session: Session, site_id: int, user_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """A clerk's own figures for the site's business day of ``now`` (the clerk's page).

    The same figures as the clerk's row of the day's report: ``served``,
    ``service_s`` (mean, median, ...), ``no_show``, ``signed_in_s``, ``serving_s``,
    ``ratings`` (with ``satisfaction_index``).
    """
    now = now or utcnow()
    site = session.get(Site, site_id)
    if site is None:
        raise LookupError(site_id)
    today = business_day(now, site.timezone)
    period = Period(today, today)
    sites = read_sites(session, [site_id], period)
    log = read_log(session, sites, read_names(session, [site_id]), period, now)
    rows, _ = merged(sum_days(replay(log).records, sites), "clerk")
    user = session.get(User, user_id)
    return {
        "site": site.code,
        "day": today.isoformat(),
        "clerk": user.username if user is not None else None,
        "label": (user.full_name or user.username) if user is not None else None,
        **figures(rows.get(user_id, Sums())),
    }


def visible_site_ids(session: Session, role: str, site_ids: Sequence[int]) -> list[int]:
    """The sites whose reports a staff member may read: an admin all, a manager their own."""
    if role == "admin":
        return list(session.execute(select(Site.id).order_by(Site.code)).scalars())
    if role == "manager":
        return list(
            session.execute(
                select(Site.id).where(Site.id.in_(list(site_ids))).order_by(Site.code)
            ).scalars()
        )
    return []
