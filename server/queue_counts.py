"""Triggers that keep ``queue_counts`` equal to the waiting tickets, in the same transaction.

A ticket counts in the row of its (site, business day, service, target counter or 0,
priority 1/0) while its status is ``waiting``: an insert adds it, a delete takes it
away, an update that touches one of those columns moves it (take from the old row,
add to the new). Every write of a ticket, by the engine or by hand, keeps the
counts; no code path has to remember to.

The same statements are made by migration 0011 and, for a schema made from the
models (``Base.metadata.create_all``, as the tests do), by the ``after_create``
listener below.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, event

from .models import QueueCount, Ticket

KEY = "site_id, business_day, service_id, target_counter_id, priority"
WATCHED = "status, service_id, target_counter_id, priority_reason, business_day, site_id"


def _key_where(row: str) -> str:
    return (
        f"site_id = {row}.site_id AND business_day = {row}.business_day"
        f" AND service_id = {row}.service_id"
        f" AND target_counter_id = coalesce({row}.target_counter_id, 0)"
        f" AND priority = (CASE WHEN {row}.priority_reason IS NULL THEN 0 ELSE 1 END)"
    )


def _key_values(row: str) -> str:
    return (
        f"{row}.site_id, {row}.business_day, {row}.service_id,"
        f" coalesce({row}.target_counter_id, 0),"
        f" CASE WHEN {row}.priority_reason IS NULL THEN 0 ELSE 1 END"
    )


SQLITE = [
    f"""CREATE TRIGGER tickets_queue_insert AFTER INSERT ON tickets
WHEN NEW.status = 'waiting'
BEGIN
  INSERT INTO queue_counts ({KEY}, waiting) SELECT {_key_values("NEW")}, 1 WHERE 1
  ON CONFLICT ({KEY}) DO UPDATE SET waiting = waiting + 1;
END""",
    f"""CREATE TRIGGER tickets_queue_delete AFTER DELETE ON tickets
WHEN OLD.status = 'waiting'
BEGIN
  UPDATE queue_counts SET waiting = waiting - 1 WHERE {_key_where("OLD")};
END""",
    f"""CREATE TRIGGER tickets_queue_update AFTER UPDATE OF {WATCHED} ON tickets
WHEN OLD.status = 'waiting' OR NEW.status = 'waiting'
BEGIN
  UPDATE queue_counts SET waiting = waiting - 1
  WHERE OLD.status = 'waiting' AND {_key_where("OLD")};
  INSERT INTO queue_counts ({KEY}, waiting) SELECT {_key_values("NEW")}, 1
  WHERE NEW.status = 'waiting'
  ON CONFLICT ({KEY}) DO UPDATE SET waiting = waiting + 1;
END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS tickets_queue_insert",
    "DROP TRIGGER IF EXISTS tickets_queue_delete",
    "DROP TRIGGER IF EXISTS tickets_queue_update",
]

POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION xephang_queue_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.site_id = NEW.site_id
     AND OLD.business_day = NEW.business_day AND OLD.service_id = NEW.service_id
     AND OLD.target_counter_id IS NOT DISTINCT FROM NEW.target_counter_id
     AND (OLD.priority_reason IS NULL) = (NEW.priority_reason IS NULL) THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'waiting' THEN
    UPDATE queue_counts SET waiting = waiting - 1 WHERE {_key_where("OLD")};
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'waiting' THEN
    INSERT INTO queue_counts ({KEY}, waiting) VALUES ({_key_values("NEW")}, 1)
    ON CONFLICT ({KEY}) DO UPDATE SET waiting = queue_counts.waiting + 1;
  END IF;
  RETURN NULL;
END $$""",
    f"""CREATE TRIGGER tickets_queue_count
AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON tickets
FOR EACH ROW EXECUTE FUNCTION xephang_queue_count()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS tickets_queue_count ON tickets",
    "DROP FUNCTION IF EXISTS xephang_queue_count()",
]

# Counts of the tickets waiting when the triggers are made (a migrated database).
BACKFILL = f"""INSERT INTO queue_counts ({KEY}, waiting)
SELECT site_id, business_day, service_id, coalesce(target_counter_id, 0),
       CASE WHEN priority_reason IS NULL THEN 0 ELSE 1 END, count(*)
FROM tickets WHERE status = 'waiting'
GROUP BY site_id, business_day, service_id, coalesce(target_counter_id, 0),
         CASE WHEN priority_reason IS NULL THEN 0 ELSE 1 END"""


def create_statements(dialect: str) -> list[str]:
    return POSTGRESQL if dialect == "postgresql" else SQLITE


def drop_statements(dialect: str) -> list[str]:
    return POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP


def _install(table: Any, connection: Any, **_kw: Any) -> None:
    for statement in create_statements(connection.dialect.name):
        connection.execute(DDL(statement.replace("%", "%%")))  # type: ignore[no-untyped-call]


# On the tickets table; the bodies name queue_counts only when they run (both databases
# resolve them then), so either table may be made first.
event.listen(Ticket.__table__, "after_create", _install)
_ = QueueCount
