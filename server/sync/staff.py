"""At a site managed at the hub: the clerk and manager accounts the hub sends.

An account is the hub's or the site's, never both: the hub's (``from_hub``) are created,
changed and deactivated here only from the hub's list, and the site's own pages refuse to
edit them; the site's own accounts (its first admin, any it made itself) the hub never
touches. An account the hub no longer lists, or lists as inactive, may no longer log in;
a new password or role ends its open sessions, in the same transaction as the change, and
the caller then cuts off its live connections. The lockout counters stay the site's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.services import (
    AccountError,
    check_full_name,
    check_photo_url,
    end_all_sessions,
    is_username,
    normalize_username,
)
from ..models import User, UserSite

ROLES = ("clerk", "manager")
# werkzeug's hash formats ("scrypt:32768:8:1$salt$hash", "pbkdf2:sha256:…$salt$hash").
HASH_METHODS = ("scrypt:", "pbkdf2:")
MAX_HASH = 255


class BadStaffList(ValueError):
    """The hub's list of accounts is not one the site takes; nothing of it is applied."""


@dataclass(frozen=True)
class StaffItem:
    username: str
    full_name: str
    role: str
    active: bool
    password_hash: str
    photo_url: str | None


def read_staff(items: Any) -> list[StaffItem]:
    """The hub's list, every field checked; one wrong item refuses the whole list."""
    if not isinstance(items, list):
        raise BadStaffList("staff is not a list")
    seen: set[str] = set()
    staff = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadStaffList(f"staff[{n}] is not an object")
        username = item.get("username")
        if not isinstance(username, str) or not is_username(normalize_username(username)):
            raise BadStaffList(f"staff[{n}].username")
        username = normalize_username(username)
        if username in seen:
            raise BadStaffList(f"staff[{n}].username repeats {username}")
        seen.add(username)
        role, active, digest = item.get("role"), item.get("active"), item.get("password_hash")
        if role not in ROLES:
            raise BadStaffList(f"staff[{n}].role")
        if not isinstance(active, bool):
            raise BadStaffList(f"staff[{n}].active")
        if (
            not isinstance(digest, str)
            or len(digest) > MAX_HASH
            or not digest.startswith(HASH_METHODS)
            or "$" not in digest
        ):
            raise BadStaffList(f"staff[{n}].password_hash")
        name, photo = item.get("full_name", ""), item.get("photo_url")
        if not isinstance(name, str) or not (photo is None or isinstance(photo, str)):
            raise BadStaffList(f"staff[{n}].full_name/photo_url")
        try:
            name, photo = check_full_name(name), check_photo_url(photo)
        except AccountError as err:
            raise BadStaffList(f"staff[{n}]: {err.message}") from None
        staff.append(StaffItem(username, name, str(role), active, digest, photo))
    return staff


def apply_staff(session: Session, site_id: int, staff: list[StaffItem], now: datetime) -> list[int]:
    """Make the site's hub accounts the list's; the ids of the accounts that lost access
    (deactivated, a new password or role), whose sessions are ended here."""
    listed = {item.username: item for item in staff}
    existing = {
        user.username: user
        for user in session.scalars(select(User).where(User.username.in_(list(listed))))
    }
    owned = session.scalars(
        select(User)
        .join(UserSite, UserSite.user_id == User.id)
        .where(UserSite.site_id == site_id, User.from_hub.is_(True))
    ).all()
    lost: list[int] = []
    for item in staff:
        user = existing.get(item.username)
        if user is None:
            user = User(username=item.username, failed_logins=0, created_at=now, from_hub=True)
            session.add(user)
        elif not user.from_hub and user.role == "admin":
            continue  # the site's own admin keeps its account: the hub sends no admins
        elif user.id is not None and _loses_access(user, item):
            lost.append(user.id)
        user.from_hub = True
        user.full_name = item.full_name
        user.role = item.role
        user.active = item.active
        user.password_hash = item.password_hash
        user.photo_url = item.photo_url
        session.flush()
        _works_here(session, user, site_id)
    for user in owned:
        if user.username not in listed and user.active:
            user.active = False
            lost.append(user.id)
    for user_id in lost:
        end_all_sessions(session, user_id, now)
    return lost


def _loses_access(user: User, item: StaffItem) -> bool:
    return (
        (user.active and not item.active)
        or user.password_hash != item.password_hash
        or user.role != item.role
    )


def _works_here(session: Session, user: User, site_id: int) -> None:
    """The account works for this site; a clerk for this one only."""
    links = session.scalars(select(UserSite).where(UserSite.user_id == user.id)).all()
    if user.role == "clerk":
        for link in links:
            if link.site_id != site_id:
                session.delete(link)
    if not any(link.site_id == site_id for link in links):
        session.add(UserSite(user_id=user.id, site_id=site_id))
