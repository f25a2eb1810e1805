"""The citizen's phone: one ticket, found by its tracking token alone.

The token printed in the ticket's QR code is the only key: it shows that ticket and the
site's waiting counts, nothing of other tickets. The same view is the page, the ``ticket``
snapshot of its Socket.IO room and the polling answer.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Counter, Rating, Site, Ticket, TicketEvent
from ..timeutil import business_day
from . import estimates
from .errors import conflict, not_found
from .ratings import (
    RATING_WINDOW,
    check_score,
    record_rating,
    refuse_if_rated,
    site_scale,
    within_window,
)
from .rules import REMOTE
from .tickets import _log, _ticket
from .unit_of_work import UnitOfWork
from .views import iso, site_by_code, ticket_with_wait, waiting_by_code, waiting_counts

# secrets.token_urlsafe(16) gives 22 characters; anything else is not a token of ours.
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# What the phone shows of its ticket (the clerk's dossier code and internal ids stay out).
PHONE_FIELDS = (
    "number",
    "service",
    "service_name",
    "status",
    "priority",
    "channel",
    "business_day",
    "issued_at",
    "called_at",
    "started_at",
    "finished_at",
    "counter",
    "target_counter",
    "recall_count",
    "position",
    "people_ahead",
    "estimated_wait_s",
)


# Log entries that are no change of the ticket's own state.
NOT_ACTIONS = ("rated", "tracking_renewed")


def phone_ticket(view: Mapping[str, Any]) -> dict[str, Any]:
    """A ticket view (as events carry it) cut down to what the phone shows."""
    return {key: view.get(key) for key in PHONE_FIELDS}


def valid_token(token: Any) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


def ticket_by_token(session: Session, token: Any) -> Ticket | None:
    """The ticket a tracking token names; None for anything else (no error tells why)."""
    if not valid_token(token):
        return None
    return session.execute(
        select(Ticket).where(Ticket.tracking_token == token)
    ).scalar_one_or_none()


def _last_action(session: Session, ticket: Ticket) -> str | None:
    kind = session.execute(
        select(TicketEvent.kind)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.notin_(NOT_ACTIONS))
        .order_by(TicketEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return str(kind) if kind is not None else None


def _rated(session: Session, ticket: Ticket) -> bool:
    found = session.execute(select(Rating.id).where(Rating.ticket_id == ticket.id)).first()
    return found is not None


def phone_view(session: Session, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """Everything the phone page shows, as of ``now``; ``seq`` is read first (as the site's
    snapshot does), so an event after it is never taken as already seen."""
    site = session.get(Site, ticket.site_id)
    assert site is not None  # a foreign key guarantees it
    seq = site.seq
    today = business_day(now, site.timezone)
    view = phone_ticket(ticket_with_wait(session, site, ticket, now))
    arrival = None
    if ticket.status == REMOTE:
        # Not in line yet: how long the line is now, and the wait if the citizen came now.
        ahead = waiting_counts(session, site.id, today).get(ticket.service_id, 0)
        arrival = {
            "code": ticket.check_in_code,
            "waiting": ahead,
            "estimated_wait_s": estimates.estimated_wait_seconds(
                session, ticket.service, ahead, now
            ),
        }
    rated = _rated(session, ticket)
    return {
        "seq": seq,
        "site": {"code": site.code, "name": site.name, "timezone": site.timezone},
        "ticket": view,
        "action": _last_action(session, ticket),
        "today": ticket.business_day == today,
        "now": iso(now),
        "waiting": waiting_by_code(session, site, today),
        "soon_threshold": site.soon_threshold,
        "check_in": arrival,
        "rating": {
            "enabled": site.phone_rating,
            "allowed": _may_rate(site, ticket, now, rated),
            "rated": rated,
            "scale": site_scale(site),
            "window_s": int(RATING_WINDOW.total_seconds()),
        },
    }


def _may_rate(site: Site, ticket: Ticket, now: datetime, rated: bool) -> bool:
    return site.phone_rating and not rated and within_window(ticket, ticket.counter_id, now)


def rate_by_phone(
    uow: UnitOfWork,
    tracking_token: str,
    score: int,
    *,
    reasons: Iterable[str] = (),
    actor: str = "phone",
) -> dict[str, Any]:
    """The citizen rates their finished ticket from the phone, when the site allows it.

    The tablet's rules hold: one rating per ticket (a tablet's rating first means none
    from the phone), the site's scale, reasons only with a low score, within
    ``RATING_WINDOW`` of the finish; it is tied to the counter and the clerk who served it,
    as a tablet's rating is.
    """
    with uow:
        found = ticket_by_token(uow.session, tracking_token)
        if found is None:
            raise not_found("ticket_not_found")
        site = uow.session.get_one(Site, found.site_id)
        ticket = _ticket(uow, site, found.id)
        scale = site_scale(site)
        chosen = check_score(score, reasons, scale)
        refuse_if_rated(uow, ticket)
        if not site.phone_rating:
            raise conflict("phone_rating_off")
        if not within_window(ticket, ticket.counter_id, uow.clock()):
            raise conflict("rating_not_allowed", ticket=ticket.id, counter=None)
        counter = uow.session.get_one(Counter, ticket.counter_id)
        return record_rating(uow, site, ticket, counter, score, chosen, scale, None, actor)


def renew_tracking_token(
    uow: UnitOfWork, site_code: str, ticket_id: int, *, actor: str = ""
) -> dict[str, Any]:
    """Give a ticket a new tracking token: the old QR code (a lost ticket, a photo of it)
    shows nothing any more, and phones following it are let go."""
    with uow:
        site = site_by_code(uow.session, site_code)
        ticket = _ticket(uow, site, ticket_id)
        ticket.tracking_token = secrets.token_urlsafe(16)
        _log(uow, ticket, "tracking_renewed", ticket.status, actor)
        result = {"id": ticket.id, "number": ticket.number, "tracking_token": ticket.tracking_token}
        uow.commit()
        return result
