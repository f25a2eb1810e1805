"""At the hub: a site's report computed from the rows it sent (``server.hub.replay``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import reports
from ..models import HubSite, Site
from .replay import replayed


def received_site(session: Session, site_id: int) -> HubSite | None:
    """The hub's record of a site that sends its events, or None (a site of the hub's own)."""
    return session.get(HubSite, site_id)


def hub_report(
    session: Session,
    hub_site: HubSite,
    period: reports.Period,
    group: str,
    fmt: str,
    now: datetime,
) -> Any:
    """The report the site itself would give, from what the hub received (JSON, CSV or XLSX)."""
    with replayed(session, hub_site.site_id) as copy:
        local_id = hub_site.local_site_id
        if local_id is None or copy.get(Site, local_id) is None:
            # Nothing received yet: the report of an empty site under the hub's name of it.
            site = session.get(Site, hub_site.site_id)
            assert site is not None
            copy.add(Site(id=1, code=site.code, name=site.name, timezone=site.timezone))
            copy.flush()
            local_id = 1
        if fmt == "xlsx":
            return reports.report_xlsx(copy, [local_id], period, now=now, first=group)
        report = reports.site_report(copy, [local_id], period, group, now=now)
        return reports.report_csv(report) if fmt == "csv" else report


def hub_site_ids(session: Session) -> list[int]:
    return list(session.scalars(select(HubSite.site_id)))
