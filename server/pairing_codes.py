"""Pairing a device by a one-time code, and the list and revocation of device tokens.

An admin makes a short code (``4821-0937``) that someone types on the device's
``/pair`` page; the page trades it, once, for a device token it keeps. Only the
code's SHA-256 is stored, like a token's.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .engine.errors import conflict, invalid, not_found
from .engine.views import site_by_code
from .models import ApiToken, Counter, PairingCode, Site
from .timeutil import utcnow
from .tokens import ROLES, create_token, forget_token

CODE_DIGITS = 8
DEFAULT_TTL = timedelta(hours=24)
# Roles whose device is bound to one counter (a clerk's keypad, a rating tablet).
COUNTER_ROLES = ("clerk", "tablet")


def _digest(digits: str) -> str:
    return hashlib.sha256(digits.encode()).hexdigest()


def normalize_code(code: str) -> str | None:
    """The code's digits: spaces and dashes people type are ignored; anything else is wrong."""
    digits = "".join(ch for ch in code if ch not in " -\t")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def _grouped(digits: str) -> str:
    return f"{digits[:4]}-{digits[4:]}"


def create_pairing_code(
    session: Session,
    site_code: str,
    role: str,
    *,
    counter: int | None = None,
    label: str = "",
    settings: dict[str, Any] | None = None,
    created_by: int | None = None,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
    commit: bool = True,
) -> str:
    """Make a one-time code for a device of ``role``; it expires after ``ttl``.

    ``commit=False`` leaves the transaction to the caller (to save an audit entry with it).
    """
    if role not in ROLES:
        raise invalid("invalid_role", role=role)
    site = site_by_code(session, site_code)
    if role == "tablet" and counter is None:  # a rating tablet stands at one counter
        raise invalid("counter_required_for_tablet")
    if counter is not None:
        if role not in COUNTER_ROLES:
            raise invalid("counter_only_for_clerk")
        exists = session.execute(
            select(Counter.id).where(Counter.site_id == site.id, Counter.number == counter)
        ).first()
        if exists is None:
            raise invalid("counter_not_found", counter=counter)
    moment = now or utcnow()
    while True:  # a clash with an older code (used or not) is rare; draw again
        digits = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        taken = session.execute(
            select(PairingCode.id).where(PairingCode.code_hash == _digest(digits))
        ).first()
        if taken is None:
            break
    session.add(
        PairingCode(
            site_id=site.id,
            role=role,
            code_hash=_digest(digits),
            counter_number=counter,
            label=label,
            settings=dict(settings or {}),
            created_by=created_by,
            created_at=moment,
            expires_at=moment + ttl,
        )
    )
    if commit:
        session.commit()
    else:
        session.flush()
    return _grouped(digits)


def redeem_pairing_code(session: Session, code: str, now: datetime) -> str:
    """Trade a code for a new device token, once: a used, expired or unknown code is refused.

    The code is claimed by compare-and-set (``UPDATE … WHERE used_at IS NULL``), so two
    devices typing the same code at the same instant get one token between them.
    """
    digits = normalize_code(code)
    if digits is None:
        raise not_found("pairing_code_not_found")
    row = session.execute(
        select(PairingCode, Site.code)
        .join(Site, Site.id == PairingCode.site_id)
        .where(PairingCode.code_hash == _digest(digits))
    ).first()
    if row is None:
        raise not_found("pairing_code_not_found")
    pairing, site_code = row
    if pairing.used_at is not None:
        raise conflict("pairing_code_used")
    if pairing.expires_at <= now:
        raise conflict("pairing_code_expired")
    claimed = session.execute(
        update(PairingCode)
        .where(
            PairingCode.id == pairing.id,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise conflict("pairing_code_used")
    try:
        # Commits the claim and the token together; a refusal undoes the claim.
        raw = create_token(
            session,
            site_code,
            pairing.role,
            pairing.counter_number,
            pairing.label,
            settings=pairing.settings,
        )
    except Exception:
        session.rollback()
        raise
    token_id = session.execute(
        select(ApiToken.id).where(ApiToken.token_hash == hashlib.sha256(raw.encode()).hexdigest())
    ).scalar_one()
    session.execute(
        update(PairingCode)
        .where(PairingCode.id == pairing.id)
        .values(token_id=token_id)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return raw


@dataclass(frozen=True)
class TokenRow:
    id: int
    role: str
    counter: int | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


def list_tokens(session: Session, site_code: str) -> list[TokenRow]:
    """The site's tokens, oldest first, revoked ones included."""
    site = site_by_code(session, site_code)
    tokens = session.execute(
        select(ApiToken).where(ApiToken.site_id == site.id).order_by(ApiToken.id)
    ).scalars()
    return [
        TokenRow(t.id, t.role, t.counter_number, t.label, t.created_at, t.revoked_at)
        for t in tokens
    ]


def revoke_token(
    session: Session, token_id: int, now: datetime, *, commit: bool = True
) -> datetime:
    """Revoke a token (once; revoking again keeps the first time): it opens nothing any more.

    ``commit=False`` leaves the transaction to the caller (to save an audit entry with it).
    """
    token = session.get(ApiToken, token_id)
    if token is None:
        raise not_found("token_not_found", token=token_id)
    if token.revoked_at is None:
        token.revoked_at = now
        if commit:
            session.commit()
        else:
            session.flush()
        # This process's cached lookups; every process's when the token's room is closed.
        forget_token(token.id)
    return token.revoked_at


def cancel_pairing_code(
    session: Session, site_id: int, code_id: int, now: datetime, *, commit: bool = True
) -> bool:
    """Withdraw a code of the site that was not used: it expires now and pairs nothing.

    True when it was cancelled now; False when it had already expired (it is left as it
    was). A used code, or one unknown at this site, is refused (``pairing_code_not_found``).
    Compare-and-set like ``redeem_pairing_code``: of a cancel and a redeem at the same
    instant, exactly one wins. ``commit=False`` leaves the transaction to the caller.
    """
    cancelled = session.execute(
        update(PairingCode)
        .where(
            PairingCode.id == code_id,
            PairingCode.site_id == site_id,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    if cancelled.rowcount == 1:  # type: ignore[attr-defined]
        if commit:
            session.commit()
        return True
    used_at = session.execute(
        select(PairingCode.used_at).where(PairingCode.id == code_id, PairingCode.site_id == site_id)
    ).first()
    if used_at is None or used_at[0] is not None:
        raise not_found("pairing_code_not_found")
    return False
