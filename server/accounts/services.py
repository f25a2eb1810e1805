"""Staff accounts: creating them, setting passwords, and logging in with lockout.

No Flask here: each use case takes a database session and the current time.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..models import Site, User, UserSite

ROLES = ("admin", "manager", "clerk")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
FIRST_ADMIN = "admin"
# No 0/O, 1/l/I: a generated password is read off a screen and typed by hand.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# Checked when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("xephang-no-such-user")


class AccountError(Exception):
    """A refused account change, with the Vietnamese message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def generate_password(length: int = 16) -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug's default method)."""
    return generate_password_hash(password)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    now: datetime,
    *,
    site_codes: tuple[str, ...] = (),
    full_name: str = "",
    by_user_id: int | None = None,
) -> User:
    """A new account: admin works for every site, manager for one or more, clerk for one."""
    username = normalize_username(username)
    if not _USERNAME.fullmatch(username):
        raise AccountError(
            "Tên đăng nhập chỉ gồm chữ không dấu, số, dấu chấm, gạch ngang, gạch dưới"
            " (tối đa 64 ký tự)."
        )
    if role not in ROLES:
        raise AccountError("Vai trò phải là admin, manager hoặc clerk.")
    if role == "admin" and site_codes:
        raise AccountError("Quản trị viên làm việc với mọi đơn vị: không gắn đơn vị.")
    if role == "manager" and not site_codes:
        raise AccountError("Người quản lý cần ít nhất một đơn vị (--site).")
    if role == "clerk" and len(set(site_codes)) != 1:
        raise AccountError("Cán bộ cần đúng một đơn vị (--site).")
    _check_new_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"Tên đăng nhập '{username}' đã có.")
    sites = []
    for code in dict.fromkeys(site_codes):
        site = session.scalar(select(Site).where(Site.code == code))
        if site is None:
            raise AccountError(f"Không có đơn vị '{code}'.")
        sites.append(site)
    user = User(
        username=username,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        role=role,
        active=True,
        failed_logins=0,
        created_at=now,
    )
    session.add(user)
    session.flush()
    session.add_all(UserSite(user_id=user.id, site_id=site.id) for site in sites)
    audit.record(
        session,
        "user.create",
        user_id=by_user_id,
        target=username,
        detail={"role": role, "sites": [site.code for site in sites]},
        at=now,
    )
    return user


def create_first_admin(session: Session, now: datetime) -> str | None:
    """The first admin account, with a generated password, when there is no account yet.

    Returns that password (to be shown once), or ``None`` when accounts exist.
    """
    if has_users(session):
        return None
    password = generate_password()
    create_user(session, FIRST_ADMIN, "admin", password, now)
    return password


def reset_password(
    session: Session, username: str, password: str, now: datetime, *, by_user_id: int | None = None
) -> User:
    """A new password; it also lifts a lockout."""
    username = normalize_username(username)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"Không có tài khoản '{username}'.")
    _check_new_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, "user.password_reset", user_id=by_user_id, target=username, at=now)
    return user


def authenticate(
    session: Session, username: str, password: str, now: datetime, remote_addr: str = ""
) -> LoginResult:
    """Check a login; after MAX_FAILURES wrong passwords in a row the account is locked.

    A locked account refuses even the right password until LOCKOUT has passed.
    An unknown name and a wrong password give the same answer.
    """
    username = normalize_username(username)
    user = session.scalar(select(User).where(User.username == username))

    def note(action: str, user_id: int | None = None, **detail: Any) -> None:
        audit.record(
            session,
            action,
            user_id=user_id,
            target=username,
            detail=detail,
            remote_addr=remote_addr,
            at=now,
        )

    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        note("login.failure", reason="unknown")
        return LoginResult(None)
    if user.locked_until is not None and user.locked_until > now:
        note("login.failure", user.id, reason="locked")
        return LoginResult(None, locked_until=user.locked_until)
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        note("login.failure", user.id, reason="password", failures=user.failed_logins)
        if user.failed_logins < MAX_FAILURES:
            return LoginResult(None)
        user.failed_logins = 0
        user.locked_until = now + LOCKOUT
        note("login.lockout", user.id)
        return LoginResult(None, locked_until=user.locked_until)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    note("login.success", user.id)
    return LoginResult(user)


def site_ids(session: Session, user_id: int) -> tuple[int, ...]:
    return tuple(session.scalars(select(UserSite.site_id).where(UserSite.user_id == user_id)))
