"""Hub -> site: the configuration of a site that chose, at join, to be managed at the hub.

The hub's own rows of the site (its settings, services and counters, edited on the
hub's admin pages, and the clerk and manager accounts that work for it) are the
configuration; its version is a digest of its content, so a
site applies a configuration once and a repeated pull changes nothing. A site managed
locally gets none: the two never write the same field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.outbox import plain
from ..models import Counter, CounterService, HubSite, Service, Site, User, UserSite

# The site's settings the hub manages (everything of its row but its identity and seq).
SITE_FIELDS = (
    "name",
    "timezone",
    "header_lines",
    "priority_policy",
    "priority_every",
    "wait_target_min",
    "announcement_template",
    "voice_options",
    "rating_scale",
    "ticket_footer",
    "soon_threshold",
    "phone_rating",
    "remote_enabled",
    "remote_arrival",
    "remote_per_phone",
    "phone_retention_days",
)
SERVICE_FIELDS = (
    "name",
    "hint",
    "number_prefix",
    "number_width",
    "range_start",
    "range_end",
    "daily_cap",
    "sessions",
    "active",
    "sort_order",
    "default_service_s",
    "remote_enabled",
    "remote_share",
)
COUNTER_FIELDS = ("name", "active")
# The accounts a site takes from the hub: its clerks and managers (admins stay where they
# are: the hub's work for the province, the site's first admin for the site).
STAFF_ROLES = ("clerk", "manager")
STAFF_FIELDS = ("full_name", "role", "active", "password_hash", "photo_url")


def site_staff(session: Session, site_id: int) -> list[dict[str, Any]]:
    """The hub's clerk and manager accounts of the site, by username."""
    users = session.scalars(
        select(User)
        .join(UserSite, UserSite.user_id == User.id)
        .where(UserSite.site_id == site_id, User.role.in_(STAFF_ROLES))
        .order_by(User.username)
    ).all()
    return [
        {"username": u.username, **{name: getattr(u, name) for name in STAFF_FIELDS}} for u in users
    ]


def site_config(session: Session, hub_site: HubSite) -> dict[str, Any] | None:
    """The configuration the hub holds for the site, or None (managed at the site)."""
    if hub_site.managed != "hub":
        return None
    site = session.get(Site, hub_site.site_id)
    assert site is not None
    services = session.scalars(
        select(Service).where(Service.site_id == site.id).order_by(Service.code)
    ).all()
    if not services:  # nothing set up at the hub yet: the site keeps what it has
        return None
    codes = {s.id: s.code for s in services}
    counters = session.scalars(
        select(Counter).where(Counter.site_id == site.id).order_by(Counter.number)
    ).all()
    links = session.scalars(
        select(CounterService).where(CounterService.counter_id.in_([c.id for c in counters]))
    ).all()
    serves: dict[int, dict[str, int]] = {}
    for link in links:
        serves.setdefault(link.counter_id, {})[codes[link.service_id]] = link.weight
    body = {
        "site": {name: plain(getattr(site, name)) for name in SITE_FIELDS},
        "services": [
            {"code": s.code, **{name: plain(getattr(s, name)) for name in SERVICE_FIELDS}}
            for s in services
        ],
        "counters": [
            {
                "number": c.number,
                **{name: getattr(c, name) for name in COUNTER_FIELDS},
                "serves": serves.get(c.id, {}),
            }
            for c in counters
        ],
        "staff": site_staff(session, site.id),
    }
    version = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]
    return {"version": version, **body}
