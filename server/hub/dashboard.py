"""The province dashboard's figures: every site that sends its events, worst first.

Read from the rows received today (a ticket of today changed today, so its last
version is among them) and the counters' last versions; never from the sites.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import HubEvent, HubSite, Site
from ..reports.period import day_start
from ..timeutil import business_day

# A site not heard from for this long is shown as out of touch (and first).
QUIET_AFTER = timedelta(minutes=5)


@dataclass
class SiteRow:
    code: str
    name: str
    timezone: str
    waiting: int
    longest_wait_s: float | None
    counters_open: int
    rated: int
    satisfaction: float | None  # share of ratings not at the lowest level, today
    last_sync_at: datetime | None
    behind: int  # entries the site held back when it last sent
    quiet_s: float | None  # since the last sync
    out_of_touch: bool

    def last_sync_local(self) -> str:
        if self.last_sync_at is None:
            return "—"
        return self.last_sync_at.astimezone(ZoneInfo(self.timezone)).strftime("%H:%M:%S %d/%m")


def _latest(session: Session, site_id: int, table: str, since: datetime | None) -> dict[Any, Any]:
    query = select(HubEvent.kind, HubEvent.data).where(
        HubEvent.site_id == site_id, HubEvent.table_name == table
    )
    if since is not None:
        query = query.where(HubEvent.at >= since)
    rows: dict[Any, Any] = {}
    for kind, data in session.execute(query.order_by(HubEvent.seq)):
        key = data.get("id", (data.get("counter_id"), data.get("service_id")))
        if kind == "delete":
            rows.pop(key, None)
        else:
            rows[key] = data
    return rows


def site_rows(session: Session, now: datetime) -> list[SiteRow]:
    out = []
    sites = session.execute(
        select(HubSite, Site).join(Site, Site.id == HubSite.site_id).order_by(Site.code)
    ).all()
    for hub_site, site in sites:
        today = business_day(now, site.timezone)
        since = day_start(today, site.timezone)
        tickets = [
            t
            for t in _latest(session, site.id, "tickets", since).values()
            if t.get("business_day") == today.isoformat()
        ]
        waiting = [t for t in tickets if t.get("status") == "waiting"]
        longest = None
        if waiting:
            first = min(datetime.fromisoformat(t["issued_at"]) for t in waiting)
            longest = max((now - first).total_seconds(), 0.0)
        counters = _latest(session, site.id, "counters", None).values()
        open_ = sum(
            1
            for c in counters
            if c.get("active") and c.get("status") == "open" and c.get("clerk_id") is not None
        )
        ratings = list(_latest(session, site.id, "ratings", since).values())
        satisfied = sum(1 for r in ratings if int(r.get("score", 0)) > 1)
        quiet = (now - hub_site.last_sync_at).total_seconds() if hub_site.last_sync_at else None
        out.append(
            SiteRow(
                code=site.code,
                name=site.name,
                timezone=site.timezone,
                waiting=len(waiting),
                longest_wait_s=longest,
                counters_open=open_,
                rated=len(ratings),
                satisfaction=(satisfied / len(ratings)) if ratings else None,
                last_sync_at=hub_site.last_sync_at,
                behind=max(hub_site.site_last_seq - hub_site.last_seq, 0),
                quiet_s=quiet,
                out_of_touch=quiet is None or quiet > QUIET_AFTER.total_seconds(),
            )
        )
    # Worst first: out of touch, then the longest wait, then the longest line.
    out.sort(key=lambda r: (not r.out_of_touch, -(r.longest_wait_s or 0.0), -r.waiting, r.code))
    return out
