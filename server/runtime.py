"""What a running app holds: the database, the event publisher and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from .db import Database
from .engine.events import Publisher, no_publisher
from .engine.unit_of_work import Clock, UnitOfWork
from .timeutil import utcnow


@dataclass
class Runtime:
    db: Database
    publisher: Publisher = no_publisher
    clock: Clock = field(default=utcnow)
    # Flask-SocketIO: the serving one, or a write-only handle on Redis (a command line);
    # None when no live client can be reached from this process.
    socketio: Any = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db.writes, self.publisher, self.clock)

    def cut_off(self, *rooms: str) -> None:
        """Disconnect the live clients of these credential rooms, on every process."""
        if self.socketio is not None:
            # Here, not at the top: server.realtime reaches the runtime through its handlers.
            from .realtime.cutoff import cut_off

            cut_off(self.socketio, rooms)


def runtime(app: Flask | None = None) -> Runtime:
    target = app or current_app
    rt: Runtime = target.extensions["xephang"]
    return rt
