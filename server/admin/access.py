"""Who may manage what: admins every site, managers the sites they work for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.security import Staff, current_staff, staff_required
from ..models import Site

F = TypeVar("F", bound=Callable[..., Any])
MANAGERS = ("admin", "manager")


def manager_page(view: F) -> F:
    """Admin pages: logged-in admins and managers; a clerk gets 403, nobody the login page."""
    return staff_required(*MANAGERS)(view)


def admin_only(view: F) -> F:
    """Pages only an admin may use (creating sites, for one)."""
    return staff_required("admin")(view)


def me() -> Staff:
    staff = current_staff()
    if staff is None:  # the decorators above ran first
        abort(401)
    return staff


def manageable_sites(session: Session, staff: Staff) -> list[Site]:
    """The sites this person may manage, by name."""
    query = select(Site).order_by(Site.name, Site.code)
    if staff.role != "admin":
        query = query.where(Site.id.in_(staff.site_ids))
    return list(session.execute(query).scalars())


def managed_site(session: Session, staff: Staff, code: str) -> Site:
    """The site of the URL, if this person manages it: 404 when unknown, 403 when not theirs."""
    site = session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()
    if site is None:
        abort(404)
    if staff.role not in MANAGERS or not staff.works_for(site.id):
        abort(403)
    return site
