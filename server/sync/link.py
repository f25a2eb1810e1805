"""At a site: joining the province hub, and how far the hub has read the outbox."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import Text, cast, delete, func, select
from sqlalchemy.orm import Session

from ..engine.outbox import start_sending
from ..models import HubLink, OutboxEntry, Site

TIMEOUT_S = 15.0


class JoinError(Exception):
    """The hub refused the code, or could not be reached: the Vietnamese reason."""


def join_hub(
    session: Session,
    hub_url: str,
    code: str,
    managed: str,
    now: datetime,
    http: Any = requests,
) -> HubLink:
    """Trade the hub's code for the site's credential and keep it; the site is made if new.

    The site's whole setup goes to the outbox then, so the hub knows the services,
    counters and staff its events name even when they were made before; on a first join
    its whole history too (a site writes no outbox before it joins):
    ``server.engine.outbox.start_sending``.
    """
    base = hub_url.rstrip("/")
    try:
        answer = http.post(
            f"{base}/api/v1/hub/join", json={"code": code, "managed": managed}, timeout=TIMEOUT_S
        )
    except requests.RequestException as err:
        raise JoinError(f"Không kết nối được trung tâm tỉnh tại {base}: {err}") from None
    body: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        body = answer.json()
    if answer.status_code != 200:
        raise JoinError(str(body.get("detail") or f"Trung tâm tỉnh trả lời {answer.status_code}."))
    site = session.scalars(select(Site).where(Site.code == body["site"])).one_or_none()
    if site is None:
        site = Site(code=body["site"], name=body.get("name") or body["site"])
        session.add(site)
        session.flush()
    link = session.get(HubLink, site.id)
    if link is None:
        link = HubLink(site_id=site.id, joined_at=now, acked_seq=0)
        session.add(link)
    link.hub_url = base
    link.credential = body["credential"]
    link.managed = body.get("managed", managed)
    link.acked_seq = int(body.get("last_seq") or 0)
    link.down_since = None
    link.last_error = None
    session.flush()
    start_sending(session, site.id, link.acked_seq, now)
    return link


@dataclass
class LinkStatus:
    site_code: str
    hub_url: str
    managed: str
    acked_seq: int
    last_seq: int
    last_ok_at: datetime | None
    down_since: datetime | None
    last_error: str | None

    @property
    def backlog(self) -> int:
        return max(self.last_seq - self.acked_seq, 0)


def link_status(session: Session) -> list[LinkStatus]:
    rows = session.execute(
        select(HubLink, Site.code, Site.outbox_seq).join(Site, Site.id == HubLink.site_id)
    ).all()
    return [
        LinkStatus(
            code,
            link.hub_url,
            link.managed,
            link.acked_seq,
            last,
            link.last_ok_at,
            link.down_since,
            link.last_error,
        )
        for link, code, last in rows
    ]


def hub_down_since(session: Session, site_id: int | None = None) -> datetime | None:
    """Since when the hub cannot be reached from this site (None: it answers, or no hub)."""
    query = select(func.min(HubLink.down_since))
    if site_id is not None:
        query = query.where(HubLink.site_id == site_id)
    return session.scalar(query)


def pending_json(session: Session, site_id: int, after: int, limit: int) -> tuple[int, str]:
    """How many entries follow ``after`` (up to ``limit``), and their list as JSON text.

    Each entry's ``data`` is the column's own JSON text put in as it is, not decoded and
    encoded again: the worker's share of a day's backlog is mostly that.
    """
    rows = session.execute(
        select(
            OutboxEntry.seq,
            OutboxEntry.kind,
            OutboxEntry.table_name,
            OutboxEntry.at,
            cast(OutboxEntry.data, Text),
        )
        .where(OutboxEntry.site_id == site_id, OutboxEntry.seq > after)
        .order_by(OutboxEntry.seq)
        .limit(limit)
    ).all()
    dumps = json.dumps
    items = [
        f'{{"seq":{seq},"kind":{dumps(kind)},"table":{dumps(table)},'
        f'"at":"{at.isoformat()}","data":{data}}}'
        for seq, kind, table, at, data in rows
    ]
    return len(items), "[" + ",".join(items) + "]"


def pending(session: Session, site_id: int, after: int, limit: int) -> list[dict[str, Any]]:
    """The entries that follow ``after``, as the hub receives them."""
    entries: list[dict[str, Any]] = json.loads(pending_json(session, site_id, after, limit)[1])
    return entries


def prune(session: Session, site_id: int, acked: int, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the site's oldest entries the hub acknowledged (seq up to
    ``acked``) written before ``before``; how many. Never an entry the hub does not hold.

    The candidates are the lowest seqs, read by the (site, seq) index and cut at
    ``limit`` before the moment is looked at, so a round costs the same with a day or a
    month in the outbox; entries are written in commit order, so the oldest come first.
    """
    oldest = (
        select(OutboxEntry.id)
        .where(OutboxEntry.site_id == site_id, OutboxEntry.seq <= acked)
        .order_by(OutboxEntry.seq)
        .limit(limit)
        .scalar_subquery()
    )
    done = session.execute(
        delete(OutboxEntry)
        .where(OutboxEntry.id.in_(oldest), OutboxEntry.at < before)
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)
