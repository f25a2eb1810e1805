"""The outbox: every committed change of a site, as rows the province hub can replay.

A unit of work collects what its flushes wrote (``after_flush``) and, just before its
COMMIT, writes one outbox entry per changed row, numbered per site from the site row
(``sites.outbox_seq``) in the same transaction: numbers follow commit order without
a gap, and nothing is in the outbox that did not commit.

An entry is the whole row as it is at commit (``kind="row"``) or the key of a deleted
row (``kind="delete"``): the hub keeps the last version of each row and replays them
into the same tables, so the same report code gives the same figures there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, insert, inspect, update
from sqlalchemy.orm import Session

from ..models import (
    Counter,
    CounterService,
    OutboxEntry,
    Rating,
    Service,
    Site,
    Ticket,
    TicketEvent,
    User,
)

# In the order a replay inserts them (rows refer to those above them).
TABLES: dict[str, type[Any]] = {
    "sites": Site,
    "users": User,
    "services": Service,
    "counters": Counter,
    "counter_services": CounterService,
    "tickets": Ticket,
    "ticket_events": TicketEvent,
    "ratings": Rating,
}
ORDER = {name: index for index, name in enumerate(TABLES)}
MODELS = tuple(TABLES.values())
# Never leave the site: secrets, and counters that change with every commit.
LEFT_OUT = {
    "sites": ("seq", "outbox_seq", "sends_to_hub"),
    "users": ("password_hash", "failed_logins", "locked_until", "last_login_at", "from_hub"),
    "tickets": ("tracking_token", "idempotency_key"),
}
# Columns whose change alone is not sent (they are sent with the row's next real change).
QUIET_COLUMNS = {
    "counters": {"current_ticket_id", "normal_since_priority", "current_ticket"},
    "sites": {"seq", "outbox_seq", "sends_to_hub"},
}
CAPTURE = "xephang_outbox"


def start_capture(session: Session) -> None:
    """Collect the rows the session's flushes write until ``take``."""
    session.info[CAPTURE] = {"rows": {}, "deleted": []}


def capturing(session: Session) -> bool:
    return session.info.get(CAPTURE) is not None


def capture(session: Session, objects: Iterable[Any]) -> None:
    """Add rows written outside a flush (a bulk INSERT ... RETURNING) to what ``take`` sends."""
    captured = session.info.get(CAPTURE)
    if captured is None:
        return
    for obj in objects:
        captured["rows"][id(obj)] = obj


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    captured = session.info.get(CAPTURE)
    if captured is None:
        return
    # By the object itself: a new row has no identity key yet while its flush runs.
    rows: dict[int, Any] = captured["rows"]
    for obj in session.new:
        if isinstance(obj, MODELS):
            rows[id(obj)] = obj
    for obj in session.dirty:
        if isinstance(obj, MODELS) and _worth_sending(obj):
            rows[id(obj)] = obj
    for obj in session.deleted:
        if isinstance(obj, MODELS):
            captured["deleted"].append((obj.__tablename__, _key(obj), _site_of(session, obj)))


def _worth_sending(obj: Any) -> bool:
    """A changed row, unless only what the hub does not keep changed (a counter's current
    ticket moves with every call: the tickets' own rows say it)."""
    quiet = QUIET_COLUMNS.get(obj.__tablename__)
    if quiet is None:
        return True
    state = inspect(obj)
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    return bool(changed - quiet)


def _key(obj: Any) -> dict[str, Any]:
    return {col.key: getattr(obj, col.key) for col in obj.__table__.primary_key.columns}


def _site_of(session: Session, obj: Any) -> int | None:
    if isinstance(obj, Site):
        return obj.id
    if isinstance(obj, CounterService):
        counter = session.get(Counter, obj.counter_id)
        return counter.site_id if counter is not None else None
    return getattr(obj, "site_id", None)


def plain(value: Any) -> Any:
    """A column value as JSON keeps it (moments as aware ISO text, days as ISO dates)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def row_data(obj: Any) -> dict[str, Any]:
    """The row's columns as the hub receives them, without what never leaves the site."""
    left_out = LEFT_OUT.get(obj.__tablename__, ())
    return {
        col.key: plain(getattr(obj, col.key))
        for col in obj.__table__.columns
        if col.key not in left_out
    }


def take(session: Session, now: datetime, sending: dict[int, bool] | None = None) -> int:
    """Write the outbox entries of what this transaction changed; how many were written.

    Call after the last flush and before COMMIT. Only a site that joined a hub
    (``sites.sends_to_hub``) gets entries: ``sending`` says it of the sites already known
    (read by the statement that numbered their events), and the others are asked by the
    statement that numbers their entries, so a site that never joined costs no statement.
    Tickets named by a new event are written too, so the hub always holds each ticket's
    latest figures (a claim moves a ticket by a bulk UPDATE the flush does not see).
    """
    session.flush()
    captured = session.info.get(CAPTURE)
    if captured is None:
        return 0
    session.info[CAPTURE] = {"rows": {}, "deleted": []}
    sending = sending or {}
    objects: dict[int, Any] = {
        key: obj
        for key, obj in captured["rows"].items()
        if sending.get(_site_of(session, obj) or 0, True)
    }
    captured["deleted"] = [d for d in captured["deleted"] if sending.get(d[2] or 0, True)]
    if not objects and not captured["deleted"]:
        return 0
    for obj in list(objects.values()):
        if isinstance(obj, TicketEvent) and obj.ticket_id is not None:
            # read again: a claim or a finish may have moved it by a bulk UPDATE
            ticket = session.get(Ticket, obj.ticket_id, populate_existing=True)
            if ticket is not None:
                objects.setdefault(id(ticket), ticket)
    # A clerk signing in: the hub then knows the name the figures give them (a join sends
    # every staff name of the site; a row per call would repeat the same name all day).
    for obj in list(objects.values()):
        clerk_id = None
        if isinstance(obj, TicketEvent) and obj.kind == "clerk_signed_in":
            clerk_id = (obj.data or {}).get("clerk_after")
        if isinstance(clerk_id, int):
            user = session.get(User, clerk_id)
            if user is not None:
                objects.setdefault(id(user), user)
    entries: list[tuple[int, str, str, dict[str, Any]]] = []
    users: list[Any] = []
    for obj in objects.values():
        if inspect(obj).deleted or inspect(obj).detached:
            continue
        if isinstance(obj, User):
            users.append(obj)
            continue
        site_id = _site_of(session, obj)
        if site_id is not None:
            entries.append((site_id, "row", obj.__tablename__, row_data(obj)))
    for table, key, site_id in captured["deleted"]:
        if site_id is not None:
            entries.append((site_id, "delete", table, {k: plain(v) for k, v in key.items()}))
    sites = sorted({entry[0] for entry in entries})
    # A staff account belongs to no one site: it goes with the sites this change touched.
    entries += [(site_id, "row", "users", row_data(user)) for user in users for site_id in sites]
    if not entries:
        return 0
    entries.sort(key=lambda entry: (entry[0], ORDER[entry[2]], entry[1] == "delete"))
    return _write(session, entries, now)


