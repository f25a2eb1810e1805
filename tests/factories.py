"""Building sites, services and counters for tests, straight through the models."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Base, Counter, CounterService, Service, Site, Ticket, TicketEvent, User

HCM_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Ho_Chi_Minh


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = HCM_MORNING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now = self.now + timedelta(**kwargs)
        return self.now


@dataclass
class ServiceSpec:
    code: str
    name: str = ""
    prefix: str | None = "A"
    width: int = 3
    range: tuple[int, int] | None = None
    cap: int | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    active: bool = True
    default_service_s: int = 300


def build_site(
    session: Session,
    code: str = "s1",
    services: list[ServiceSpec] | None = None,
    counters: dict[int, dict[str, int]] | None = None,
    *,
    timezone: str = "Asia/Ho_Chi_Minh",
    policy: str = "strict",
    every: int = 3,
    staffed: bool = False,
) -> Site:
    """A site; by default services A (prefix A) and B (prefix B), counters 1 (A) and 2 (B).

    ``staffed``: a clerk (``clerk-<site>-<n>``) signed in at every counter, so wait
    estimates count it (``engine.estimates``).
    """
    services = services or [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]
    counters = counters if counters is not None else {1: {"A": 1}, 2: {"B": 1}}
    site = Site(
        code=code,
        name=f"Site {code}",
        timezone=timezone,
        header_lines=["UBND"],
        priority_policy=policy,
        priority_every=every,
    )
    session.add(site)
    session.flush()
    by_code: dict[str, Service] = {}
    for order, spec in enumerate(services):
        service = Service(
            site_id=site.id,
            code=spec.code,
            name=spec.name or f"Lĩnh vực {spec.code}",
            number_prefix=None if spec.range else spec.prefix,
            number_width=spec.width,
            range_start=spec.range[0] if spec.range else None,
            range_end=spec.range[1] if spec.range else None,
            daily_cap=spec.cap,
            sessions=spec.sessions,
            active=spec.active,
            sort_order=order,
            default_service_s=spec.default_service_s,
        )
        session.add(service)
        by_code[spec.code] = service
    session.flush()
    for number, weights in counters.items():
        counter = Counter(site_id=site.id, number=number, name=f"Quầy {number}")
        if staffed:
            counter.clerk_id = _clerk(session, f"clerk-{code}-{number}").id
        counter.service_links = [
            CounterService(service_id=by_code[c].id, weight=w) for c, w in weights.items()
        ]
        session.add(counter)
    session.commit()
    return site


def _clerk(session: Session, username: str) -> User:
    user = User(
        username=username,
        full_name=username,
        password_hash="-",
        role="clerk",
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


# --- helpers for the engine tests (reading back what the engine wrote) -----------


def local_time(day: date, hhmm: str, tz: str = "Asia/Ho_Chi_Minh") -> datetime:
    """The aware UTC moment of a wall-clock time in a site's zone."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), ZoneInfo(tz)).astimezone(UTC)


def snapshot(database: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order: equal snapshots mean nothing changed."""
    with database.reads() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in Base.metadata.sorted_tables
        }


def ticket_row(database: Any, ticket_id: int) -> Ticket:
    """The ticket as stored (detached; its columns are loaded)."""
    with database.reads() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def ticket_log(database: Any, ticket_id: int | None = None) -> list[TicketEvent]:
    """The event log, oldest first; only one ticket's rows when ``ticket_id`` is given."""
    query = select(TicketEvent).order_by(TicketEvent.id)
    if ticket_id is not None:
        query = query.where(TicketEvent.ticket_id == ticket_id)
    with database.reads() as session:
        return list(session.execute(query).scalars().all())


def counter_ids(database: Any, site_code: str = "s1") -> dict[int, int]:
    """Counter number -> counter id of a site."""
    with database.reads() as session:
        rows = session.execute(
            select(Counter.number, Counter.id)
            .join(Site, Site.id == Counter.site_id)
            .where(Site.code == site_code)
        ).all()
        return {number: counter_id for number, counter_id in rows}


def site_seq(database: Any, site_code: str = "s1") -> int:
    with database.reads() as session:
        return int(session.execute(select(Site.seq).where(Site.code == site_code)).scalar_one())


def issue(uow: Any, service: str = "A", site: str = "s1", **kwargs: Any) -> dict[str, Any]:
    """One ticket issued through the engine (``uow``: a unit-of-work factory); its dict."""
    from server import engine  # here: factories is imported before the app is made

    return engine.issue_ticket(uow(), site, service, **kwargs).ticket


def issue_in(app: Any, service: str = "A", site: str = "s1", **kwargs: Any) -> dict[str, Any]:
    """One ticket issued through the engine of a running app (``create_app``'s)."""
    from server.runtime import runtime

    return issue(runtime(app).uow, service, site, **kwargs)


def issue_later(
    uow: Any, clock: FakeClock, service: str = "A", site: str = "s1", **kwargs: Any
) -> dict[str, Any]:
    """One ticket issued a minute after the previous one (orders by time are then clear)."""
    clock.advance(minutes=1)
    return issue(uow, service, site, **kwargs)


def refusal(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an engine call that the rules must refuse; return its ``QueueError``."""
    import pytest

    from server.engine import QueueError

    with pytest.raises(QueueError) as info:
        call(*args, **kwargs)
    return info.value


@contextmanager
def app_on(db_url: str, clock: FakeClock, *, sites: tuple[str, ...] = (), **config: Any) -> Any:
    """The Flask app on a test database with the fake clock, after building ``sites``.

    Threading mode and no Redis: the Flask-SocketIO test client cannot work
    through a message queue, whatever the environment says.
    """
    from server.app import create_app
    from server.db import Database
    from server.runtime import runtime

    if sites:
        db = Database(db_url)
        with db.writes() as session:
            for code in sites:
                build_site(session, code)
        db.dispose()
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": clock,
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            # The tests ask for snapshots back to back;
            # tests/integration/test_socket_flow.py sets it.
            "SYNC_INTERVAL_S": 0.0,
            # A tap waits for its ticket on the server's printer until it is over: the tests
            # read what the kiosk was told; tests of the wait itself set a short one.
            "PRINT_WAIT_S": 60.0,
            **config,
        }
    )
    try:
        yield app
    finally:
        runtime(app).db.dispose()
