"""Staff accounts: creating them, setting passwords, and logging in with lockout.

No Flask here. A change made from a page (``create_account``, ``update_user``,
``reset_password``, ``unlock_user``, ``log_out_everywhere``) takes a unit of work, as the
engine's and the admin's use cases do: it opens one transaction, checks, writes the change
and its audit entry, and commits. The steps they are made of (``create_user``,
``set_password``), logging in and the reads take a session the caller holds (the demo and
the command line set up several accounts in one transaction).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..engine.unit_of_work import UnitOfWork
from ..models import LoginFailure, Site, StaffSession, User, UserSite

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
# Wrong logins under an unknown username are forgotten after this long without another.
UNKNOWN_NAME_KEPT = timedelta(days=30)
# Ended staff sessions are kept this long (then deleted when the account logs in again).
ENDED_SESSION_KEPT = timedelta(days=30)


MAX_FULL_NAME = 200
MAX_PHOTO_URL = 500


class AccountError(Exception):
    """A refused account change, with the Vietnamese message to show and the field it is about."""

    def __init__(self, template: str, field: str | None = None, **params: object) -> None:
        message = template % params if params else template
        super().__init__(message)
        # The catalog translates the template; what was typed is filled in afterwards.
        self.template = template
        self.params = params
        self.message = message
        self.field = field


class AccountForbidden(AccountError):
    """The change is outside what this person may manage (a manager and another site, say)."""


class NoSuchAccount(AccountError):
    """The account named does not exist."""


@dataclass(frozen=True)
class AccountEditor:
    """The staff member who changes an account from a page: their account, role, sites, address."""

    user_id: int
    role: str
    site_ids: tuple[int, ...] = ()
    remote_addr: str = ""


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


def is_username(username: str) -> bool:
    """A username as the accounts take it (already normalized)."""
    return bool(_USERNAME.fullmatch(username))


def check_full_name(full_name: str) -> str:
    """The name with its spaces tidied; refused when too long."""
    return _check_full_name(full_name)


def _check_not_from_hub(user: User) -> None:
    """A site managed at the hub does not edit the accounts the hub sends it."""
    if user.from_hub:
        raise AccountError(
            "Tài khoản này do trung tâm tỉnh quản lý: hãy sửa tại trang quản trị của tỉnh."
        )


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.", "password")


def _check_full_name(full_name: str) -> str:
    full_name = " ".join(full_name.split())
    if len(full_name) > MAX_FULL_NAME:
        raise AccountError(f"Họ và tên tối đa {MAX_FULL_NAME} ký tự.", "full_name")
    return full_name


def check_photo_url(url: str | None) -> str | None:
    """A photo's address: empty, an http(s) URL, or a path on this server (``/static/…``).

    Anything else (``javascript:``, ``data:``, ``//host``) is refused: the address ends up
    in an ``<img src>`` that staff and citizens' screens load.
    """
    url = (url or "").strip()
    if not url:
        return None
    wrong = AccountError(
        "Địa chỉ ảnh phải bắt đầu bằng http://, https:// hoặc / (đường dẫn trên máy chủ).",
        "photo_url",
    )
    if len(url) > MAX_PHOTO_URL:
        raise AccountError(f"Địa chỉ ảnh tối đa {MAX_PHOTO_URL} ký tự.", "photo_url")
    if any(ch.isspace() or ord(ch) < 32 or ch in "\\\"'<>" for ch in url):
        raise wrong
    if url.startswith("/"):
        if url.startswith("//"):
            raise wrong
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        raise wrong from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise wrong
    return url


def _check_role_and_sites(role: str, site_codes: Iterable[str]) -> None:
    codes = set(site_codes)
    if role not in ROLES:
        raise AccountError("Vai trò phải là admin, manager hoặc clerk.", "role")
    if role == "admin" and codes:
        raise AccountError("Quản trị viên làm việc với mọi đơn vị: không gắn đơn vị.", "sites")
    if role == "manager" and not codes:
        raise AccountError("Người quản lý cần ít nhất một đơn vị.", "sites")
    if role == "clerk" and len(codes) != 1:
        raise AccountError("Cán bộ cần đúng một đơn vị.", "sites")


def _sites(session: Session, site_codes: Iterable[str]) -> list[Site]:
    sites = []
    for code in dict.fromkeys(site_codes):
        site = session.scalar(select(Site).where(Site.code == code))
        if site is None:
            raise AccountError("Không có đơn vị “%(code)s”.", "sites", code=code)
        sites.append(site)
    return sites


def _one_site_id(ids: Iterable[int]) -> int | None:
    """The site an account change is filed under in the audit log, when there is one."""
    unique = set(ids)
    return unique.pop() if len(unique) == 1 else None


def may_manage(editor: AccountEditor, role: str, site_ids: Iterable[int]) -> bool:
    """An admin manages every account; a manager only clerks of the manager's own sites."""
    if editor.role == "admin":
        return True
    ids = set(site_ids)
    return (
        editor.role == "manager" and role == "clerk" and bool(ids) and ids <= set(editor.site_ids)
    )


def _check_role_allowed(editor: AccountEditor | None, role: str) -> None:
    """Checked before the sites, so a manager asking for an admin hears why it is refused."""
    if editor is not None and editor.role != "admin" and role in ROLES and role != "clerk":
        raise AccountForbidden(
            "Người quản lý chỉ tạo và sửa được tài khoản cán bộ của đơn vị mình.", "role"
        )


def _check_may_manage(editor: AccountEditor, role: str, site_ids: tuple[int, ...]) -> None:
    if not may_manage(editor, role, site_ids):
        field = "role" if role != "clerk" else "sites"
        raise AccountForbidden(
            "Người quản lý chỉ tạo và sửa được tài khoản cán bộ của đơn vị mình.", field
        )


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
    photo_url: str | None = None,
    by_user_id: int | None = None,
    editor: AccountEditor | None = None,
) -> User:
    """A new account: admin works for every site, manager for one or more, clerk for one.

    With an ``editor`` (a change made from a page) the account must be one the editor may
    manage: a manager makes only clerks of their own sites.
    """
    username = normalize_username(username)
    if not _USERNAME.fullmatch(username):
        raise AccountError(
            "Tên đăng nhập chỉ gồm chữ không dấu, số, dấu chấm, gạch ngang, gạch dưới"
            " (tối đa 64 ký tự).",
            "username",
        )
    full_name = _check_full_name(full_name)
    photo = check_photo_url(photo_url)
    _check_role_allowed(editor, role)
    _check_role_and_sites(role, site_codes)
    _check_new_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("Tên đăng nhập “%(username)s” đã có.", "username", username=username)
    sites = _sites(session, site_codes)
    if editor is not None:
        _check_may_manage(editor, role, tuple(site.id for site in sites))
        by_user_id = editor.user_id
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        active=True,
        photo_url=photo,
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
        site_id=_one_site_id(site.id for site in sites),
        target=username,
        detail={"role": role, "sites": [site.code for site in sites]},
        remote_addr=editor.remote_addr if editor else "",
        at=now,
    )
    return user


