"""The audit log: who did what, when, from where, for staff and admin actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_app_context
from sqlalchemy.orm import Session

from .models import AuditEntry
from .runtime import runtime
from .timeutil import utcnow


def _now() -> datetime:
    if has_app_context():
        return runtime().clock()
    return utcnow()


def record(
    session: Session,
    action: str,
    *,
    user_id: int | None = None,
    device_id: int | None = None,
    site_id: int | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    remote_addr: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry to the session; it is kept when the caller's transaction commits.

    Writing in the caller's transaction means an action and its entry are saved
    together or not at all.
    """
    entry = AuditEntry(
        at=at or _now(),
        user_id=user_id,
        device_id=device_id,
        site_id=site_id,
        action=action[:64],
        target=target[:200],
        detail=detail or {},
        remote_addr=(remote_addr or "")[:64],
    )
    session.add(entry)
    return entry
