"""The audit log on the admin pages: newest first, 50 a page, filtered by site, person, action.

An admin reads every entry; a manager the entries filed under their sites and
their own. Times are shown in the entry's site's zone (Asia/Ho_Chi_Minh when it
has no site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template, request
from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from ..accounts.services import visible_accounts
from ..models import ApiToken, AuditEntry, Site, User
from ..runtime import runtime
from ..timeutil import DEFAULT_TIMEZONE
from . import bp
from .access import manageable_sites, manager_page, me
from .audit_labels import action_choices, action_label, detail_items
from .people import account_editor, local_when

PER_PAGE = 50


@dataclass(frozen=True)
class AuditScope:
    """What one reader may see: every entry (``site_ids`` None), or their sites' and their own."""

    user_id: int
    site_ids: tuple[int, ...] | None

    def clause(self) -> ColumnElement[bool]:
        if self.site_ids is None:
            return true()
        return or_(AuditEntry.site_id.in_(self.site_ids), AuditEntry.user_id == self.user_id)


@dataclass(frozen=True)
class AuditFilter:
    site_id: int | None = None
    user_id: int | None = None
    action: str = ""

    def clause(self) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        if self.site_id is not None:
            parts.append(AuditEntry.site_id == self.site_id)
        if self.user_id is not None:
            parts.append(AuditEntry.user_id == self.user_id)
        if self.action:
            parts.append(AuditEntry.action == self.action)
        return and_(true(), *parts)


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    action: str
    target: str
    detail: dict[str, Any]
    remote_addr: str
    username: str | None
    full_name: str | None
    device_id: int | None
    device_role: str | None
    device_label: str | None
    site_code: str | None
    timezone: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    pages: int
    total: int


def read_audit(
    session: Session, scope: AuditScope, wanted: AuditFilter, page: int = 1
) -> AuditPage:
    """One page of the entries this reader may see, newest first."""
    where = and_(scope.clause(), wanted.clause())
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(where)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    result = session.execute(
        select(AuditEntry, User, ApiToken, Site)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .outerjoin(ApiToken, ApiToken.id == AuditEntry.device_id)
        .outerjoin(Site, Site.id == AuditEntry.site_id)
        .where(where)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    rows = [
        AuditRow(
            id=entry.id,
            at=entry.at,
            action=entry.action,
            target=entry.target,
            detail=dict(entry.detail or {}),
            remote_addr=entry.remote_addr,
            username=user.username if user else None,
            full_name=user.full_name if user else None,
            device_id=token.id if token else None,
            device_role=token.role if token else None,
            device_label=token.label if token else None,
            site_code=site.code if site else None,
            timezone=site.timezone if site else DEFAULT_TIMEZONE,
        )
        for entry, user, token, site in result
    ]
    return AuditPage(rows, page, pages, total)


def audit_actions(session: Session, scope: AuditScope) -> list[str]:
    """The actions found in what this reader may see, for the filter."""
    query = select(AuditEntry.action).where(scope.clause()).distinct().order_by(AuditEntry.action)
    return list(session.scalars(query))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


@bp.get("/audit")
@manager_page
def audit_log() -> str:
    staff = me()
    scope = AuditScope(staff.id, None if staff.role == "admin" else staff.site_ids)
    with runtime().db.reads() as session:
        sites = manageable_sites(session, staff)
        by_code = {site.code: site for site in sites}
        site_code = request.args.get("site", "")
        chosen = by_code.get(site_code)
        if staff.role == "admin":
            people = list(session.scalars(select(User).order_by(User.username)))
        else:
            people = [row.user for row in visible_accounts(session, account_editor())]
        wanted = AuditFilter(
            site_id=chosen.id if chosen else (-1 if site_code else None),
            user_id=_int_arg("user"),
            action=request.args.get("action", "")[:64],
        )
        page = read_audit(session, scope, wanted, _int_arg("page") or 1)
        actions = audit_actions(session, scope)
    args = {
        key: value
        for key, value in (("site", site_code), ("user", request.args.get("user", "")))
        if value
    }
    if wanted.action:
        args["action"] = wanted.action
    return render_template(
        "admin/audit.html",
        page=page,
        sites=sites,
        people=people,
        actions=action_choices(actions),
        wanted=wanted,
        site_code=site_code,
        args=args,
        when=local_when,
        action_label=action_label,
        detail_items=detail_items,
    )
