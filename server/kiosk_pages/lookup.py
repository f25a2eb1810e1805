"""Reading one ticket and its site, as the API shapes them, to print or preview it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app, request
from sqlalchemy.orm import Session

from kiosk.settings import public_url, ticket_footer
from kiosk.ticket import TicketSlip, slip_from_views
from server.engine.errors import not_found
from server.engine.views import ticket_with_wait
from server.models import Site, Ticket
from server.runtime import runtime


def site_view(site: Site) -> dict[str, Any]:
    """The site as the state snapshot shows it."""
    return {
        "code": site.code,
        "name": site.name,
        "timezone": site.timezone,
        "header_lines": list(site.header_lines or []),
    }


def ticket_views(
    session: Session, ticket_id: int, now: datetime, *, site_id: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ticket (tracking token, people ahead and wait as of ``now``) and its site.

    With ``site_id`` a ticket of another site is "not found", as in the API.
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or (site_id is not None and ticket.site_id != site_id):
        raise not_found("ticket_not_found", ticket=ticket_id)
    site = session.get(Site, ticket.site_id)
    assert site is not None  # a foreign key guarantees it
    return ticket_with_wait(session, site, ticket, now, private=True), site_view(site)


def ticket_slip(
    session: Session,
    ticket_id: int,
    now: datetime,
    *,
    base_url: str | None,
    footer: str | Sequence[str] | None = None,
    site_id: int | None = None,
) -> TicketSlip:
    """The slip to print for a stored ticket, its wait counted as of ``now``."""
    ticket, site = ticket_views(session, ticket_id, now, site_id=site_id)
    return slip_from_views(ticket, site, base_url=base_url, footer=footer)


def requested_slip(ticket_id: int, site_id: int) -> TicketSlip:
    """The slip of a ticket of this site, for a web request: the configured public address
    (or the one the request reached) in its QR code, the configured footer."""

    rt = runtime()
    with rt.db.reads() as session:
        return ticket_slip(
            session,
            ticket_id,
            rt.clock(),
            base_url=public_url(current_app.config) or request.url_root,
            footer=ticket_footer(current_app.config),
            site_id=site_id,
        )
