"""Bearer tokens per role and site; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .engine.errors import invalid
from .engine.views import site_by_code
from .models import ApiToken, Counter, Site
from .timeutil import utcnow

ROLES = ("admin", "manager", "clerk", "kiosk", "display", "tablet")
STAFF = ("admin", "manager", "clerk")
TOKEN_PREFIX = "xph_"


def staff_actor(role: str, user_id: int, counter: int | None = None) -> str:
    """How the event log names a staff account acting (at a counter, when it has one)."""
    suffix = f":{counter}" if counter else ""  # 0: a clerk not at a counter yet
    return f"{role}{suffix}@user#{user_id}"


@dataclass(frozen=True)
class Principal:
    token_id: int
    site_id: int
    site_code: str
    role: str
    counter: int | None
    # Set when a logged-in staff member acts from a page (token_id is then 0).
    user_id: int | None = None

    @property
    def actor(self) -> str:
        """How the event log names who acted: a device token or a staff account."""
        if self.user_id is not None:
            return staff_actor(self.role, self.user_id, self.counter)
        suffix = f":{self.counter}" if self.counter is not None else ""
        return f"{self.role}{suffix}#{self.token_id}"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    session: Session,
    site_code: str,
    role: str,
    counter: int | None = None,
    label: str = "",
    settings: dict[str, Any] | None = None,
) -> str:
    """Make a token; a clerk token made for counter N acts for that counter only.

    A rating tablet stands at one counter, so its token must name that counter.
    """
    if role not in ROLES:
        raise invalid("invalid_role", role=role)
    site = site_by_code(session, site_code)
    if role == "tablet" and counter is None:
        raise invalid("counter_required_for_tablet")
    if counter is not None:
        if role not in ("clerk", "tablet"):
            raise invalid("counter_only_for_clerk")
        exists = session.execute(
            select(Counter.id).where(Counter.site_id == site.id, Counter.number == counter)
        ).first()
        if exists is None:
            raise invalid("counter_not_found", counter=counter)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            site_id=site.id,
            role=role,
            counter_number=counter,
            token_hash=_digest(raw),
            label=label,
            created_at=utcnow(),
            settings=dict(settings or {}),  # per-device, e.g. a kiosk's printer
        )
    )
    session.commit()
    return raw


def resolve_token(session: Session, raw: str) -> Principal | None:
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    row = session.execute(
        select(ApiToken, Site.code)
        .join(Site, Site.id == ApiToken.site_id)
        .where(ApiToken.token_hash == _digest(raw), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    token, site_code = row
    return Principal(token.id, token.site_id, site_code, token.role, token.counter_number)
