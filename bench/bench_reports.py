"""Benchmark of the reports: a month of a provincial center, read back as reports and XLSX.

Not a test: it prints figures.  A scratch database (SQLite file, or PostgreSQL with
``--postgres``) gets, through bulk inserts straight into the tables, one site with 60
counters, 12 services, 60 clerks and a month of days of 1,000 tickets each with their
events (issued, called, recalled, started, finished / no-show / transferred and called
again / cancelled), ratings and the clerks' sign-ins; then these are timed, in-process
(no HTTP), each the median of a few runs:

- the month's report, grouped by each of service, counter, clerk, hour, day;
- the month's XLSX (every grouping and the ticket list);
- one day's report and a clerk's own figures for a day (what the clerk page asks for);
- whatever ``EXTRA`` holds: other parts (the dashboard snapshot) add their own measures.

    .venv/bin/python bench/bench_reports.py              # SQLite in a temp dir
    .venv/bin/python bench/bench_reports.py --postgres   # a scratch PostgreSQL database
    .venv/bin/python bench/bench_reports.py --quick      # 3 days, a smoke check
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_queue import DEFAULT_PG_ADMIN, Scratch, log, new_postgres, new_sqlite  # noqa: E402
from sqlalchemy import delete, insert  # noqa: E402

from server import reports  # noqa: E402
from server.db import Database  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import (  # noqa: E402
    Counter,
    CounterService,
    Rating,
    ReportDay,
    Service,
    Site,
    Ticket,
    TicketEvent,
    User,
)

TZ = "Asia/Ho_Chi_Minh"
COUNTERS = 60
SERVICES = 12
CHUNK = 5_000
FIRST_DAY = date(2026, 10, 1)


@dataclass(frozen=True)
class Plan:
    days: int = 30
    tickets_per_day: int = 1_000
    repeats: int = 3


@dataclass
class Bench:
    """What a measure gets: the database, the site, the month and the moment after it."""

    db: Database
    site_id: int
    period: reports.Period  # the month (closed)
    today: date  # the day after it, half done at ``now``
    now: datetime
    clerk_ids: list[int]


# Other parts add their own measures here: (name, function of the Bench), timed like the rest.
EXTRA: list[tuple[str, Callable[[Bench], Any]]] = []


def _local(day: date, minutes: float) -> datetime:
    start = datetime.combine(day, clock_time(7, 30), ZoneInfo(TZ)).astimezone(UTC)
    return start + timedelta(minutes=minutes)


class Seeder:
    """Rows for the bulk inserts, with the ids given here (the database is empty)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tickets: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.ratings: list[dict[str, Any]] = []
        self.next_ticket = 1

    def event(
        self,
        site: int,
        ticket: int | None,
        counter: int | None,
        kind: str,
        before: str | None,
        after: str | None,
        at: datetime,
        **data: Any,
    ) -> None:
        self.events.append(
            {
                "site_id": site,
                "ticket_id": ticket,
                "counter_id": counter,
                "kind": kind,
                "from_status": before,
                "to_status": after,
                "actor": "bench",
                "at": at,
                "data": data,
            }
        )

    def day(
        self,
        site: int,
        day: date,
        plan: Plan,
        services: list[int],
        counters: list[int],
        clerks: list[int],
    ) -> None:
        rng = self.rng
        for counter, clerk in zip(counters, clerks, strict=True):
            for start, end in ((0, 240), (360, 570)):
                self.event(
                    site,
                    None,
                    counter,
                    "clerk_signed_in",
                    None,
                    None,
                    _local(day, start),
                    clerk_before=None,
                    clerk_after=clerk,
                )
                self.event(
                    site,
                    None,
                    counter,
                    "clerk_signed_out",
                    None,
                    None,
                    _local(day, end),
                    clerk_before=clerk,
                    clerk_after=None,
                )
        seqs = dict.fromkeys(services, 0)
        for _ in range(plan.tickets_per_day):
            tid = self.next_ticket
            self.next_ticket += 1
            service = rng.choice(services)
            seqs[service] += 1
            # Arrivals peak in the morning: most between 07:30 and 10:30.
            minute = min(rng.expovariate(1 / 120), 540)
            issued = _local(day, minute)
            counter_index = rng.randrange(COUNTERS)
            counter, clerk = counters[counter_index], clerks[counter_index]
            called = issued + timedelta(seconds=rng.expovariate(1 / 720))
            self.event(
                site, tid, None, "issued", None, "waiting", issued, channel="kiosk", priority=None
            )
            self.event(site, tid, counter, "called", "waiting", "called", called)
            status, finished, started, at = "done", None, None, called
            if rng.random() < 0.1:
                at = at + timedelta(seconds=40)
                self.event(site, tid, counter, "recalled", "called", "called", at, recall_count=1)
            roll = rng.random()
            if roll < 0.07:
                status = "no_show"
                self.event(
                    site, tid, counter, "no_show", "called", "no_show", at + timedelta(seconds=60)
                )
            elif roll < 0.09:
                status = "cancelled"
                self.event(
                    site,
                    tid,
                    counter,
                    "cancelled",
                    "called",
                    "cancelled",
                    at + timedelta(seconds=30),
                )
            else:
                if roll < 0.12:  # sent to another service, then called again there
                    at = at + timedelta(seconds=200)
                    self.event(
                        site,
                        tid,
                        counter,
                        "transferred",
                        "called",
                        "waiting",
                        at,
                        to_service="S2",
                        to_counter=None,
                        position="back",
                    )
                    at = at + timedelta(seconds=rng.expovariate(1 / 300))
                    self.event(site, tid, counter, "called", "waiting", "called", at)
                if rng.random() < 0.9:
                    started = at + timedelta(seconds=rng.uniform(20, 120))
                    self.event(site, tid, counter, "started", "called", "serving", started)
                finished = (started or at) + timedelta(seconds=rng.uniform(120, 900))
                self.event(
                    site, tid, counter, "finished", "serving", "done", finished, dossier_code=None
                )
                if rng.random() < 0.6:
                    score = rng.choices([1, 2, 3, 4], weights=[3, 7, 40, 50])[0]
                    rated = finished + timedelta(seconds=20)
                    self.ratings.append(
                        {
                            "site_id": site,
                            "ticket_id": tid,
                            "counter_id": counter,
                            "clerk_id": clerk,
                            "service_id": service,
                            "score": score,
                            "scale": 4,
                            "reasons": ["slow"] if score == 1 else [],
                            "created_at": rated,
                        }
                    )
                    self.event(site, tid, counter, "rated", "done", "done", rated, score=score)
            self.tickets.append(
                {
                    "id": tid,
                    "site_id": site,
                    "issued_service_id": service,
                    "service_id": service,
                    "business_day": day,
                    "seq": seqs[service],
                    "number": f"{seqs[service]:04d}",
                    "status": status,
                    "priority_reason": None,
                    "channel": "kiosk",
                    "sort_key": tid,
                    "issued_at": issued,
                    "called_at": called,
                    "started_at": started,
                    "finished_at": finished,
                    "counter_id": counter,
                    "clerk_id": clerk if status == "done" else None,
                    "recall_count": 0,
                    "tracking_token": f"t{tid}",
                }
            )


