"""Bearer tokens per role and site; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
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
    # A device token's label and settings (a kiosk's printer), as stored: neither changes
    # after the token is made, so a cached principal carries them too.
    device_label: str = field(default="", compare=False, repr=False)
    device_settings: Any = field(default=None, compare=False, repr=False)

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


def _well_formed(raw: str) -> bool:
    return raw.startswith(TOKEN_PREFIX) and len(raw) <= 200


_TOKEN_COLUMNS = (
    ApiToken.id,
    ApiToken.site_id,
    Site.code,
    ApiToken.role,
    ApiToken.counter_number,
    ApiToken.label,
    ApiToken.settings,
)


def resolve_token(session: Session, raw: str) -> Principal | None:
    """The principal of a token that is not revoked, read from the database now."""
    if not _well_formed(raw):
        return None
    row = session.execute(
        select(*_TOKEN_COLUMNS)
        .join(Site, Site.id == ApiToken.site_id)
        .where(ApiToken.token_hash == _digest(raw), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    token_id, site_id, site_code, role, counter, label, settings = row
    return Principal(
        token_id,
        site_id,
        site_code,
        role,
        counter,
        device_label=label,
        device_settings=settings,
    )


# --- a short per-process cache of token lookups -------------------------------------------
#
# Every API request names its token; reading it in a transaction of its own cost a
# BEGIN, a SELECT and a ROLLBACK each time. A token's row never changes after it is
# made except for ``revoked_at``, so a lookup is kept for TOKEN_CACHE_S seconds, and
# a revocation drops it at once: ``revoke_token`` in this process, and on every
# process the close of the token's room (``realtime.cutoff``), which the admin pages
# and ``xephang token revoke`` send through the message queue. Only a revocation
# that reaches a process by no message queue at all (a hand-made UPDATE) would wait
# for the entry to expire, so without XEPHANG_REDIS_URL (where ``xephang token revoke``
# could tell a running server nothing) lookups are not kept at all.

TOKEN_CACHE_S = 10.0
_CACHE_LIMIT = 10_000
_cache: dict[str, tuple[float, Principal]] = {}
_cache_lock = threading.Lock()
# How the cache tells time; tests replace it.
monotonic: Callable[[], float] = time.monotonic


def token_cache_seconds(config: Mapping[str, Any]) -> float:
    """How long this process keeps a token's lookup: ``TOKEN_CACHE_S`` when set; otherwise
    TOKEN_CACHE_S seconds where every revocation reaches every process (a message queue),
    and not at all without one (a revocation from the command line must count at once)."""
    if config.get("TOKEN_CACHE_S") is not None:
        return float(config["TOKEN_CACHE_S"])
    return TOKEN_CACHE_S if config.get("REDIS_URL") else 0.0


def cached_principal(
    sessions: Callable[[], AbstractContextManager[Session]],
    raw: str,
    ttl: float = TOKEN_CACHE_S,
) -> Principal | None:
    """``resolve_token`` through the cache; ``sessions`` opens a read session on a miss."""
    if not _well_formed(raw):
        return None
    digest = _digest(raw)
    hit = _cache.get(digest)
    now = monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    with sessions() as session:
        principal = resolve_token(session, raw)
    if principal is not None and ttl > 0:
        with _cache_lock:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.clear()
            _cache[digest] = (now + ttl, principal)
    else:
        _cache.pop(digest, None)
    return principal


def forget_token(token_id: int) -> None:
    """Drop every cached lookup of this token (it was revoked)."""
    with _cache_lock:
        for digest in [d for d, (_t, p) in _cache.items() if p.token_id == token_id]:
            _cache.pop(digest, None)


def forget_all_tokens() -> None:
    with _cache_lock:
        _cache.clear()
