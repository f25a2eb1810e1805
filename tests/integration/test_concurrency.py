"""The queue rules under contention, on SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL.

Numbers stay gap-free and unique, and no two counters ever get the same ticket,
whether the contenders are threads of one process or separate processes, each
with its own engine and connection pool (as several server workers would be).
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import threading
import traceback
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from server.db import Database
from server.engine import QueueError, UnitOfWork, call_next, cancel, issue_ticket, transfer
from server.engine.events import Event, Publisher, no_publisher
from server.models import Counter, DailySequence, Service, Site, Ticket, TicketEvent

from ..factories import FakeClock, ServiceSpec, build_site
from ..threads import in_threads

SITE = "s1"
SERVICES = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B", width=4)]
SERVICE_CODES = [spec.code for spec in SERVICES]
# A generous bound for any one wait: a hang fails the test instead of the run.
WAIT_S = 60


# --- helpers -----------------------------------------------------------------


class Recorder:
    """A publisher shared by threads: keeps every event it is given."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def __call__(self, events: Any) -> None:
        with self._lock:
            self.events.extend(events)


def _setup(database: Database, counters: dict[int, dict[str, int]] | None = None) -> None:
    with database.writes() as session:
        build_site(
            session, SITE, services=list(SERVICES), counters=counters
        )  # None: counters 1 (A) and 2 (B)


