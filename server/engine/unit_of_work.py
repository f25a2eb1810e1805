"""One queue operation = one transaction; events leave only after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from ..models import Site, TicketEvent
from ..timeutil import utcnow
from . import estimates, outbox
from .events import TICKET_CALLED, Event, Publisher, no_publisher

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class UnitOfWork:
    """A write transaction with the events it will publish once committed.

    ``seq`` numbers are taken from the site row inside the same transaction, so
    they follow commit order per site and every event gets its own number.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publisher: Publisher = no_publisher,
        clock: Clock = utcnow,
    ) -> None:
        self._factory = sessions
        self.publisher = publisher
        self.clock = clock
        self.events: list[Event] = []
        self._session: Session | None = None
        self._before_commit: list[Callable[[Session], None]] = []
        # Ticket event rows to write with the commit, all in one statement.
        self._log_rows: list[dict[str, Any]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'with'")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        outbox.start_capture(self._session)
        self.events = []
        self._log_rows = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self._session = None

    def before_commit(self, work: Callable[[Session], None]) -> None:
        """Add work (an audit entry, say) to every transaction this unit of work commits,
        so a caller can attach its record to an engine operation: saved together or not at all.
        """
        self._before_commit.append(work)

    def emit(self, site: Site, name: str, payload: dict[str, Any]) -> None:
        event = Event(name=name, site_id=site.id, site_code=site.code, payload=payload)
        if name == TICKET_CALLED:
            # What the voice of a call needs, from the site row already read (the announcer
            # would read it again after the commit otherwise).
            event.extra["voice"] = (site.announcement_template, site.voice_options)
        self.events.append(event)

    def log(self, row: dict[str, Any]) -> None:
        """Keep a ``ticket_events`` row (the log of a change) to insert at commit."""
        self._log_rows.append(row)

    def rollback(self) -> None:
        self.session.rollback()
        outbox.start_capture(self.session)
        self.events = []
        self._log_rows = []

    def commit(self) -> None:
        events = self.events
        for work in self._before_commit:
            work(self.session)
        # The events' numbers first: the same statement says which sites send to a hub.
        sending = self._number_events(events)
        if self._log_rows:
            rows, self._log_rows = self._log_rows, []
            if outbox.capturing(self.session) and any(
                sending.get(row["site_id"], True) for row in rows
            ):
                # the rows as objects, for the hub's copy below (one statement all the same)
                written = self.session.scalars(insert(TicketEvent).returning(TicketEvent), rows)
                outbox.capture(self.session, written.all())
            else:
                self.session.execute(insert(TicketEvent), rows)
        # The hub's copy of this change, in this transaction (server.engine.outbox); a
        # site that never joined a hub writes none.
        outbox.take(self.session, self.clock(), sending)
        self.session.commit()
        self.events = []
        if events:
            estimates.forget(self.session.get_bind().pool, events)  # type: ignore[union-attr]
            try:
                self.publisher(events)
            except Exception:  # the change is committed; clients resync on the next seq gap
                log.exception("publishing %d events failed", len(events))

    def _number_events(self, events: list[Event]) -> dict[int, bool]:
        """Number the events per site; for each site numbered, whether it sends to a hub
        (read from the row this locks, so a join committed meanwhile counts)."""
        by_site: dict[int, list[Event]] = {}
        for ev in events:
            by_site.setdefault(ev.site_id, []).append(ev)
        sending: dict[int, bool] = {}
        for site_id, site_events in sorted(by_site.items()):
            last, sending[site_id] = self.session.execute(
                update(Site)
                .where(Site.id == site_id)
                .values(seq=Site.seq + len(site_events))
                .returning(Site.seq, Site.sends_to_hub)
            ).one()
            first = last - len(site_events) + 1
            for offset, ev in enumerate(site_events):
                ev.seq = first + offset
        return sending
