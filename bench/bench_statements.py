"""SQL statements per operation on the hot paths, counted from SQLAlchemy's events.

Not a test: it prints figures.  The app runs in this process (Flask's test
client, no network) on a scratch database made with the same steps as
``xephang init --demo``, so every statement the request sends passes through the
engine's ``before_cursor_execute`` event and is counted.  The paths:

- API issue: ``POST /api/v1/sites/demo/tickets`` with a kiosk's bearer token;
- kiosk issue: ``POST /kiosk/api/tickets`` (the kiosk page's own endpoint, print
  placement "none");
- call-next: ``POST /api/v1/sites/demo/counters/<n>/call-next`` with a clerk token.

    .venv/bin/python bench/bench_statements.py               # SQLite in a temp dir
    .venv/bin/python bench/bench_statements.py --postgres    # a scratch PostgreSQL database
    .venv/bin/python bench/bench_statements.py --show        # print each statement of one request
    .venv/bin/python bench/bench_statements.py --joined      # the site joined a hub (outbox on)

``BEGIN`` (SQLite's ``BEGIN IMMEDIATE|DEFERRED``, sent by the app as a statement) is
counted apart; PostgreSQL's BEGIN and every COMMIT go through the driver and are not
statements of their own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

# XEPHANG_ROOT: measure another checkout (an A/B run against an older commit).
sys.path.insert(0, os.environ.get("XEPHANG_ROOT") or str(Path(__file__).resolve().parent.parent))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SERVICES = ("HT", "CT", "TP", "LD", "TKQ")


@contextmanager
def scratch_database(postgres: bool) -> Iterator[str]:
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="xephang-stmts-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        return
    name = f"xephang_stmts_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.statements.append(statement)

    def take(self) -> list[str]:
        taken, self.statements = self.statements, []
        return taken


def is_begin(statement: str) -> bool:
    return statement.lstrip().upper().startswith("BEGIN")


def prepare(url: str, joined: bool = False) -> dict[str, Any]:
    from server.db import Database
    from server.demo import seed_demo
    from server.migrate import upgrade
    from server.tokens import create_token

    db = Database(url)
    upgrade(db.engine)
    with db.writes() as session:
        seed_demo(session)
        if joined:  # what `xephang hub join` turns on, without a hub: the outbox's statements
            session.execute(text("UPDATE sites SET sends_to_hub = TRUE"))
        session.commit()
    with db.writes() as session:
        tokens = {
            "kiosk": create_token(session, "demo", "kiosk"),
            "clerks": {n: create_token(session, "demo", "clerk", n) for n in range(1, 6)},
        }
    db.dispose()
    return tokens


def measure(
    url: str, rounds: int, show: bool, joined: bool = False, redis_url: str | None = None
) -> dict[str, dict[str, float]]:
    from server.app import create_app
    from server.runtime import runtime

    tokens = prepare(url, joined)
    app = create_app(
        {
            "DATABASE_URL": url,
            "ASYNC_MODE": "threading",
            # With Redis (several processes), a token lookup is cached briefly (TOKEN_CACHE_S):
            # a revocation reaches every process through it.
            "REDIS_URL": redis_url,
            "REDIS_CHANNEL": f"xephang-statements-{uuid.uuid4().hex[:8]}",
            "SECRET_KEY": "bench-secret",
            "RATELIMIT_ENABLED": False,
        }
    )
    counter = Counter()
    event.listen(runtime(app).db.engine, "before_cursor_execute", counter)
    client = app.test_client()
    kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}

    def api_issue(i: int) -> Any:
        return client.post(
            "/api/v1/sites/demo/tickets", json={"service": SERVICES[i % 5]}, headers=kiosk
        )

    def kiosk_issue(i: int) -> Any:
        return client.post("/kiosk/api/tickets", json={"service": SERVICES[i % 5]}, headers=kiosk)

    def call_next(i: int) -> Any:
        n = i % 5 + 1
        clerk = {"Authorization": f"Bearer {tokens['clerks'][n]}"}
        return client.post(f"/api/v1/sites/demo/counters/{n}/call-next", headers=clerk)

    paths = {"api issue": api_issue, "kiosk issue": kiosk_issue, "call-next": call_next}
    # Enough waiting for every call, then a warm-up of each path (first-use caches).
    for i in range(rounds * 2 + 10):
        api_issue(i)
    for path in paths.values():
        for i in range(3):
            path(i)
    results: dict[str, dict[str, float]] = {}
    for name, path in paths.items():
        counts: list[int] = []
        begins: list[int] = []
        cpu = 0.0
        for i in range(rounds):
            counter.take()
            cpu_before = time.process_time()
            response = path(i)
            cpu += time.process_time() - cpu_before
            if response.status_code not in (200, 201):
                raise SystemExit(f"{name}: {response.status_code} {response.get_data(True)[:300]}")
            statements = counter.take()
            counts.append(sum(not is_begin(s) for s in statements))
            begins.append(sum(is_begin(s) for s in statements))
            if show and i == 0:
                print(f"--- {name}: {counts[-1]} statements (+{begins[-1]} BEGIN)")
                for s in statements:
                    print("   ", " ".join(s.split())[: int(os.environ.get("STMT_WIDTH", "160"))])
        results[name] = {
            "statements": statistics.fmean(counts),
            "max": max(counts),
            "begin": statistics.fmean(begins),
            # The whole request in this process (test client included): for A/B runs only.
            "cpu_ms": round(1000 * cpu / rounds, 2),
        }
    runtime(app).db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--show", action="store_true", help="print one request's statements")
    parser.add_argument("--joined", action="store_true", help="the site joined a hub")
    parser.add_argument(
        "--redis",
        nargs="?",
        const="redis://127.0.0.1:6379/0",
        default=None,
        help="with a Redis message queue, as several processes run (token lookups cached)",
    )
    args = parser.parse_args()
    with scratch_database(args.postgres) as url:
        results = measure(url, args.rounds, args.show, args.joined, args.redis)
    backend = "postgresql" if args.postgres else "sqlite"
    joined = (", joined to a hub" if args.joined else "") + (", Redis" if args.redis else "")
    print(f"SQL statements per request ({backend}{joined}, mean of {args.rounds}, BEGIN apart)")
    print(f"  {'path':<12} {'statements':>10} {'max':>5} {'BEGIN':>6} {'CPU ms':>7}")
    for name, r in results.items():
        print(
            f"  {name:<12} {r['statements']:>10.1f} {r['max']:>5} {r['begin']:>6.1f}"
            f" {r['cpu_ms']:>7.2f}"
        )


if __name__ == "__main__":
    main()
