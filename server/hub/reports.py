"""At the hub: the reports of the sites it received, from the rows they sent (``replay``).

Each site's rows are replayed into an in-memory copy of its own tables and summed per
day by the very code the site runs (``server.reports``), so a site's report at the hub
equals its own. For several sites, their summed days are put side by side: every site's
own ids (of services, counters, clerks) are moved apart first, as each site numbers its
rows from 1, and the sites take the hub's ids; then the rows and totals are formed as for
several sites of one database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import reports
from ..models import HubSite, Site
from ..reports.export import xlsx_of
from ..reports.figures import DIMENSIONS, DayRollup, Scope, shape
from ..reports.log import Names
from ..reports.rollups import day_rollups
from ..reports.ticket_list import ticket_rows
from .replay import replayed

# The ids of the n-th site of a report are moved by n times this (a site's own ids are
# far below it).
ID_SPACING = 1 << 40
# The groupings whose keys are a site's own ids (hours are the same everywhere).
OWN_IDS = ("service", "counter", "clerk")


def received_site(session: Session, site_id: int) -> HubSite | None:
    """The hub's record of a site that sends its events, or None (a site of the hub's own)."""
    return session.get(HubSite, site_id)


def received_sites(session: Session, site_ids: Sequence[int]) -> list[HubSite] | None:
    """The hub's records of these sites, when every one of them sends its events."""
    found = {
        h.site_id: h for h in session.scalars(select(HubSite).where(HubSite.site_id.in_(site_ids)))
    }
    if not site_ids or any(site_id not in found for site_id in site_ids):
        return None
    return [found[site_id] for site_id in site_ids]


def _local_site(copy: Session, session: Session, hub_site: HubSite) -> int:
    """The site's own id in its replayed tables (an empty site when nothing came yet)."""
    local_id = hub_site.local_site_id
    if local_id is None or copy.get(Site, local_id) is None:
        site = session.get(Site, hub_site.site_id)
        assert site is not None
        copy.add(Site(id=1, code=site.code, name=site.name, timezone=site.timezone))
        copy.flush()
        local_id = 1
    return local_id


def _moved(key: Any, by: int) -> Any:
    return None if key is None else key + by


def received_rollups(
    session: Session,
    hub_sites: Sequence[HubSite],
    period: reports.Period,
    now: datetime,
    *,
    with_tickets: bool = False,
) -> tuple[Scope, dict[Any, DayRollup], list[tuple[Any, ...]]]:
    """The summed days of these sites (and their ticket lists), as one report's."""
    several = len(hub_sites) > 1
    sites: dict[int, Any] = {}
    names = Names()
    days: dict[Any, DayRollup] = {}
    tickets: list[tuple[Any, ...]] = []
    for index, hub_site in enumerate(hub_sites):
        by = index * ID_SPACING
        hub_id = hub_site.site_id
        with replayed(session, hub_id) as copy:
            local_id = _local_site(copy, session, hub_site)
            scope, own_days = day_rollups(copy, [local_id], period, now)
            if with_tickets:
                tickets += ticket_rows(
                    copy, scope.sites, scope.names, period, now, several_sites=several
                )
        sites[hub_id] = replace(scope.sites[local_id], id=hub_id)
        own = scope.names
        for key, (_, *rest) in own.services.items():
            names.services[key + by] = (hub_id, *rest)  # type: ignore[assignment]
        for key, (_, *rest) in own.counters.items():
            names.counters[key + by] = (hub_id, *rest)  # type: ignore[assignment]
        for (_, code), key in own.service_by_code.items():
            names.service_by_code[(hub_id, code)] = key + by
        code = sites[hub_id].code
        for key, (username, full_name) in own.users.items():
            # Each site has its own accounts: across sites a clerk is "site:username".
            names.users[key + by] = (f"{code}:{username}" if several else username, full_name)
        for (_, day), rollup in own_days.items():
            moved: DayRollup = {"total": rollup["total"]}
            for dimension in DIMENSIONS:
                rows = rollup[dimension]
                if dimension in OWN_IDS:
                    moved[dimension] = {_moved(key, by): sums for key, sums in rows.items()}
                else:
                    moved[dimension] = rows
            days[(hub_id, day)] = moved
    return Scope(sites, names, period, now), days, tickets


def hub_reports(
    session: Session,
    hub_sites: Sequence[HubSite],
    period: reports.Period,
    groups: Sequence[str],
    now: datetime,
) -> dict[str, dict[str, Any]]:
    """``reports.site_reports`` for sites the hub received."""
    scope, days, _ = received_rollups(session, hub_sites, period, now)
    return {group: shape(scope, days, group) for group in groups}


def hub_report(
    session: Session,
    hub_sites: HubSite | Sequence[HubSite],
    period: reports.Period,
    group: str,
    fmt: str,
    now: datetime,
) -> Any:
    """The report the sites themselves would give, from what the hub received (JSON, CSV
    or XLSX)."""
    chosen = [hub_sites] if isinstance(hub_sites, HubSite) else list(hub_sites)
    if fmt == "xlsx":
        scope, days, tickets = received_rollups(session, chosen, period, now, with_tickets=True)
        return xlsx_of(scope, days, group, tickets)
    report = hub_reports(session, chosen, period, (group,), now)[group]
    return reports.report_csv(report) if fmt == "csv" else report


def hub_site_ids(session: Session) -> list[int]:
    return list(session.scalars(select(HubSite.site_id)))
