"""What a running app holds: the database, the event publisher and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db.writes, self.publisher, self.clock)


def runtime(app: Flask | None = None) -> Runtime:
    target = app or current_app
    rt: Runtime = target.extensions["xephang"]
    return rt
