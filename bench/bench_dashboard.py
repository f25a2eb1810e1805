"""Benchmark of the live dashboard's snapshot: a provincial center at mid-morning.

Not a test: it prints figures. The same center as bench/bench_reports.py (60 counters,
12 services, 1,000 tickets a day with their events; here 3 past days and today), then
today at 11:00 is made busy: 150 tickets waiting, every counter with a clerk, half of
them serving a ticket, five paused, and one kiosk whose last print failed. Timed,
in-process (no HTTP), median of 25 runs:

- ``site_dashboard`` (what ``/admin/live/<site>/live.json`` answers after each event);
- ``province_overview`` of that one site (the province view's line).

    .venv/bin/python bench/bench_dashboard.py              # SQLite in a temp dir
    .venv/bin/python bench/bench_dashboard.py --postgres   # a scratch PostgreSQL database
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_queue import DEFAULT_PG_ADMIN, Scratch, log, new_postgres, new_sqlite  # noqa: E402
from bench_reports import Plan, seed, timed  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from server.db import Database  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import ApiToken, Counter, PrintJob, Ticket  # noqa: E402
from server.reports import dashboard  # noqa: E402

WAITING = 150
REPEATS = 25


def busy_morning(db: Database, bench: object) -> str:
    """Today's last tickets back in line, clerks at every counter, a failed print."""
    b = bench
    with db.writes() as session:
        today = list(
            session.execute(
                select(Ticket.id)
                .where(Ticket.business_day == b.today)  # type: ignore[attr-defined]
                .order_by(Ticket.id.desc())
            ).scalars()
        )
        waiting, serving = today[:WAITING], today[WAITING : WAITING + 30]
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_(waiting))
            .values(status="waiting", counter_id=None, clerk_id=None, called_at=None)
        )
        counters = list(session.execute(select(Counter).order_by(Counter.number)).scalars())
        for i, counter in enumerate(counters):
            counter.clerk_id = b.clerk_ids[i]  # type: ignore[attr-defined]
            counter.status = "paused" if i % 12 == 5 else "open"
            if i < len(serving) and counter.status == "open":
                counter.current_ticket_id = serving[i]
        session.execute(update(Ticket).where(Ticket.id.in_(serving)).values(status="serving"))
        token = ApiToken(
            site_id=b.site_id,  # type: ignore[attr-defined]
            role="kiosk",
            token_hash=uuid.uuid4().hex,
            label="Máy lấy số sảnh",
            created_at=b.now,  # type: ignore[attr-defined]
        )
        session.add(token)
        session.flush()
        session.add(
            PrintJob(
                site_id=b.site_id,  # type: ignore[attr-defined]
                ticket_id=waiting[0],
                device_id=token.id,
                status="failed",
                last_error="printer_out_of_paper",
                created_at=b.now - timedelta(minutes=5),  # type: ignore[attr-defined]
            )
        )
        session.commit()
    return "tinh"


def run(url: str) -> dict[str, tuple[float, float]]:
    db = Database(url)
    try:
        upgrade(db.engine)
        bench = seed(db, Plan(days=3, repeats=1))
        code = busy_morning(db, bench)
        now = bench.now
        results = {}

        def snapshot() -> object:
            with db.reads() as session:
                return dashboard.site_dashboard(session, code, now)

        def province() -> object:
            with db.reads() as session:
                return dashboard.province_overview(session, [code], now)

        sample = snapshot()
        log(
            f"snapshot: {sum(s['waiting'] for s in sample['services'])} waiting, "  # type: ignore[index]
            f"{len(sample['counters'])} counters, {len(sample['alerts'])} alerts"  # type: ignore[index]
        )
        for name, fn in (("dashboard snapshot", snapshot), ("province view, one site", province)):
            fn()
            results[name] = timed(fn, REPEATS)
            log(f"{name}: {results[name][0]:.1f} ms")
        return results
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="a scratch PostgreSQL database")
    args = parser.parse_args()
    scratch = Scratch()
    try:
        if args.postgres:
            url = new_postgres(scratch, DEFAULT_PG_ADMIN, f"xephang_bench_{uuid.uuid4().hex[:8]}")
            backend = "PostgreSQL"
        else:
            folder = Path(tempfile.mkdtemp(prefix="xephang-bench-dashboard-"))
            url = new_sqlite(scratch, folder / "dashboard.sqlite3")
            backend = "SQLite"
        results = run(url)
    finally:
        scratch.drop()
    print(f"Dashboard, {backend}: 60 counters, {WAITING} waiting (median of {REPEATS})")
    print(f"  {'':<30} {'wall ms':>8} {'CPU ms':>8}")
    for name, (wall, cpu) in results.items():
        print(f"  {name:<30} {wall:8.1f} {cpu:8.1f}")
    figures = {n: {"wall_ms": round(w, 1), "cpu_ms": round(c, 1)} for n, (w, c) in results.items()}
    print(json.dumps({"backend": backend, "ms": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