def _write(
    session: Session, entries: Iterable[tuple[int, str, str, dict[str, Any]]], now: datetime
) -> int:
    """Number and insert the entries of the sites that send to a hub; how many."""
    by_site: dict[int, list[tuple[int, str, str, dict[str, Any]]]] = {}
    for entry in entries:
        by_site.setdefault(entry[0], []).append(entry)
    values = []
    for site_id, site_entries in sorted(by_site.items()):
        last = session.execute(
            update(Site)
            .where(Site.id == site_id, Site.sends_to_hub)
            .values(outbox_seq=Site.outbox_seq + len(site_entries))
            .returning(Site.outbox_seq)
            .execution_options(synchronize_session=False)
        ).scalar()
        if last is None:  # the site never joined a hub
            continue
        first = last - len(site_entries) + 1
        for offset, (_, kind, table, data) in enumerate(site_entries):
            values.append(
                {
                    "site_id": site_id,
                    "seq": first + offset,
                    "kind": kind,
                    "table_name": table,
                    "at": now,
                    "data": data,
                }
            )
    if values:
        session.execute(insert(OutboxEntry), values)
    return len(values)


def snapshot_site(session: Session, site_id: int, now: datetime) -> int:
    """Write the site's whole configuration (and its staff's names) to the outbox.

    What was set up outside a unit of work (``xephang init --demo``, a script) reaches
    the hub this way: a new `xephang hub join` calls it.
    """
    from sqlalchemy import or_, select

    from ..models import UserSite

    site = session.get(Site, site_id)
    if site is None:
        return 0
    rows: list[Any] = [site]
    rows += session.scalars(select(Service).where(Service.site_id == site_id)).all()
    counters = session.scalars(select(Counter).where(Counter.site_id == site_id)).all()
    rows += counters
    rows += session.scalars(
        select(CounterService).where(CounterService.counter_id.in_([c.id for c in counters]))
    ).all()
    rows += session.scalars(
        select(User).where(
            or_(
                User.id.in_(select(UserSite.user_id).where(UserSite.site_id == site_id)),
                User.id.in_(select(Ticket.clerk_id).where(Ticket.site_id == site_id)),
            )
        )
    ).all()
    entries = [(site_id, "row", obj.__tablename__, row_data(obj)) for obj in rows]
    entries.sort(key=lambda entry: ORDER[entry[2]])
    return _write(session, entries, now)


# The tables of a site's history, sent whole when it first joins a hub.
HISTORY = ("tickets", "ticket_events", "ratings")
HISTORY_CHUNK = 5000


def start_sending(session: Session, site_id: int, hub_last_seq: int, now: datetime) -> int:
    """Turn the site's outbox on (a join) and write what the hub must hold; how many entries.

    A site that never joined wrote no entry: it sends its configuration and its whole
    history (every ticket, ticket event and rating as they are now), in one pass and in
    the join's transaction, numbered from the hub's last seq; entries left from before
    are dropped, the history says all they said. A site that sends already (a join
    again) sends its configuration only: its outbox holds the rest.

    The site row is updated first: on PostgreSQL a write of the site waits for the join
    and then sees ``sends_to_hub`` (its own change goes to the outbox), and a write that
    committed before is in what this reads.
    """
    from sqlalchemy import delete, select

    turned_on = session.execute(
        update(Site)
        .where(Site.id == site_id, Site.sends_to_hub.is_not(True))
        .values(sends_to_hub=True, outbox_seq=hub_last_seq)
        .returning(Site.id)
        .execution_options(synchronize_session="fetch")
    ).scalar()
    if turned_on is None:
        return snapshot_site(session, site_id, now)
    session.execute(delete(OutboxEntry).where(OutboxEntry.site_id == site_id))
    written = snapshot_site(session, site_id, now)
    for name in HISTORY:
        table = TABLES[name].__table__
        left_out = LEFT_OUT.get(name, ())
        columns = [c for c in table.columns if c.key not in left_out]
        result = session.execute(
            select(*columns)
            .where(table.c.site_id == site_id)
            .order_by(table.c.id)
            .execution_options(yield_per=HISTORY_CHUNK)
        )
        for chunk in result.partitions():
            entries = [
                (site_id, "row", name, {k: plain(v) for k, v in row._mapping.items()})
                for row in chunk
            ]
            written += _write(session, entries, now)
    return written
