"""Bearer-token checks for API views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import select

from ..engine.rules import AT_COUNTER
from ..models import Counter, Ticket
from ..runtime import runtime
from ..tokens import Principal, resolve_token
from .problems import ApiProblem

F = TypeVar("F", bound=Callable[..., Any])

READERS = ("admin", "manager", "clerk", "kiosk", "display", "tablet")
RATERS = ("tablet",)
ISSUERS = ("admin", "manager", "clerk", "kiosk")
CALLERS = ("admin", "manager", "clerk")


def current_principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise ApiProblem(401, "unauthorized")
    with runtime().db.reads() as session:
        principal = resolve_token(session, raw.strip())
    if principal is None:
        raise ApiProblem(401, "unauthorized")
    return principal


def requires(*roles: str) -> Callable[[F], F]:
    """Allow the given roles, on their own site, and a counter-bound clerk on its counter."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal.role not in roles:
                raise ApiProblem(403, "forbidden")
            site = kwargs.get("site")
            if site is not None and site != principal.site_code:
                raise ApiProblem(403, "forbidden")
            counter = kwargs.get("n")
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
