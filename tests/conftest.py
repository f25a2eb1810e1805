"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from server.db import Database
from server.engine import UnitOfWork
from server.engine.events import Event
from server.models import Base

from .browser_support import chromium, page  # noqa: F401  (fixtures for browser tests)
from .factories import FakeClock, app_on
from .live import fresh_pg_url, serve  # noqa: F401  (fixtures for real-process tests)
from .services import PG_ADMIN_URL, require_postgres

BACKENDS = ["sqlite", "postgresql"]


def _pg_url(dbname: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this test process's own, migrated once to head, dropped at the end."""
    require_postgres()
    name = f"xephang_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    from server.migrate import upgrade

    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database: SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        db = Database(url)
        Base.metadata.create_all(db.engine)
        db.dispose()
        return url
    url = request.getfixturevalue("pg_database")
    _truncate(url)
    return str(url)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class EventRecorder:
    """A publisher that keeps what it was given."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, events: Any) -> None:
        self.events.extend(events)

    def names(self) -> list[str]:
        return [e.name for e in self.events]


@pytest.fixture
def published() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def uow(database: Database, clock: FakeClock, published: EventRecorder) -> Callable[[], UnitOfWork]:
    """Make a fresh unit of work (each engine call takes one)."""
    return lambda: UnitOfWork(database.writes, published, clock)


@pytest.fixture
def app(db_url: str, clock: FakeClock) -> Iterator[Any]:
    """The Flask app on the test database, with the fake clock; exceptions propagate."""
    with app_on(db_url, clock) as app:
        yield app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def make_token(database: Database) -> Callable[..., str]:
    """``make_token(role, site="s1", counter=None)`` -> a raw bearer token."""
    from server.tokens import create_token

    def make(role: str, site: str = "s1", counter: int | None = None) -> str:
        with database.writes() as session:
            return create_token(session, site, role, counter)

    return make
