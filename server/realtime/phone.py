"""The citizen's phone on Socket.IO: one ticket's room, and the site's waiting counts.

A phone connects with ``auth={"tracking_token": …}`` and nothing else. It joins two rooms:

- ``ticket:<id>``: ``ticket.updated`` each time that ticket changes (its own view, cut down
  by ``engine.tracking.phone_ticket``, with the site's waiting counts), and once it is
  rated (``{"action": "rated"}``);
- ``phones:<site>``: ``waiting``, once per published batch of the site's events, with the
  waiting counts and the range of ``seq`` the batch covered (``from_seq``..``seq``). No
  ticket is named in it. The site room itself (every event of every ticket) is never
  joined by a phone.

The first message is the ``ticket`` snapshot (``engine.tracking.phone_view``); a phone that
sees a gap in the batches' ``seq`` sends ``sync`` and gets it again, as displays do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from flask import current_app
from flask import session as socket_session
from flask_socketio import ConnectionRefusedError, disconnect, emit, join_room

from ..engine.events import SITE_UPDATED, TICKET_CALLED, TICKET_ISSUED, Event
from ..engine.ratings import RATING_RECORDED
from ..engine.tracking import phone_ticket, phone_view, ticket_by_token
from ..messages import error_text
from ..models import Site
from ..runtime import runtime

SNAPSHOT = "ticket"
TICKET_UPDATED = "ticket.updated"
WAITING = "waiting"
SESSION_KEY = "xephang_tracking"


def ticket_room(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def phones_room(site_code: str) -> str:
    return f"phones:{site_code}"


def wants_phone(auth: Any) -> bool:
    return isinstance(auth, dict) and "tracking_token" in auth


def _snapshot(token: Any) -> tuple[int, str, dict[str, Any]] | None:
    rt = runtime()
    with rt.db.reads() as session:
        ticket = ticket_by_token(session, token)
        if ticket is None:
            return None
        view = phone_view(session, ticket, rt.clock())
        return ticket.id, view["site"]["code"], view


def connect_phone(auth: dict[str, Any]) -> None:
    """Join this ticket's rooms (before reading the snapshot, so no event falls between)."""
    token = auth.get("tracking_token")
    rt = runtime()
    with rt.db.reads() as session:
        ticket = ticket_by_token(session, token)
        site = session.get(Site, ticket.site_id) if ticket is not None else None
        found = (ticket.id, site.code) if ticket is not None and site is not None else None
    if found is None:
        raise ConnectionRefusedError(error_text("ticket_not_found"), {"code": "ticket_not_found"})
    socket_session[SESSION_KEY] = token
    join_room(ticket_room(found[0]))
    join_room(phones_room(found[1]))
    send_snapshot()


def is_phone() -> bool:
    return SESSION_KEY in socket_session


def phone_token() -> str | None:
    """The tracking token this phone connection came in with."""
    token = socket_session.get(SESSION_KEY)
    return token if isinstance(token, str) else None


def phone_snapshot(token: str | None) -> dict[str, Any] | None:
    """The ``ticket`` snapshot of a token; None once the token no longer opens a ticket."""
    snapshot = _snapshot(token)
    return snapshot[2] if snapshot is not None else None


def send_snapshot() -> None:
    """The ``ticket`` snapshot again; a token renewed since the connection is let go."""
    snapshot = _snapshot(socket_session.get(SESSION_KEY))
    if snapshot is None:
        disconnect()
        return
    emit(SNAPSHOT, snapshot[2])


def let_go(ticket_id: int) -> None:
    """Take every phone out of a ticket's room (its tracking token was renewed): they hear
    nothing more of it, and their next ``sync`` is answered with a disconnect."""

    socketio = current_app.extensions.get("socketio")
    if socketio is not None:
        socketio.close_room(ticket_room(ticket_id))


# --- what the publisher sends to phones --------------------------------------------------


def _action(event: Event) -> str:
    if event.name == TICKET_CALLED:
        return "recalled" if event.payload.get("recall") else "called"
    if event.name == TICKET_ISSUED:
        return "issued"
    return str(event.payload.get("action") or "updated")


def phone_messages(events: Sequence[Event]) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(event name, message, room) for the phones, from one batch of published events.

    Each ticket's own changes go to its room alone; the site's phones get one ``waiting``
    per site and batch, which names no ticket.
    """
    by_site: dict[str, list[Event]] = {}
    for event in events:
        by_site.setdefault(event.site_code, []).append(event)
        ticket = event.payload.get("ticket")
        if isinstance(ticket, dict) and isinstance(ticket.get("id"), int):
            message = {
                "site": event.site_code,
                "seq": event.seq,
                "action": _action(event),
                "ticket": phone_ticket(ticket),
                "waiting": event.payload.get("waiting"),
            }
            yield TICKET_UPDATED, message, ticket_room(ticket["id"])
        rating = event.payload.get("rating")
        if event.name == RATING_RECORDED and isinstance(rating, dict):
            message = {"site": event.site_code, "seq": event.seq, "action": "rated"}
            yield TICKET_UPDATED, message, ticket_room(int(rating["ticket_id"]))
    for site_code, site_events in by_site.items():
        waiting = None
        for event in site_events:
            if isinstance(event.payload.get("waiting"), dict):
                waiting = event.payload["waiting"]
        message = {
            "site": site_code,
            "from_seq": site_events[0].seq,
            "seq": site_events[-1].seq,
            "waiting": waiting,
            # Settings or services changed (a name, the "sắp đến lượt" threshold): re-read.
            "resync": any(event.name == SITE_UPDATED for event in site_events),
        }
        yield WAITING, message, phones_room(site_code)
