"""Database engines and sessions.

SQLite is the embedded default.  It gets WAL, a busy timeout and explicit
transaction control so that every write transaction starts with
``BEGIN IMMEDIATE``: the write lock is taken up front, which is what makes
"read then write" in one transaction safe across processes.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs for the queue rules."""
    if is_sqlite(url):
        kwargs.setdefault("connect_args", {})
        kwargs["connect_args"].setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        # The driver's own transaction handling is switched off below, so the
        # connection may be shared by greenlets or threads of one process.
        kwargs["connect_args"].setdefault("check_same_thread", False)
        if _gevent_patched():
            # SQLite waits for its lock inside C, where greenlets cannot switch:
            # one connection per process makes greenlets queue in the pool instead.
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


def _gevent_patched() -> bool:
    try:  # Here: gevent is looked at only to know whether it patched the standard library.
        from gevent import monkey
    except ImportError:  # pragma: no cover
        return False
    return bool(monkey.is_module_patched("socket"))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite; we emit BEGIN ourselves.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("xephang_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


# COMMITs sent in this thread or greenlet (a request): a dropped connection before
# the first one lost nothing, so the request can safely run again (see server.app).
_commits: ContextVar[int] = ContextVar("xephang_commits", default=0)
# SQLSTATEs of a connection the server ended: connection exceptions (class 08),
# admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now.
_GONE_SQLSTATES = ("57P01", "57P02", "57P03")


def commits_sent() -> int:
    """How many COMMITs this thread or greenlet has sent so far."""
    return _commits.get()


def _count_commit(_conn: Any) -> None:
    _commits.set(_commits.get() + 1)


# A view marked so may run again after its COMMIT's answer was lost: the request's
# Idempotency-Key makes a second run answer what the first one committed.
RETRY_WITH_KEY = "xephang_retry_with_key"

V = TypeVar("V")


def retried_with_key(view: V) -> V:
    """Mark a view whose Idempotency-Key makes it safe to run twice (see server.app)."""
    setattr(view, RETRY_WITH_KEY, True)
    return view


def is_disconnect(err: BaseException) -> bool:
    """Whether a database error means the connection was lost (not a refusal of the query)."""
    if not isinstance(err, DBAPIError):
        return False
    if err.connection_invalidated:
        return True
    sqlstate = getattr(err.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith("08") or sqlstate in _GONE_SQLSTATES
    # A server that cannot be reached at all: psycopg gives no SQLSTATE (SQLite always has a code).
    return isinstance(err, OperationalError) and getattr(err.orig, "sqlite_errorcode", None) is None


class Database:
    """The engine plus two session factories: reads, and writes (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **kwargs)
        # Before the driver's COMMIT: from then on the transaction may have happened.
        event.listen(self.engine, "commit", _count_commit)
        self.reads = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.writes = sessionmaker(
            bind=self.engine.execution_options(xephang_write=True), expire_on_commit=False
        )

    def dispose(self) -> None:
        self.engine.dispose()
