"""Who is calling an API view: a bearer token, or a logged-in staff member's page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import select

from ..accounts.security import Staff, csrf, current_staff
from ..engine.rules import AT_COUNTER
from ..models import Counter, Site, Ticket
from ..runtime import runtime
from ..tokens import Principal, cached_principal, token_cache_seconds
from .problems import ApiProblem

F = TypeVar("F", bound=Callable[..., Any])

READERS = ("admin", "manager", "clerk", "kiosk", "display", "tablet")
RATERS = ("tablet",)
ISSUERS = ("admin", "manager", "clerk", "kiosk")
CALLERS = ("admin", "manager", "clerk")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# A clerk's page acts for the counter the clerk signed in at; none yet: this number, never valid.
NO_COUNTER = 0


def _bearer_principal(raw: str) -> Principal:
    ttl = token_cache_seconds(current_app.config)
    principal = cached_principal(runtime().db.reads, raw, ttl)
    if principal is None:
        raise ApiProblem(401, "unauthorized")
    return principal


def _staff_principal(staff: Staff, site_code: str | None) -> Principal:
    """A staff member acting from a page: on a site they work for; a clerk at their counter.

    The session cookie is sent by the browser on its own, so writes need the page's CSRF token.
    """
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            csrf.protect()
        except CSRFError:
            raise ApiProblem(400, "csrf_invalid") from None
    with runtime().db.reads() as session:
        if site_code is None:
            if len(staff.site_ids) != 1:
                raise ApiProblem(403, "forbidden")
            site = session.get(Site, staff.site_ids[0])
        else:
            site = session.execute(select(Site).where(Site.code == site_code)).scalar_one_or_none()
        if site is None:
            if staff.role == "admin":
                return Principal(0, 0, site_code or "", staff.role, None, user_id=staff.id)
            raise ApiProblem(403, "forbidden")
        if not staff.works_for(site.id):
            raise ApiProblem(403, "forbidden")
        counter: int | None = None
        if staff.role == "clerk":
            held = session.execute(
                select(Counter.number).where(
                    Counter.site_id == site.id, Counter.clerk_id == staff.id
                )
            ).scalar_one_or_none()
            counter = held if held is not None else NO_COUNTER
        return Principal(0, site.id, site.code, staff.role, counter, user_id=staff.id)


def current_principal(site_code: str | None = None, *, any_site: bool = False) -> Principal:
    """The bearer token when one is sent, else the logged-in staff member, else 401.

    ``any_site``: a staff member is not tied to one site (the view checks which it may see).
    """
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise ApiProblem(401, "unauthorized")
        return _bearer_principal(raw.strip())
    staff = current_staff()
    if staff is None:
        raise ApiProblem(401, "unauthorized")
    if any_site and site_code is None:
        return Principal(0, 0, "", staff.role, None, user_id=staff.id)
    return _staff_principal(staff, site_code)


def requires(
    *roles: str, any_counter: bool = False, staff_page: bool = False, any_site: bool = False
) -> Callable[[F], F]:
    """Allow the given roles, on their own site, and a counter-bound clerk on its counter.

    ``any_counter``: the view itself decides which counters it allows (signing in at one).
    ``staff_page``: a logged-in staff member only, never a device's token.
    ``any_site``: the route names no site; a token still stands for its own site only.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            site = kwargs.get("site")
            principal = current_principal(site, any_site=any_site)
            if principal.role not in roles:
                raise ApiProblem(403, "forbidden")
            if site is not None and site != principal.site_code:
                raise ApiProblem(403, "forbidden")
            if staff_page and principal.user_id is None:
                raise ApiProblem(403, "staff_login_required")
            counter = None if any_counter else kwargs.get("n")
            if counter is not None and principal.counter == NO_COUNTER:
                raise ApiProblem(403, "counter_sign_in_required")
            if counter is not None and principal.counter not in (None, counter):
                raise ApiProblem(403, "forbidden")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def forbid_other_counters_ticket(ticket_id: int) -> None:
    """A counter-bound clerk may not act on a ticket another counter is calling or serving."""
    principal: Principal = g.principal
    if principal.counter is None:
        return
    with runtime().db.reads() as session:
        holder = session.execute(
            select(Counter.number)
            .join(Ticket, Ticket.counter_id == Counter.id)
            .where(
                Ticket.id == ticket_id,
                Ticket.site_id == principal.site_id,
                Ticket.status.in_(AT_COUNTER),
            )
        ).scalar_one_or_none()
    if holder is not None and holder != principal.counter:
        raise ApiProblem(403, "forbidden")