def create_account(
    uow: UnitOfWork,
    username: str,
    role: str,
    password: str,
    *,
    editor: AccountEditor,
    **details: Any,
) -> User:
    """``create_user`` from a page (``details``: its sites, name and photo), in its own
    transaction; a name taken meanwhile by another request raises ``IntegrityError``."""
    with uow:
        user = create_user(
            uow.session, username, role, password, uow.clock(), editor=editor, **details
        )
        uow.commit()
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
    uow: UnitOfWork, username: str, password: str, *, editor: AccountEditor | None = None
) -> User:
    """``set_password`` in its own transaction; the caller then cuts off the account's live
    connections."""
    with uow:
        user = set_password(uow.session, username, password, uow.clock(), editor=editor)
        uow.commit()
        return user


def set_password(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    *,
    by_user_id: int | None = None,
    editor: AccountEditor | None = None,
) -> User:
    """A new password; it also lifts a lockout, and ends the account's open sessions.

    The caller cuts off the account's live connections after the commit.
    """
    username = normalize_username(username)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NoSuchAccount("Không có tài khoản “%(username)s”.", username=username)
    sites = site_ids(session, user.id)
    if editor is not None:
        _check_may_manage(editor, user.role, sites)
        by_user_id = editor.user_id
    _check_not_from_hub(user)
    _check_new_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    end_all_sessions(session, user.id, now)
    audit.record(
        session,
        "user.password_reset",
        user_id=by_user_id,
        site_id=_one_site_id(sites),
        target=username,
        remote_addr=editor.remote_addr if editor else "",
        at=now,
    )
    return user


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _unknown_name(session: Session, username: str, now: datetime) -> LoginFailure:
    """The row counting wrong logins under a username with no active account (locked).

    Made on the first wrong login under that name; two requests making it at once get one.
    """
    key = _digest(username)
    query = select(LoginFailure).where(LoginFailure.name_hash == key).with_for_update()
    row = session.scalar(query)
    if row is not None:
        return row
    session.execute(delete(LoginFailure).where(LoginFailure.last_at < now - UNKNOWN_NAME_KEPT))
    try:
        with session.begin_nested():
            session.add(LoginFailure(name_hash=key, failures=0, last_at=now))
    except IntegrityError:  # made a moment ago by another request
        pass
    return session.scalars(query).one()