def _bulk(db: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    with db.writes() as session:
        for i in range(0, len(rows), CHUNK):
            session.execute(insert(model), rows[i : i + CHUNK])
        session.commit()


def seed(db: Database, plan: Plan) -> Bench:
    rng = random.Random(10)
    now = datetime.now(UTC)
    with db.writes() as session:
        site = Site(
            code="tinh", name="Trung tâm Phục vụ hành chính công tỉnh", timezone=TZ, header_lines=[]
        )
        session.add(site)
        session.flush()
        services = [
            Service(
                site_id=site.id,
                code=f"S{i}",
                name=f"Lĩnh vực {i}",
                number_prefix=None,
                sort_order=i,
            )
            for i in range(1, SERVICES + 1)
        ]
        session.add_all(services)
        session.flush()
        counters = []
        for n in range(1, COUNTERS + 1):
            counter = Counter(site_id=site.id, number=n, name=f"Quầy {n}")
            counter.service_links = [CounterService(service_id=services[n % SERVICES].id)]
            counters.append(counter)
        session.add_all(counters)
        clerks = [
            User(
                username=f"canbo{n:02d}",
                full_name=f"Cán bộ {n:02d}",
                password_hash="-",
                role="clerk",
                created_at=now,
            )
            for n in range(1, COUNTERS + 1)
        ]
        session.add_all(clerks)
        session.commit()
        site_id = site.id
        service_ids = [s.id for s in services]
        counter_ids = [c.id for c in counters]
        clerk_ids = [u.id for u in clerks]
    seeder = Seeder(rng)
    for offset in range(plan.days + 1):  # the month, then today (until 15:00)
        seeder.day(
            site_id, FIRST_DAY + timedelta(days=offset), plan, service_ids, counter_ids, clerk_ids
        )
    _bulk(db, Ticket, seeder.tickets)
    _bulk(db, TicketEvent, seeder.events)
    _bulk(db, Rating, seeder.ratings)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    log(
        f"seeded {len(seeder.tickets)} tickets, {len(seeder.events)} events, "
        f"{len(seeder.ratings)} ratings"
    )
    last = FIRST_DAY + timedelta(days=plan.days - 1)
    today = last + timedelta(days=1)
    period = reports.Period(FIRST_DAY, last)
    return Bench(db, site_id, period, today, _local(today, 450), clerk_ids)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """The median wall time and CPU time of this process over ``repeats`` runs, in ms.

    On a busy machine the CPU time is the steadier figure; with PostgreSQL it leaves out
    the database server's own work, which the wall time includes.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - began) * 1000)
        cpus.append((time.process_time() - began_cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def measures(b: Bench) -> list[tuple[str, Callable[[], Any]]]:
    def report(group: str, period: reports.Period, *, fresh: bool = False) -> Callable[[], Any]:
        def run() -> Any:
            if fresh:  # as on the first report after the month: no daily rollup kept yet
                with b.db.writes() as session:
                    session.execute(delete(ReportDay))
                    session.commit()
            with b.db.reads() as session:
                return reports.site_report(
                    session, [b.site_id], period, group, now=b.now, store=b.db.writes
                )

        return run

    def xlsx() -> Any:
        with b.db.reads() as session:
            return reports.report_xlsx(session, [b.site_id], b.period, now=b.now, store=b.db.writes)

    def clerk_today() -> Any:
        with b.db.reads() as session:
            return reports.clerk_today(session, b.site_id, b.clerk_ids[0], now=b.now)

    today = reports.Period(b.today, b.today)
    rows = [("month report, no rollup kept yet", report("service", b.period, fresh=True))]
    rows += [(f"month report, group={g}", report(g, b.period)) for g in reports.GROUPS[:5]]
    rows += [
        ("month XLSX (5 sheets + ticket list)", xlsx),
        ("today's report (from the log)", report("service", today)),
        ("a clerk's own figures today", clerk_today),
    ]
    rows += [(name, lambda fn=fn: fn(b)) for name, fn in EXTRA]
    return rows


def run(url: str, plan: Plan) -> dict[str, tuple[float, float]]:
    db = Database(url)
    try:
        upgrade(db.engine)
        began = time.perf_counter()
        bench = seed(db, plan)
        log(f"seed took {time.perf_counter() - began:.1f} s")
        results = {}
        for name, fn in measures(bench):
            fn()  # warm-up: caches, the first query plan
            results[name] = timed(fn, plan.repeats)
            log(f"{name}: {results[name][0]:.0f} ms")
        return results
    finally:
        db.dispose()


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="a scratch PostgreSQL database")
    parser.add_argument("--quick", action="store_true", help="3 days: a smoke check")
    args = parser.parse_args()
    plan = Plan(days=3, repeats=1) if args.quick else Plan()
    scratch = Scratch()
    try:
        if args.postgres:
            name = f"xephang_bench_{uuid.uuid4().hex[:8]}"
            url = new_postgres(scratch, DEFAULT_PG_ADMIN, name)
            backend = "PostgreSQL"
        else:
            folder = Path(tempfile.mkdtemp(prefix="xephang-bench-reports-"))
            url = new_sqlite(scratch, folder / "reports.sqlite3")
            backend = "SQLite"
        results = run(url, plan)
    finally:
        scratch.drop()
    tickets = plan.days * plan.tickets_per_day
    print(
        f"Reports, {backend}: {plan.days} days x {plan.tickets_per_day} tickets = {tickets}, "
        f"{COUNTERS} counters (median of {plan.repeats}; load average {_load()})"
    )
    print(f"  {'':<40} {'wall ms':>8} {'CPU ms':>8}")
    for name, (wall, cpu) in results.items():
        print(f"  {name:<40} {wall:8.0f} {cpu:8.0f}")
    figures = {name: {"wall_ms": round(w), "cpu_ms": round(c)} for name, (w, c) in results.items()}
    print(
        json.dumps(
            {"backend": backend, "days": plan.days, "tickets": tickets, "ms": figures},
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
