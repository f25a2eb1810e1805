"""Database engines and sessions.

SQLite is the embedded default.  It gets WAL, a busy timeout and explicit
transaction control so that every write transaction starts with
``BEGIN IMMEDIATE``: the write lock is taken up front, which is what makes
"read then write" in one transaction safe across processes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
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
    try:
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


class Database:
    """The engine plus two session factories: reads, and writes (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **kwargs)
        self.reads = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.writes = sessionmaker(
            bind=self.engine.execution_options(xephang_write=True), expire_on_commit=False
        )

    def dispose(self) -> None:
        self.engine.dispose()
