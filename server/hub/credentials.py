"""At the hub: the sites that may send their events, their join codes and credentials.

A join code is shown once (``xephang hub code``) and traded once for a credential
(``xephang hub join`` at the site); only hashes of both are kept. Revoking a site, or
making it a new code and joining again, ends its old credential at once: every batch
looks the credential up.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.errors import QueueError, invalid, not_found
from ..models import HubSite, Site

JOIN_CODE_TTL = timedelta(hours=24)
# Unambiguous letters and digits (no 0/O, 1/I/L) for a code read out over the phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MANAGED = ("local", "hub")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _normal(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def register_site(
    session: Session, site_code: str, name: str | None, now: datetime
) -> tuple[Site, str]:
    """The site (made if new) and a new one-time join code; an older code no longer works."""
    code = site_code.strip()
    if not code or len(code) > 40:
        raise invalid("hub_bad_site_code")
    site = session.scalars(select(Site).where(Site.code == code)).one_or_none()
    if site is None:
        site = Site(code=code, name=(name or code)[:200])
        session.add(site)
        session.flush()
    elif name:
        site.name = name[:200]
    hub_site = session.get(HubSite, site.id)
    if hub_site is None:
        hub_site = HubSite(site_id=site.id, managed="local", last_seq=0, site_last_seq=0)
        session.add(hub_site)
    raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
    hub_site.join_code_hash = digest(raw)
    hub_site.join_code_expires_at = now + JOIN_CODE_TTL
    session.flush()
    return site, "-".join(raw[i : i + 4] for i in range(0, 12, 4))


@dataclass
class Joined:
    site_code: str
    site_name: str
    credential: str
    last_seq: int
    managed: str


def redeem_code(session: Session, code: str, managed: str, now: datetime) -> Joined:
    """Trade a join code for the site's credential (once); ``managed``: who edits its setup."""
    if managed not in MANAGED:
        raise invalid("hub_bad_managed")
    hub_site = session.scalars(
        select(HubSite).where(HubSite.join_code_hash == digest(_normal(code))).with_for_update()
    ).one_or_none()
    if hub_site is None:
        raise not_found("hub_code_not_found")
    if hub_site.join_code_expires_at is None or hub_site.join_code_expires_at <= now:
        raise QueueError("hub_code_expired", "invalid")
    credential = secrets.token_urlsafe(32)
    hub_site.credential_hash = digest(credential)
    hub_site.join_code_hash = None
    hub_site.join_code_expires_at = None
    hub_site.revoked_at = None
    hub_site.managed = managed
    site = session.get(Site, hub_site.site_id)
    assert site is not None
    return Joined(site.code, site.name, credential, hub_site.last_seq, managed)


def revoke_site(session: Session, site_code: str, now: datetime) -> None:
    site = session.scalars(select(Site).where(Site.code == site_code)).one_or_none()
    hub_site = session.get(HubSite, site.id) if site is not None else None
    if hub_site is None:
        raise not_found("site_not_found", site=site_code[:40])
    hub_site.credential_hash = None
    hub_site.join_code_hash = None
    hub_site.revoked_at = now


def site_of_credential(session: Session, credential: str, *, lock: bool = False) -> HubSite | None:
    """The site a credential belongs to, or None (unknown or revoked)."""
    if not credential:
        return None
    query = select(HubSite).where(HubSite.credential_hash == digest(credential))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()