def _in_processes(target: Callable[..., None], args: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``target(*a, barrier, results)`` in one spawned process per ``a``.

    Each process reports ``(index, "ok", value)`` or ``(index, "error", traceback)``.
    """
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(i, *a, barrier, results), daemon=True)
        for i, a in enumerate(args)
    ]
    for p in procs:
        p.start()
    values: dict[int, Any] = {}
    errors: list[str] = []
    try:
        for _ in procs:
            index, status, value = results.get(timeout=WAIT_S)
            if status == "ok":
                values[index] = value
            else:
                errors.append(f"process {index}:\n{value}")
    except queue.Empty:
        errors.append("a process did not report in time")
    finally:
        for p in procs:
            p.join(timeout=WAIT_S)
            if p.is_alive():
                p.kill()
                p.join()
    assert not errors, "\n".join(errors)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    return [values[i] for i in range(len(args))]


def _issue_many(
    database: Database,
    clock: FakeClock,
    count: int,
    start: int = 0,
    publisher: Publisher = no_publisher,
) -> list[dict]:
    """Issue ``count`` tickets alternating over the services; the ticket dicts."""
    tickets = []
    for i in range(start, start + count):
        service = SERVICE_CODES[i % len(SERVICE_CODES)]
        uow = UnitOfWork(database.writes, publisher, clock)
        tickets.append(issue_ticket(uow, SITE, service).ticket)
    return tickets


def _call_until_empty(
    database: Database, clock: FakeClock, counter: int, publisher: Publisher = no_publisher
) -> list[int]:
    """A clerk pressing "call next" until the queue is empty; the ids called, in order."""
    called = []
    while True:
        try:
            ticket = call_next(UnitOfWork(database.writes, publisher, clock), SITE, counter)
        except QueueError as exc:
            if exc.code != "queue_empty":
                raise
            return called
        assert ticket["counter"] == counter
        called.append(ticket["id"])


def _assert_numbers(database: Database, expected: dict[str, int], issued: list[dict]) -> None:
    """Per service exactly 1..N: in ``seq``, in the printed number, in the day's counter."""
    with database.reads() as session:
        rows = session.execute(
            select(Service.code, Ticket.seq, Ticket.number, Ticket.id).join(
                Service, Service.id == Ticket.issued_service_id
            )
        ).all()
        last = dict(
            session.execute(
                select(Service.code, DailySequence.last_seq).join(
                    Service, Service.id == DailySequence.service_id
                )
            ).all()
        )
        services = {s.code: s for s in session.execute(select(Service)).scalars()}
    for code, n in expected.items():
        seqs = sorted(seq for c, seq, _, _ in rows if c == code)
        assert seqs == list(range(1, n + 1)), f"service {code}: gap or duplicate"
        spec = services[code]
        numbers = sorted(number for c, _, number, _ in rows if c == code)
        prefix, width = spec.number_prefix, spec.number_width
        assert numbers == [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]
        assert last[code] == n
    assert len(rows) == sum(expected.values())
    # What the callers were told is what the database holds.
    assert sorted(t["id"] for t in issued) == sorted(r.id for r in rows)
    assert sorted(t["number"] for t in issued) == sorted(r.number for r in rows)


def _assert_event_seqs(database: Database, events: list[Event]) -> None:
    """Every published event has its own state version, 1..site.seq with no hole."""
    with database.reads() as session:
        site_seq = session.execute(select(Site.seq).where(Site.code == SITE)).scalar_one()
    assert sorted(e.seq for e in events) == list(range(1, site_seq + 1))


def _assert_each_called_once(
    database: Database, all_ids: list[int], by_counter: dict[int, list[int]]
) -> None:
    """Union of what the counters called is every ticket, none twice, and the log agrees."""
    called = [tid for ids in by_counter.values() for tid in ids]
    duplicates = [tid for tid, n in Tally(called).items() if n > 1]
    assert not duplicates, f"tickets called twice: {duplicates}"
    assert sorted(called) == sorted(all_ids)
    with database.reads() as session:
        log = dict(
            session.execute(
                select(TicketEvent.ticket_id, func.count())
                .where(TicketEvent.kind == "called")
                .group_by(TicketEvent.ticket_id)
            ).all()
        )
        tickets = {t.id: t for t in session.execute(select(Ticket)).scalars()}
        counters = {c.number: c for c in session.execute(select(Counter)).scalars()}
    assert log == {tid: 1 for tid in all_ids}
    for number, ids in by_counter.items():
        counter = counters[number]
        assert all(tickets[tid].counter_id == counter.id for tid in ids)
        # The counter holds the last one it called; calling the next ended the others,
        # never started, as no-shows.
        assert counter.current_ticket_id == (ids[-1] if ids else None)
        assert all(tickets[tid].status == "no_show" for tid in ids[:-1])
        if ids:
            assert tickets[ids[-1]].status == "called"


# --- process workers (module level: spawned processes import them by name) ---


def _issue_worker(
    index: int, url: str, count: int, barrier: Any, results: multiprocessing.Queue
) -> None:
    database = Database(url)
    try:
        barrier.wait(timeout=WAIT_S)
        tickets = _issue_many(database, FakeClock(), count, start=index)
        results.put((index, "ok", tickets))
    except BaseException:
        results.put((index, "error", traceback.format_exc()))
    finally:
        database.dispose()


def _call_worker(
    index: int, url: str, counter: int, barrier: Any, results: multiprocessing.Queue
) -> None:
    database = Database(url)
    try:
        barrier.wait(timeout=WAIT_S)
        results.put((index, "ok", _call_until_empty(database, FakeClock(), counter)))
    except BaseException:
        results.put((index, "error", traceback.format_exc()))
    finally:
        database.dispose()


# --- numbers -----------------------------------------------------------------


def test_threads_issuing_at_once_get_gap_free_numbers(database: Database) -> None:
    threads, per_thread = 16, 25
    _setup(database)
    clock, recorder = FakeClock(), Recorder()

    def issue(i: int) -> list[dict]:
        tickets = []
        for j in range(per_thread):
            service = SERVICE_CODES[(i + j) % len(SERVICE_CODES)]
            uow = UnitOfWork(database.writes, recorder, clock)
            tickets.append(issue_ticket(uow, SITE, service).ticket)
        return tickets

    issued = [t for batch in in_threads(threads, issue) for t in batch]

    total = threads * per_thread
    _assert_numbers(database, {"A": total // 2, "B": total // 2}, issued)
    _assert_event_seqs(database, recorder.events)


@pytest.mark.slow
def test_processes_issuing_at_once_get_gap_free_numbers(db_url: str) -> None:
    processes, per_process = 4, 30
    database = Database(db_url)
    try:
        _setup(database)
        batches = _in_processes(_issue_worker, [(db_url, per_process)] * processes)
        issued = [t for batch in batches for t in batch]
        total = processes * per_process
        _assert_numbers(database, {"A": total // 2, "B": total // 2}, issued)
    finally:
        database.dispose()


# --- calling -----------------------------------------------------------------


def test_counters_calling_at_once_never_share_a_ticket(database: Database) -> None:
    counters, tickets = 6, 90
    _setup(database, {n: {"A": 1 + n % 2, "B": 1 + (n + 1) % 2} for n in range(1, counters + 1)})
    clock, recorder = FakeClock(), Recorder()
    all_ids = [t["id"] for t in _issue_many(database, clock, tickets)]

    def serve(i: int) -> list[int]:
        return _call_until_empty(database, clock, i + 1, recorder)

    by_counter = dict(enumerate(in_threads(counters, serve), start=1))

    _assert_each_called_once(database, all_ids, by_counter)
    called_events = [e for e in recorder.events if e.name == "ticket.called"]
    assert sorted(e.payload["ticket"]["id"] for e in called_events) == sorted(all_ids)


@pytest.mark.slow
def test_counter_processes_calling_at_once_never_share_a_ticket(db_url: str) -> None:
    counters, tickets = 4, 80
    database = Database(db_url)
    try:
        _setup(database, {n: {"A": 1, "B": 1} for n in range(1, counters + 1)})
        all_ids = [t["id"] for t in _issue_many(database, FakeClock(), tickets)]
        results = _in_processes(_call_worker, [(db_url, n) for n in range(1, counters + 1)])
        by_counter = dict(enumerate(results, start=1))
        _assert_each_called_once(database, all_ids, by_counter)
    finally:
        database.dispose()


def test_cancel_and_transfer_while_counters_call(database: Database) -> None:
    """Moving and cancelling tickets from outside a counter while its clerk presses
    "call next" neither deadlocks (PostgreSQL) nor leaves a counter and its ticket
    out of step."""
    counters, tickets, moves = 4, 60, 25
    _setup(database, {n: {"A": 1, "B": 1} for n in range(1, counters + 1)})
    clock, recorder = FakeClock(), Recorder()
    _issue_many(database, clock, tickets, publisher=recorder)

    def ids_with(status: str) -> list[int]:
        with database.reads() as session:
            query = select(Ticket.id).where(Ticket.status == status).order_by(Ticket.id)
            return list(session.execute(query).scalars())

    def act(i: int) -> None:
        rng = random.Random(i)
        uow = lambda: UnitOfWork(database.writes, recorder, clock)  # noqa: E731
        for _ in range(moves):
            try:
                if i < counters:
                    call_next(uow(), SITE, i + 1)
                elif i == counters:
                    if called := ids_with("called"):
                        cancel(uow(), SITE, rng.choice(called))
                elif waiting := ids_with("waiting"):
                    to = rng.randint(1, counters)
                    transfer(uow(), SITE, rng.choice(waiting), to_counter=to, position="front")
            except QueueError:
                pass  # lost a race the rules refuse (already called, queue empty, ...)

    in_threads(counters + 2, act)
    for number in range(1, counters + 1):
        _call_until_empty(database, clock, number, recorder)

    with database.reads() as session:
        all_tickets = list(session.execute(select(Ticket)).scalars())
        holders = {
            c.current_ticket_id: c.id
            for c in session.execute(select(Counter)).scalars()
            if c.current_ticket_id is not None
        }
    assert not [t.id for t in all_tickets if t.status == "waiting"]
    at_counter = {t.id: t.counter_id for t in all_tickets if t.status in ("called", "serving")}
    assert at_counter == holders, "a counter and its ticket disagree"
    _assert_event_seqs(database, recorder.events)


# --- idempotency -----------------------------------------------------------------


def test_same_idempotency_key_at_once_gives_one_ticket(database: Database) -> None:
    threads = 16
    key = "kiosk-1:7f3a9c2e-retry"
    _setup(database)
    clock = FakeClock()

    def issue(_i: int) -> tuple[Any, Any]:
        keyed = issue_ticket(
            UnitOfWork(database.writes, clock=clock), SITE, "A", idempotency_key=key
        )
        # A plain ticket after it: a number the loser of the key race gave back is reused.
        plain = issue_ticket(UnitOfWork(database.writes, clock=clock), SITE, "A")
        return keyed, plain.ticket

    results = in_threads(threads, issue)

    keyed = [k for k, _ in results]
    assert len({k.ticket["id"] for k in keyed}) == 1
    assert len({k.ticket["tracking_token"] for k in keyed}) == 1
    assert sum(not k.replayed for k in keyed) == 1
    with database.reads() as session:
        with_key = session.execute(
            select(func.count()).where(Ticket.idempotency_key == key)
        ).scalar_one()
    assert with_key == 1
    _assert_numbers(database, {"A": threads + 1}, [keyed[0].ticket] + [p for _, p in results])
