"""One queue operation = one transaction; events leave only after commit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ..models import Site
from ..timeutil import utcnow
from .events import Event, Publisher, no_publisher

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

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'with'")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self.events = []
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
        self.events.append(Event(name=name, site_id=site.id, site_code=site.code, payload=payload))

    def rollback(self) -> None:
        self.session.rollback()
        self.events = []

    def commit(self) -> None:
        events = self.events
        for work in self._before_commit:
            work(self.session)
        self._number_events(events)
        self.session.commit()
        self.events = []
        if events:
            try:
                self.publisher(events)
            except Exception:  # the change is committed; clients resync on the next seq gap
                log.exception("publishing %d events failed", len(events))

    def _number_events(self, events: list[Event]) -> None:
        by_site: dict[int, list[Event]] = {}
        for ev in events:
            by_site.setdefault(ev.site_id, []).append(ev)
        for site_id, site_events in sorted(by_site.items()):
            last = self.session.execute(
                update(Site)
                .where(Site.id == site_id)
                .values(seq=Site.seq + len(site_events))
                .returning(Site.seq)
            ).scalar_one()
            first = last - len(site_events) + 1
            for offset, ev in enumerate(site_events):
                ev.seq = first + offset
