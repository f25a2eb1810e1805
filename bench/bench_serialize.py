"""What one site's writes wait for on PostgreSQL, and whether different sites wait at all.

Not a test: it prints figures. A scratch PostgreSQL database with a few sites; N
threads issue tickets through the engine (no HTTP), in three arrangements:

- one site, one service: every issue takes the same numbering row;
- one site, one service per thread: only the site's event ``seq`` row is shared;
- one site per thread: nothing is shared.

While they run, a sampler reads ``pg_stat_activity`` every few milliseconds and counts
the statements that were waiting for a lock, by their first words: that is what the
writes serialize on.

    .venv/bin/python bench/bench_serialize.py [--threads 4] [--tickets 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections import Counter as Tally
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import engine  # noqa: E402
from server.db import Database  # noqa: E402
from server.engine import UnitOfWork  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Counter, CounterService, Service, Site  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The statements waiting for a lock right now, by their first words.
WAITS = """SELECT substr(regexp_replace(query, '\\s+', ' ', 'g'), 1, 36), count(*)
FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock' GROUP BY 1"""


def make_sites(db: Database, sites: int, services: int) -> None:
    with db.writes() as session:
        for s in range(sites):
            site = Site(code=f"p{s}", name=f"Site {s}", header_lines=[])
            session.add(site)
            session.flush()
            made = []
            for k in range(services):
                service = Service(site_id=site.id, code=f"S{k}", name=f"S{k}", number_prefix="A")
                session.add(service)
                made.append(service)
            session.flush()
            counter = Counter(site_id=site.id, number=1, name="1")
            counter.service_links = [CounterService(service_id=m.id, weight=1) for m in made]
            session.add(counter)
        session.commit()


def run(db: Database, name: str, jobs: list[tuple[str, str]], tickets: int) -> dict:
    stop = threading.Event()
    waits: Tally[str] = Tally()
    samples = [0]
    dbname = make_url(db.url).database

    def sampler() -> None:
        watcher = create_engine(db.url, isolation_level="AUTOCOMMIT")
        with watcher.connect() as conn:
            while not stop.is_set():
                for statement, n in conn.execute(text(WAITS), {"db": dbname}).all():
                    waits[statement] += int(n)
                samples[0] += 1
                time.sleep(0.002)
        watcher.dispose()

    def worker(site: str, service: str) -> None:
        for _ in range(tickets):
            engine.issue_ticket(UnitOfWork(db.writes), site, service)

    watch = threading.Thread(target=sampler)
    watch.start()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    stop.set()
    watch.join()
    return {
        "case": name,
        "tickets_per_s": round(len(jobs) * tickets / wall, 1),
        "samples": samples[0],
        "waits": dict(waits.most_common()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args()
    name = f"xephang_ser_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        upgrade(db.engine)
        n = args.threads
        make_sites(db, sites=n, services=n)
        cases = [
            ("one site, one service", [("p0", "S0")] * n),
            ("one site, a service per thread", [("p0", f"S{k}") for k in range(n)]),
            ("a site per thread", [(f"p{k}", "S0") for k in range(n)]),
        ]
        print(f"{n} threads x {args.tickets} issues each, PostgreSQL, engine only (no HTTP)")
        for case, jobs in cases:
            r = run(db, case, jobs, args.tickets)
            waits = ", ".join(f"{k} {v}" for k, v in r["waits"].items()) or "none"
            print(f"  {r['case']:<32} {r['tickets_per_s']:>7} tickets/s")
            print(f"    statements waiting for a lock, over {r['samples']} samples: {waits}")
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