def authenticate(
    session: Session, username: str, password: str, now: datetime, remote_addr: str = ""
) -> LoginResult:
    """Check a login; after MAX_FAILURES wrong passwords in a row the account is locked.

    A locked account refuses even the right password until LOCKOUT has passed.
    An unknown name and a wrong password give the same answer, and wrong logins under
    an unknown name lock it just as they would an account, so the lockout message
    does not tell which usernames exist. Either way one password hash is checked when
    the name is not locked, none when it is, so timing does not tell them apart either.
    """
    username = normalize_username(username)
    user = session.scalar(select(User).where(User.username == username))

    def note(action: str, user_id: int | None = None, **detail: Any) -> None:
        # A one-site account's logins belong to that site, so its manager sees them.
        sites = site_ids(session, user_id) if user_id is not None else ()
        audit.record(
            session,
            action,
            user_id=user_id,
            site_id=sites[0] if len(sites) == 1 else None,
            target=username,
            detail=detail,
            remote_addr=remote_addr,
            at=now,
        )

    if user is None or not user.active:
        unknown = _unknown_name(session, username, now)
        unknown.last_at = now
        if unknown.locked_until is not None and unknown.locked_until > now:
            note("login.failure", reason="unknown")
            return LoginResult(None, locked_until=unknown.locked_until)
        check_password_hash(_DUMMY_HASH, password)
        unknown.failures += 1
        note("login.failure", reason="unknown")
        if unknown.failures < MAX_FAILURES:
            return LoginResult(None)
        unknown.failures = 0
        unknown.locked_until = now + LOCKOUT
        return LoginResult(None, locked_until=unknown.locked_until)
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


# --- staff sessions, kept server-side -----------------------------------------------------


def start_session(session: Session, user_id: int, now: datetime) -> str:
    """A new login session of the account; returns the secret the browser's cookie keeps.

    Only the secret's SHA-256 is stored (``StaffSession.id``, also the session's key).
    """
    session.execute(
        delete(StaffSession).where(
            StaffSession.user_id == user_id,
            StaffSession.ended_at < now - ENDED_SESSION_KEPT,
        )
    )
    secret = secrets.token_urlsafe(32)
    session.add(StaffSession(id=session_key(secret), user_id=user_id, created_at=now))
    return secret


def session_key(secret: str) -> str:
    """The stored key of the session whose cookie holds ``secret``."""
    return _digest(secret)


