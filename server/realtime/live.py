"""What a live page's script is told, in its boot data (``live``), about what it will hear.

Every page connects through server/static/live/connect.js; the names of the Socket.IO
messages, of the snapshot and of the statuses reach it from here, so they are written once, in
the engine (``server.engine.events``, ``server.engine.rules``) and in ``server.realtime.phone``.
(A *message* is what Socket.IO sends; an *event* is a row of ``ticket_events``, the log.)
"""

from __future__ import annotations

from typing import Any

from ..engine.events import SITE_EVENTS, SITE_UPDATED
from ..engine.rules import AT_COUNTER, COUNTER_STATUSES, STATUSES
from .phone import SNAPSHOT as PHONE_SNAPSHOT
from .phone import TICKET_UPDATED as PHONE_TICKET
from .phone import WAITING as PHONE_WAITING

SITE_SNAPSHOT = "state"


def _names(values: tuple[str, ...]) -> dict[str, str]:
    """``{"NO_SHOW": "no_show", "TICKET_CALLED": "ticket.called", ...}``: a script writes
    ``live.statuses.NO_SHOW`` or ``live.names.TICKET_CALLED``, never the word itself."""
    return {value.upper().replace(".", "_"): value for value in values}


def live_boot(*, phone: bool = False) -> dict[str, Any]:
    """The ``live`` part of a page's boot data: a site's room, or a phone's own ticket."""
    if phone:
        channel = {
            "snapshot": PHONE_SNAPSHOT,
            "messages": [PHONE_TICKET, PHONE_WAITING],
            "partial": [PHONE_TICKET],  # the phone's own ticket: a subset of the site's seq
        }
    else:
        channel = {"snapshot": SITE_SNAPSHOT, "messages": list(SITE_EVENTS), "partial": []}
    return {
        **channel,
        "resync_on": SITE_UPDATED,  # the snapshot is read again after this message
        "names": _names(tuple(channel["messages"])),
        "statuses": _names(STATUSES),
        "at_counter": list(AT_COUNTER),  # the statuses of a ticket a counter is serving
        "counter_statuses": _names(COUNTER_STATUSES),
    }
