"""At the hub: a site's received rows put back in the site's own tables, in memory.

The hub keeps the last version of every row a site sent; replaying them into an empty
SQLite database with the site's schema lets ``server.reports`` compute the hub's report
with the very code the site runs on its own log, so the two reports are equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from ..engine.outbox import TABLES
from ..models import Base, HubEvent
from .receive import column_value

# What never left the site, filled in so the replayed rows satisfy the schema.
FILLERS: dict[str, Any] = {
    "users": lambda row: {"password_hash": ""},
    "tickets": lambda row: {"tracking_token": f"hub-{row['id']}"},
}


def latest_rows(session: Session, hub_site_id: int) -> dict[str, dict[tuple[Any, ...], Any]]:
    """Table -> key -> the row's last version (deleted rows left out)."""
    rows: dict[str, dict[tuple[Any, ...], Any]] = {name: {} for name in TABLES}
    keys = {
        name: [c.key for c in model.__table__.primary_key.columns] for name, model in TABLES.items()
    }
    result = session.execute(
        select(HubEvent.kind, HubEvent.table_name, HubEvent.data)
        .where(HubEvent.site_id == hub_site_id)
        .order_by(HubEvent.seq)
        .execution_options(yield_per=5000)
    )
    for kind, table, data in result:
        key = tuple(data[k] for k in keys[table])
        if kind == "delete":
            rows[table].pop(key, None)
        else:
            rows[table][key] = data
    return rows


def _typed(table: str, data: dict[str, Any]) -> dict[str, Any]:
    columns = TABLES[table].__table__.columns
    row = {name: column_value(columns[name], value, name) for name, value in data.items()}
    filler = FILLERS.get(table)
    if filler is not None:
        row.update(filler(row))
    return row


@contextmanager
def replayed(session: Session, hub_site_id: int) -> Iterator[Session]:
    """A session on an in-memory copy of the site's tables as the hub received them."""
    engine: Engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    try:
        Base.metadata.create_all(engine)
        rows = latest_rows(session, hub_site_id)
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table, model in TABLES.items():
                values = [_typed(table, data) for data in rows[table].values()]
                if values:
                    conn.execute(insert(model), values)
        with Session(engine) as copy:
            yield copy
    finally:
        engine.dispose()


def newest_moment(session: Session, hub_site_id: int) -> datetime | None:
    from sqlalchemy import func

    return session.scalar(select(func.max(HubEvent.at)).where(HubEvent.site_id == hub_site_id))