def end_session(session: Session, key: str, now: datetime) -> None:
    """Log one session out: its cookie opens nothing any more, wherever it was copied to."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.id == key, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )


def end_all_sessions(session: Session, user_id: int, now: datetime) -> int:
    """Log the account out everywhere (a new password, deactivation, or on request)."""
    ended = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]


def live_session_user(session: Session, user_id: int, key: str) -> User | None:
    """The active account of the session ``key`` if it was not ended, else None.

    Checked on every request of a staff page: one lookup by primary key.
    """
    return session.scalar(
        select(User)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(
            StaffSession.id == key,
            StaffSession.ended_at.is_(None),
            User.id == user_id,
            User.active.is_(True),
        )
    )


def site_ids(session: Session, user_id: int) -> tuple[int, ...]:
    return tuple(session.scalars(select(UserSite.site_id).where(UserSite.user_id == user_id)))


# --- managing accounts from the admin pages ---------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    """One account as the staff list shows it."""

    user: User
    site_codes: tuple[str, ...]
    site_ids: tuple[int, ...]
    editable: bool


@dataclass
class AccountChange:
    """What ``update_user`` changed: field -> (before, after)."""

    user: User
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def leaves_counter(self) -> bool:
        """A deactivated account, or one moved to other sites, must not hold a counter."""
        return "active" in self.changes or "sites" in self.changes or "role" in self.changes


def visible_accounts(session: Session, editor: AccountEditor) -> list[AccountRow]:
    """The accounts an admin sees (all) or a manager (the clerks and managers of their sites)."""
    query = select(User).order_by(User.username)
    if editor.role != "admin":
        of_my_sites = select(UserSite.user_id).where(UserSite.site_id.in_(editor.site_ids))
        query = query.where(User.role.in_(("clerk", "manager")), User.id.in_(of_my_sites))
    users = list(session.scalars(query))
    links: dict[int, list[tuple[int, str]]] = {}
    rows = session.execute(
        select(UserSite.user_id, Site.id, Site.code)
        .join(Site, Site.id == UserSite.site_id)
        .where(UserSite.user_id.in_([u.id for u in users]))
        .order_by(Site.code)
    )
    for user_id, site_id, code in rows:
        links.setdefault(user_id, []).append((site_id, code))
    result = []
    for user in users:
        ids = tuple(site_id for site_id, _code in links.get(user.id, []))
        codes = tuple(code for _id, code in links.get(user.id, []))
        result.append(AccountRow(user, codes, ids, may_manage(editor, user.role, ids)))
    return result


def account_for(session: Session, user_id: int, editor: AccountEditor | None) -> AccountRow:
    """One account the editor may change: ``NoSuchAccount`` or ``AccountForbidden`` otherwise."""
    user = session.get(User, user_id)
    if user is None:
        raise NoSuchAccount("Không có tài khoản này.")
    links = session.execute(
        select(Site.id, Site.code)
        .join(UserSite, UserSite.site_id == Site.id)
        .where(UserSite.user_id == user.id)
        .order_by(Site.code)
    ).all()
    ids = tuple(site_id for site_id, _code in links)
    if editor is not None and not may_manage(editor, user.role, ids):
        raise AccountForbidden("Bạn không có quyền sửa tài khoản này.")
    return AccountRow(user, tuple(code for _id, code in links), ids, True)


def _check_keeps_an_admin(session: Session, user: User, field_name: str) -> None:
    """The last active admin cannot be demoted or deactivated: nobody could manage the system.

    The other active admins' rows are locked, so two admins demoting each other at the same
    moment cannot both succeed (SQLite serializes writers anyway).
    """
    others = session.scalars(
        select(User.id)
        .where(User.role == "admin", User.active.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    if not others:
        raise AccountError(
            "Đây là quản trị viên cuối cùng đang hoạt động: không thể hạ vai trò hay khóa.",
            field_name,
        )


def update_user(
    uow: UnitOfWork,
    user_id: int,
    *,
    full_name: str,
    role: str,
    site_codes: tuple[str, ...],
    photo_url: str | None,
    active: bool,
    editor: AccountEditor | None = None,
) -> AccountChange:
    """Change an account's name, role, sites, photo and whether it may log in.

    Nobody changes their own role, sites or active flag; the last active admin stays
    an active admin; a manager changes only clerks of their sites, and keeps them so.
    """
    with uow:
        session, now = uow.session, uow.clock()
        current = account_for(session, user_id, editor)
        user = current.user
        _check_not_from_hub(user)
        full_name = _check_full_name(full_name)
        photo = check_photo_url(photo_url)
        _check_role_allowed(editor, role)
        _check_role_and_sites(role, site_codes)
        sites = _sites(session, site_codes)
        new_ids = tuple(site.id for site in sites)
        if editor is not None:
            _check_may_manage(editor, role, new_ids)
            if editor.user_id == user.id:
                if role != user.role:
                    raise AccountError("Bạn không thể tự đổi vai trò của mình.", "role")
                if not active:
                    raise AccountError("Bạn không thể tự khóa tài khoản của mình.", "active")
                if set(new_ids) != set(current.site_ids):
                    raise AccountError("Bạn không thể tự đổi đơn vị của mình.", "sites")
        if user.role == "admin" and user.active:
            if role != "admin":
                _check_keeps_an_admin(session, user, "role")
            elif not active:
                _check_keeps_an_admin(session, user, "active")

        change = AccountChange(user)
        for name, after in (
            ("full_name", full_name),
            ("role", role),
            ("photo_url", photo),
            ("active", active),
        ):
            before = getattr(user, name)
            if before != after:
                change.changes[name] = (before, after)
                setattr(user, name, after)
        if set(new_ids) != set(current.site_ids):
            change.changes["sites"] = (list(current.site_codes), [site.code for site in sites])
            for link in session.scalars(select(UserSite).where(UserSite.user_id == user.id)):
                if link.site_id not in new_ids:
                    session.delete(link)
            session.add_all(
                UserSite(user_id=user.id, site_id=site_id)
                for site_id in new_ids
                if site_id not in current.site_ids
            )
        if change.changes:
            session.flush()
            by = editor.user_id if editor else None
            where = _one_site_id(new_ids or current.site_ids)
            addr = editor.remote_addr if editor else ""
            detail = {name: list(pair) for name, pair in change.changes.items() if name != "active"}
            if detail:
                audit.record(
                    session,
                    "user.update",
                    user_id=by,
                    site_id=where,
                    target=user.username,
                    detail=detail,
                    remote_addr=addr,
                    at=now,
                )
            if "active" in change.changes:
                if not active:
                    end_all_sessions(session, user.id, now)
                action = "user.activate" if active else "user.deactivate"
                audit.record(
                    session,
                    action,
                    user_id=by,
                    site_id=where,
                    target=user.username,
                    remote_addr=addr,
                    at=now,
                )
        uow.commit()
        return change


def unlock_user(uow: UnitOfWork, user_id: int, *, editor: AccountEditor | None = None) -> User:
    """Lift a lockout (after too many wrong passwords) before its time is up."""
    with uow:
        current = account_for(uow.session, user_id, editor)
        user = current.user
        user.failed_logins = 0
        user.locked_until = None
        audit.record(
            uow.session,
            "user.unlock",
            user_id=editor.user_id if editor else None,
            site_id=_one_site_id(current.site_ids),
            target=user.username,
            remote_addr=editor.remote_addr if editor else "",
            at=uow.clock(),
        )
        uow.commit()
        return user


def log_out_everywhere(
    uow: UnitOfWork, user_id: int, *, editor: AccountEditor | None = None
) -> User:
    """End every login session of an account the editor may manage (audited)."""
    with uow:
        current = account_for(uow.session, user_id, editor)
        ended = end_all_sessions(uow.session, current.user.id, uow.clock())
        audit.record(
            uow.session,
            "user.logout_everywhere",
            user_id=editor.user_id if editor else None,
            site_id=_one_site_id(current.site_ids),
            target=current.user.username,
            detail={"sessions": ended},
            remote_addr=editor.remote_addr if editor else "",
            at=uow.clock(),
        )
        uow.commit()
        return current.user
