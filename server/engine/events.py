"""Events the engine produces; they are published only after their transaction commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

TICKET_ISSUED = "ticket.issued"
TICKET_CALLED = "ticket.called"
TICKET_UPDATED = "ticket.updated"
COUNTER_UPDATED = "counter.updated"
# Settings, services or counters changed: clients read the snapshot again.
SITE_UPDATED = "site.updated"
# What a page following a site hears (server/realtime/live.py gives the names to its script).
SITE_EVENTS = (TICKET_ISSUED, TICKET_CALLED, TICKET_UPDATED, COUNTER_UPDATED, SITE_UPDATED)


@dataclass
class Event:
    name: str
    site_id: int
    site_code: str
    payload: dict[str, Any]
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def message(self) -> dict[str, Any]:
        """The payload as clients receive it: always with the site's ``seq``."""
        return {**self.payload, "site": self.site_code, "seq": self.seq}


Publisher = Callable[[Sequence[Event]], None]


def no_publisher(_events: Sequence[Event]) -> None:
    return None
