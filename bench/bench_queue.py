"""Benchmark of a real xephang server: issue, call, Socket.IO fan-out, memory, queue, history.

Not a test: it prints figures.  It starts its own servers as subprocesses
(``xephang init --demo`` then ``xephang serve``) on a scratch database, talks
only to 127.0.0.1, and stops the servers and drops the scratch databases at
the end, also on error or Ctrl-C.

    .venv/bin/python bench/bench_queue.py                # SQLite in a temp dir
    .venv/bin/python bench/bench_queue.py --postgres     # scratch PostgreSQL databases
    .venv/bin/python bench/bench_queue.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/xb
    .venv/bin/python bench/bench_queue.py --quick        # small sizes, a smoke check

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import psutil
import requests
import socketio
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from server.db import Database
from server.engine import numbering
from server.engine.ordering import sort_key_at
from server.engine.rules import DONE, WAITING
from server.engine.views import site_by_code
from server.models import Counter, DailySequence, Service, Site, Ticket, TicketEvent
from server.timeutil import business_day

HOST = "127.0.0.1"
SITE = "demo"
COUNTERS = (1, 2, 3, 4, 5)
# Services without a daily capacity: the demo's land service (DD) numbers 3001-3999 only.
ISSUE_SERVICES = ("HT", "CT", "TP", "LD", "TKQ")
DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SERVER_START_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 30


@dataclass(frozen=True)
class Plan:
    """How much work each section does; every loop is also bounded by ``*_deadline_s``."""

    issue_single: int = 1000
    issue_concurrent: int = 2000
    concurrency: int = 16
    call_next: int = 200
    fanout_sizes: tuple[int, ...] = (100, 500)
    fanout_calls: int = 30
    connect_batch: int = 50
    depth_sizes: tuple[int, ...] = (100, 1_000, 10_000, 50_000)
    depth_calls: int = 50
    depth_issues: int = 20
    history_sizes: tuple[int, ...] = (10_000, 100_000, 300_000)
    history_per_day: int = 600
    history_waiting: int = 100
    history_ops: int = 30
    phase_deadline_s: float = 180.0
    delivery_timeout_s: float = 15.0


QUICK = Plan(
    issue_single=100,
    issue_concurrent=200,
    call_next=30,
    fanout_sizes=(20, 50),
    fanout_calls=10,
    depth_sizes=(100, 1_000),
    depth_calls=20,
    depth_issues=10,
    history_sizes=(1_000, 5_000),
    history_ops=10,
    phase_deadline_s=60.0,
)


# --- figures -----------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (p99 of 30 samples is near the max)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return dict.fromkeys(("p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms"), None) | {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def mib(n_bytes: int) -> float:
    return round(n_bytes / (1024 * 1024), 1)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- scratch databases -------------------------------------------------------------


@dataclass
class Scratch:
    """The databases this run creates; all of them are removed by ``drop``."""

    urls: list[str] = field(default_factory=list)
    drops: list[Callable[[], None]] = field(default_factory=list)

    def drop(self) -> None:
        for undo in reversed(self.drops):
            try:
                undo()
            except Exception as err:  # keep dropping the others
                log(f"cleanup failed: {err}")
        self.drops.clear()


def new_sqlite(scratch: Scratch, path: Path) -> str:
    if path.exists():
        raise SystemExit(f"{path} exists; the bench only uses a database it creates")
    path.parent.mkdir(parents=True, exist_ok=True)

    def remove() -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    scratch.drops.append(remove)
    url = f"sqlite:///{path}"
    scratch.urls.append(url)
    return url


def new_postgres(scratch: Scratch, server_url: str, name: str) -> str:
    admin_url = make_url(server_url).set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if exists:
            admin.dispose()
            raise SystemExit(f"database {name!r} exists; the bench only uses a database it creates")
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    scratch.drops.append(drop)
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    scratch.urls.append(url)
    return url


SECTION_DATABASES = ("", "_depth", "_history")  # one fresh database per entry of SECTIONS


def scratch_databases(args: argparse.Namespace, scratch: Scratch, tmp: Path) -> list[str]:
    """Fresh databases: sections 1-4, section 5 (queue depth), section 6 (history)."""
    url = args.database_url or (DEFAULT_PG_ADMIN if args.postgres else None)
    if url is None:
        return [new_sqlite(scratch, tmp / f"bench{suffix}.sqlite3") for suffix in SECTION_DATABASES]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        return [
            new_sqlite(scratch, path.with_name(f"{path.stem}{suffix}{path.suffix}"))
            for suffix in SECTION_DATABASES
        ]
    base = parsed.database
    if not base or base == "postgres" or args.database_url is None:
        base = f"xephang_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    return [new_postgres(scratch, url, f"{base}{suffix}") for suffix in SECTION_DATABASES]


# --- the server under test -----------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def xephang_command() -> str:
    beside = Path(sys.executable).with_name("xephang")
    if beside.exists():
        return str(beside)
    found = shutil.which("xephang")
    if found is None:
        raise SystemExit("the xephang command is not installed (pip install -e .)")
    return found


class Server:
    """``xephang serve`` on a free port of 127.0.0.1, with the tokens the bench needs."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.env = {
            **os.environ,
            "XEPHANG_DATABASE_URL": database_url,
            # Given, so the server does not write a secret into the source tree's instance folder.
            "XEPHANG_SECRET_KEY": secrets.token_hex(32),
        }
        self.env.pop("XEPHANG_REDIS_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"
        self.kiosk = ""
        self.display = ""
        self.clerks: dict[int, str] = {}

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [xephang_command(), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"xephang {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout.strip()

    def token(self, role: str, counter: int | None = None) -> str:
        extra = ("--counter", str(counter)) if counter is not None else ()
        return self.cli("token", "create", "--site", SITE, "--role", role, *extra).splitlines()[-1]

    def start(self) -> None:
        self.cli("init", "--demo")
        self.kiosk = self.token("kiosk")
        self.display = self.token("display")
        self.clerks = {n: self.token("clerk", n) for n in COUNTERS}
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                [xephang_command(), "serve", "--host", HOST, "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=1).ok:
                    return
            time.sleep(0.2)
        raise RuntimeError(
            f"server did not answer in {SERVER_START_TIMEOUT_S}s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def rss(self) -> int:
        assert self.proc is not None
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def url(self, path: str) -> str:
        return f"{self.base}/api/v1/sites/{SITE}{path}"


@contextlib.contextmanager
def running(database_url: str, workdir: Path) -> Iterator[Server]:
    server = Server(database_url, workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- 1 and 2: issuing and calling over HTTP ---------------------------------------------


# The two ways a ticket is issued: the REST API, and the kiosk page's own endpoint
# (which also prints: the bench's kiosk token has no printer, placement "none").
ISSUE_PATHS = ("api", "kiosk")


def issue_one(http: requests.Session, server: Server, index: int, path: str = "api") -> float:
    body = {"service": ISSUE_SERVICES[index % len(ISSUE_SERVICES)]}
    url = server.url("/tickets") if path == "api" else f"{server.base}/kiosk/api/tickets"
    started = time.perf_counter()
    response = http.post(url, json=body, headers=auth(server.kiosk), timeout=REQUEST_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"issue answered {response.status_code}: {response.text[:300]}")
    return elapsed


def issue_load(
    server: Server, total: int, clients: int, deadline_s: float, path: str = "api"
) -> dict[str, Any]:
    """``clients`` threads, each with its own keep-alive session, share ``total`` issues."""
    counter = iter(range(total))
    lock = threading.Lock()
    stop_at = time.monotonic() + deadline_s

    def worker() -> list[float]:
        latencies: list[float] = []
        with requests.Session() as http:
            while time.monotonic() < stop_at:
                with lock:
                    index = next(counter, None)
                if index is None:
                    break
                latencies.append(issue_one(http, server, index, path))
        return latencies

    cpu_before = cpu_now(server)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = [f.result() for f in [pool.submit(worker) for _ in range(clients)]]
    wall = time.perf_counter() - started
    latencies = [s for part in results for s in part]
    return {
        "path": path,
        "clients": clients,
        "tickets": len(latencies),
        "seconds": round(wall, 2),
        "tickets_per_s": round(len(latencies) / wall, 1),
        "latency": latency_summary(latencies),
        **cpu_per_op(server, cpu_before, len(latencies)),
    }


def call_next_once(http: requests.Session, server: Server, counter: int) -> tuple[float, dict]:
    started = time.perf_counter()
    response = http.post(
        server.url(f"/counters/{counter}/call-next"),
        headers=auth(server.clerks[counter]),
        timeout=REQUEST_TIMEOUT_S,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"call-next answered {response.status_code}: {response.text[:300]}")
    return elapsed, response.json()


def call_next_load(server: Server, total: int, deadline_s: float) -> dict[str, Any]:
    """One clerk at a time, going round counters 1-5."""
    stop_at = time.monotonic() + deadline_s
    latencies: list[float] = []
    cpu_before = cpu_now(server)
    with requests.Session() as http:
        for i in range(total):
            if time.monotonic() > stop_at:
                break
            elapsed, _ticket = call_next_once(http, server, COUNTERS[i % len(COUNTERS)])
            latencies.append(elapsed)
    return {**latency_summary(latencies), **cpu_per_op(server, cpu_before, len(latencies))}


def client_cpu_seconds() -> float:
    """This process's CPU (the load generator), from /proc as the server's."""
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def cpu_now(server: Server) -> tuple[float, float]:
    return server.cpu_seconds(), client_cpu_seconds()


def cpu_per_op(server: Server, cpu_before: tuple[float, float], ops: int) -> dict[str, Any]:
    """Server CPU time per request (steadier than wall time on a busy machine), and the
    client's beside it: a client using more than the server is measuring itself."""
    used = server.cpu_seconds() - cpu_before[0]
    client = client_cpu_seconds() - cpu_before[1]
    return {
        "server_cpu_ms_per_op": round(1000 * used / ops, 2) if ops else None,
        "client_cpu_ms_per_op": round(1000 * client / ops, 2) if ops else None,
    }


def waiting_now(server: Server) -> int:
    response = requests.get(server.url("/services"), headers=auth(server.display), timeout=30)
    response.raise_for_status()
    return sum(int(s["waiting"]) for s in response.json()["services"])


# --- 3 and 4: Socket.IO fan-out and memory -----------------------------------------------


class Audience:
    """Connected display clients, recording when each ``ticket.called`` reached each of them."""

    def __init__(self, server: Server, http: aiohttp.ClientSession) -> None:
        self.server = server
        self.http = http
        self.clients: list[socketio.AsyncClient] = []
        self.arrivals: dict[int, list[float]] = {}
        self.waiters: dict[int, tuple[int, asyncio.Event]] = {}

    def _on_called(self, payload: dict[str, Any]) -> None:
        if payload.get("recall"):
            return
        ticket_id = int(payload["ticket"]["id"])
        times = self.arrivals.setdefault(ticket_id, [])
        times.append(time.perf_counter())
        waiter = self.waiters.get(ticket_id)
        if waiter is not None and len(times) >= waiter[0]:
            waiter[1].set()

    async def connect_one(self) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        got_state = asyncio.Event()
        client.on("state", lambda _data: got_state.set())
        client.on("ticket.called", self._on_called)
        await client.connect(
            self.server.base,
            transports=["websocket"],
            auth={"token": self.server.display},
            wait_timeout=30,
        )
        # The snapshot is sent after the client joined its site's room.
        await asyncio.wait_for(got_state.wait(), timeout=30)
        return client

    async def grow(self, size: int, batch: int) -> float:
        started = time.perf_counter()
        while len(self.clients) < size:
            count = min(batch, size - len(self.clients))
            made = await asyncio.gather(
                *(self.connect_one() for _ in range(count)), return_exceptions=True
            )
            failed = [m for m in made if isinstance(m, BaseException)]
            self.clients += [m for m in made if isinstance(m, socketio.AsyncClient)]
            if failed:
                raise RuntimeError(f"{len(failed)} Socket.IO connects failed: {failed[0]!r}")
        return time.perf_counter() - started

    async def close(self) -> None:
        clients, self.clients = self.clients, []
        for start in range(0, len(clients), 100):
            await asyncio.gather(
                *(c.disconnect() for c in clients[start : start + 100]), return_exceptions=True
            )

    async def measure(self, calls: int, deadline_s: float, timeout_s: float) -> dict[str, Any]:
        """Per call: send call-next, wait until every client has its ``ticket.called``."""
        expected = len(self.clients)
        last_client: list[float] = []
        per_client: list[float] = []
        http_latency: list[float] = []
        missed = 0
        stop_at = time.monotonic() + deadline_s
        me = psutil.Process()
        server_cpu = self.server.cpu_seconds()
        bench_cpu = sum(me.cpu_times()[:2])
        for i in range(calls):
            if time.monotonic() > stop_at:
                break
            counter = COUNTERS[i % len(COUNTERS)]
            sent = time.perf_counter()
            async with self.http.post(
                self.server.url(f"/counters/{counter}/call-next"),
                headers=auth(self.server.clerks[counter]),
            ) as response:
                body = await response.json()
                if response.status != 200:
                    raise RuntimeError(f"call-next answered {response.status}: {body}")
            http_latency.append(time.perf_counter() - sent)
            ticket_id = int(body["id"])
            done = asyncio.Event()
            self.waiters[ticket_id] = (expected, done)
            if len(self.arrivals.get(ticket_id, [])) >= expected:
                done.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=timeout_s)
            times = self.arrivals.pop(ticket_id, [])
            self.waiters.pop(ticket_id, None)
            missed += expected - len(times)
            if times:
                per_client += [t - sent for t in times]
                last_client.append(max(times) - sent)
            # Let stragglers of this call drain before the next one starts.
            await asyncio.sleep(0.05)
        done_calls = max(len(http_latency), 1)
        return {
            "clients": expected,
            "calls": len(http_latency),
            "missed_deliveries": missed,
            "server_cpu_ms_per_call": round(
                1000 * (self.server.cpu_seconds() - server_cpu) / done_calls, 1
            ),
            "bench_cpu_ms_per_call": round(
                1000 * (sum(me.cpu_times()[:2]) - bench_cpu) / done_calls, 1
            ),
            "call_next_http": latency_summary(http_latency),
            "last_client": latency_summary(last_client),
            "per_client": latency_summary(per_client),
        }


async def fanout_async(server: Server, plan: Plan) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    results: dict[str, Any] = {"rss_before_sockets_mib": mib(server.rss()), "sizes": []}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        audience = Audience(server, http)
        try:
            for size in plan.fanout_sizes:
                connect_s = await audience.grow(size, plan.connect_batch)
                await asyncio.sleep(1.0)  # let connect work settle before measuring memory
                rss = server.rss()
                figures = await audience.measure(
                    plan.fanout_calls, plan.phase_deadline_s, plan.delivery_timeout_s
                )
                figures["connect_s"] = round(connect_s, 2)
                figures["rss_connected_mib"] = mib(rss)
                results["sizes"].append(figures)
                log(
                    f"fan-out {size}: last client p50 {figures['last_client']['p50_ms']} ms, "
                    f"p99 {figures['last_client']['p99_ms']} ms"
                )
        finally:
            await audience.close()
    await asyncio.sleep(1.0)
    results["rss_after_disconnect_mib"] = mib(server.rss())
    return results


# --- seeding: straight into the database, keeping the model's invariants ---------------------


def _upsert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def take_numbers(session: Session, site: Site, service: Service, day: date, count: int) -> range:
    """``count`` numbers of a service's day at once, from the row the engine bumps."""
    stmt = (
        _upsert(session.get_bind().dialect.name)(DailySequence)
        .values(site_id=site.id, service_id=service.id, business_day=day, last_seq=count)
        .on_conflict_do_update(
            index_elements=["site_id", "service_id", "business_day"],
            set_={"last_seq": DailySequence.last_seq + count},
        )
        .returning(DailySequence.last_seq)
    )
    last = int(session.execute(stmt).scalar_one())
    return range(last - count + 1, last + 1)


def ticket_row(site: Site, service: Service, day: date, seq: int, at: datetime) -> dict[str, Any]:
    return {
        "site_id": site.id,
        "issued_service_id": service.id,
        "service_id": service.id,
        "business_day": day,
        "seq": seq,
        "number": numbering.format_number(service, seq),
        "status": WAITING,
        "channel": "kiosk",
        "sort_key": sort_key_at(at),
        "issued_at": at,
        "recall_count": 0,
        "tracking_token": secrets.token_urlsafe(16),
    }


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (i < total % parts) for i in range(parts)]


def insert_tickets(session: Session, rows: list[dict[str, Any]], issued_events: bool) -> None:
    for start in range(0, len(rows), 5_000):
        chunk = rows[start : start + 5_000]
        ids = session.execute(insert(Ticket).returning(Ticket.id), chunk).scalars().all()
        if not issued_events:
            continue
        session.execute(
            insert(TicketEvent),
            [
                {
                    "site_id": row["site_id"],
                    "ticket_id": ticket_id,
                    "kind": "issued",
                    "to_status": WAITING,
                    "actor": "bench",
                    "at": row["issued_at"],
                    "data": {"channel": "kiosk", "seeded": True},
                }
                for ticket_id, row in zip(ids, chunk, strict=True)
            ],
        )


def seed_waiting(database_url: str, target: int) -> int:
    """Top the day's waiting queue up to ``target`` tickets, straight into the database.

    The model is kept: numbers come from the same daily_sequences row the
    engine bumps (one upsert per service, +k at once, in the same write
    transaction as the ticket inserts), every ticket gets its 'issued' event
    row, and the site's ``seq`` moves on so connected displays would resync.
    """
    db = Database(database_url)
    try:
        with db.writes() as session:
            site = site_by_code(session, SITE)
            now = datetime.now(UTC)
            day = business_day(now, site.timezone)
            waiting = int(
                session.execute(
                    select(func.count()).where(
                        Ticket.site_id == site.id,
                        Ticket.business_day == day,
                        Ticket.status == WAITING,
                    )
                ).scalar_one()
            )
            if target <= waiting:
                return waiting
            services = [s for s in site.services if s.code in ISSUE_SERVICES]
            rows = []
            for service, share in zip(
                services, split(target - waiting, len(services)), strict=True
            ):
                for seq in take_numbers(session, site, service, day, share):
                    rows.append(ticket_row(site, service, day, seq, now))
            # Interleave the services in issue order, as a real morning would.
            rows.sort(key=lambda r: (r["seq"], r["service_id"]))
            for offset, row in enumerate(rows):
                row["sort_key"] += offset
            insert_tickets(session, rows, issued_events=True)
            session.execute(update(Site).where(Site.id == site.id).values(seq=Site.seq + 1))
            session.commit()
            return waiting + len(rows)
    finally:
        db.dispose()


def seed_history(database_url: str, target: int, per_day: int) -> int:
    """Add served tickets on past business days until ``target`` exist, ``per_day`` a day.

    Each past day gets its own daily_sequences rows; tickets are done, with a
    call and a finish a few minutes apart, served at counter 5 (which serves
    every queue).  No event rows: nothing measured here reads them.
    """
    db = Database(database_url)
    try:
        with db.writes() as session:
            site = site_by_code(session, SITE)
            today = business_day(datetime.now(UTC), site.timezone)
            have = int(
                session.execute(
                    select(func.count()).where(
                        Ticket.site_id == site.id, Ticket.business_day < today
                    )
                ).scalar_one()
            )
            counter_id = session.execute(
                select(Counter.id).where(Counter.site_id == site.id, Counter.number == 5)
            ).scalar_one()
            services = [s for s in site.services if s.code in ISSUE_SERVICES]
            days_back = have // per_day + 1
            while have < target:
                day = today - timedelta(days=days_back)
                opened = datetime.combine(day, datetime.min.time(), ZoneInfo(site.timezone))
                opened = opened.replace(hour=7, minute=30).astimezone(UTC)
                rows = []
                count = min(per_day, target - have)
                for service, share in zip(services, split(count, len(services)), strict=True):
                    for seq in take_numbers(session, site, service, day, share):
                        issued = opened + timedelta(seconds=30 * seq)
                        row = ticket_row(site, service, day, seq, issued)
                        row.update(
                            status=DONE,
                            counter_id=counter_id,
                            called_at=issued + timedelta(minutes=10),
                            started_at=issued + timedelta(minutes=11),
                            finished_at=issued + timedelta(minutes=16),
                        )
                        rows.append(row)
                insert_tickets(session, rows, issued_events=False)
                have += len(rows)
                days_back += 1
            session.commit()
            return have
    finally:
        db.dispose()


# --- 5: call-next as the day's queue grows ------------------------------------------------


def depth_section(server: Server, plan: Plan) -> list[dict[str, Any]]:
    rows = []
    for size in plan.depth_sizes:
        started = time.perf_counter()
        waiting = seed_waiting(server.database_url, size)
        seeded_s = time.perf_counter() - started
        # A few untimed calls warm the query plans and the server's caches.
        with requests.Session() as http:
            for counter in COUNTERS:
                call_next_once(http, server, counter)
        calls = call_next_load(server, plan.depth_calls, plan.phase_deadline_s)
        rows.append(
            {
                "waiting": waiting,
                "seed_s": round(seeded_s, 2),
                "call_next": calls,
                "issue": issue_series(server, plan.depth_issues),
            }
        )
        log(f"depth {waiting}: call-next p50 {calls['p50_ms']} ms, p99 {calls['p99_ms']} ms")
    return rows


def issue_series(server: Server, count: int) -> dict[str, Any]:
    cpu_before = cpu_now(server)
    with requests.Session() as http:
        latencies = [issue_one(http, server, i) for i in range(count)]
    return {**latency_summary(latencies), **cpu_per_op(server, cpu_before, count)}


# --- 6: the days kept for reports -------------------------------------------------------------


def services_series(server: Server, count: int) -> dict[str, Any]:
    """GET /services, what a kiosk page reads to show each queue's wait."""
    cpu_before = cpu_now(server)
    latencies = []
    with requests.Session() as http:
        for _ in range(count):
            started = time.perf_counter()
            response = http.get(
                server.url("/services"), headers=auth(server.kiosk), timeout=REQUEST_TIMEOUT_S
            )
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
    return {**latency_summary(latencies), **cpu_per_op(server, cpu_before, count)}


async def connect_series(server: Server, count: int) -> dict[str, Any]:
    """One display at a time: connect, receive the ``state`` snapshot, leave."""
    cpu_before = cpu_now(server)
    latencies = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        audience = Audience(server, http)
        for _ in range(count):
            started = time.perf_counter()
            client = await audience.connect_one()
            latencies.append(time.perf_counter() - started)
            await client.disconnect()
    return {**latency_summary(latencies), **cpu_per_op(server, cpu_before, count)}


def history_section(server: Server, plan: Plan) -> list[dict[str, Any]]:
    seed_waiting(server.database_url, plan.history_waiting)
    rows = []
    for size in plan.history_sizes:
        started = time.perf_counter()
        kept = seed_history(server.database_url, size, plan.history_per_day)
        seeded_s = time.perf_counter() - started
        # Untimed warm-up: the server's statement caches, the database's pages.
        issue_series(server, 5)
        services_series(server, 3)
        asyncio.run(connect_series(server, 2))
        row = {
            "past_tickets": kept,
            "seed_s": round(seeded_s, 2),
            "issue": issue_series(server, plan.history_ops),
            "services": services_series(server, plan.history_ops),
            "connect": asyncio.run(connect_series(server, plan.history_ops)),
        }
        rows.append(row)
        log(
            f"history {kept}: issue p50 {row['issue']['p50_ms']} ms, "
            f"connect p50 {row['connect']['p50_ms']} ms"
        )
    return rows


# --- the run ------------------------------------------------------------------------------


def main_sections(server: Server, plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {"rss_idle_start_mib": mib(server.rss())}
    log("issuing with 1 client")
    results["issue_1"] = issue_load(server, plan.issue_single, 1, plan.phase_deadline_s)
    log(f"issuing with {plan.concurrency} clients")
    results["issue_n"] = issue_load(
        server, plan.issue_concurrent, plan.concurrency, plan.phase_deadline_s
    )
    log("issuing on the kiosk page's endpoint with 1 client")
    results["issue_kiosk"] = issue_load(
        server, plan.issue_single, 1, plan.phase_deadline_s, path="kiosk"
    )
    results["waiting_after_issue"] = waiting_now(server)
    log("call-next, one clerk at a time")
    results["call_next"] = call_next_load(server, plan.call_next, plan.phase_deadline_s)
    time.sleep(1.0)
    results["rss_idle_mib"] = mib(server.rss())
    log("Socket.IO fan-out")
    results["fanout"] = asyncio.run(fanout_async(server, plan))
    return results


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    cells = [header] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title]
    for index, row in enumerate(cells):
        lines.append(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(results: dict[str, Any]) -> str:
    meta = results["meta"]
    load = meta.get("loadavg_1min", {})
    out = [
        f"xephang bench — {meta['backend']}, {meta['cpus']} CPUs shared by server and load "
        f"generator, {'quick' if meta['quick'] else 'full'} run, {meta['started']}",
        f"load average (1 min) at start {load.get('start')}, at end {load.get('end')}",
    ]
    if "main" in results:
        out += ["", report_main(results["main"])]
    if "depth" in results:
        out += ["", report_depth(results["depth"])]
    if "history" in results:
        out += ["", report_history(results["history"])]
    return "\n".join(out)


def report_main(main: dict[str, Any]) -> str:
    out = []
    issue_rows = []
    for key in ("issue_1", "issue_n", "issue_kiosk"):
        if key not in main:
            continue
        r = main[key]
        lat = r["latency"]
        issue_rows.append(
            [
                r.get("path", "api"),
                r["clients"],
                r["tickets"],
                r["tickets_per_s"],
                lat["p50_ms"],
                lat["p99_ms"],
                r["server_cpu_ms_per_op"],
                r.get("client_cpu_ms_per_op"),
            ]
        )
    out.append(
        table(
            "1-2. issue: POST /api/v1/sites/demo/tickets (api), POST /kiosk/api/tickets (kiosk)",
            [
                "path",
                "clients",
                "tickets",
                "tickets/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms/ticket",
                "client CPU ms",
            ],
            issue_rows,
        )
    )
    cn = main["call_next"]
    out += [
        "",
        table(
            f"2. POST /counters/{{1-5}}/call-next, one clerk at a time "
            f"({main['waiting_after_issue']:,} waiting at start)",
            [
                "calls",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "server CPU ms/call",
                "client CPU ms",
            ],
            [
                [
                    cn["n"],
                    cn["p50_ms"],
                    cn["p90_ms"],
                    cn["p99_ms"],
                    cn["max_ms"],
                    cn["server_cpu_ms_per_op"],
                    cn.get("client_cpu_ms_per_op"),
                ]
            ],
        ),
    ]
    fan = main["fanout"]
    fan_rows = []
    for r in fan["sizes"]:
        fan_rows.append(
            [
                r["clients"],
                r["calls"],
                r["call_next_http"]["p50_ms"],
                r["last_client"]["p50_ms"],
                r["last_client"]["p99_ms"],
                r["per_client"]["p50_ms"],
                r["per_client"]["p99_ms"],
                r["missed_deliveries"],
                r["server_cpu_ms_per_call"],
                r["bench_cpu_ms_per_call"],
                r["connect_s"],
            ]
        )
    out += [
        "",
        table(
            "3. call-next sent -> ticket.called received (Socket.IO, websocket)",
            [
                "clients",
                "calls",
                "http p50",
                "last p50 ms",
                "last p99 ms",
                "each p50 ms",
                "each p99 ms",
                "missed",
                "srv CPU ms",
                "bench CPU ms",
                "connect s",
            ],
            fan_rows,
        ),
    ]
    mem_rows = [
        ["at start, idle", main["rss_idle_start_mib"]],
        ["after HTTP sections, idle", main["rss_idle_mib"]],
    ]
    mem_rows += [
        [f"{r['clients']} clients connected", r["rss_connected_mib"]] for r in fan["sizes"]
    ]
    mem_rows.append(["after clients left", fan["rss_after_disconnect_mib"]])
    out += ["", table("4. server resident memory (RSS)", ["when", "MiB"], mem_rows)]
    return "\n".join(out)


def report_depth(depth: list[dict[str, Any]]) -> str:
    depth_rows = [
        [
            r["waiting"],
            r["call_next"]["n"],
            r["call_next"]["p50_ms"],
            r["call_next"]["p99_ms"],
            r["call_next"]["server_cpu_ms_per_op"],
            r["issue"]["p50_ms"],
            r["issue"]["p99_ms"],
            r["issue"]["server_cpu_ms_per_op"],
            r["seed_s"],
        ]
        for r in depth
    ]
    return "\n".join(
        [
            table(
                "5. latency as the day's waiting queue grows (fresh database)",
                [
                    "waiting",
                    "calls",
                    "call p50 ms",
                    "call p99 ms",
                    "call CPU ms",
                    "issue p50",
                    "issue p99",
                    "issue CPU ms",
                    "seed s",
                ],
                depth_rows,
            )
        ]
    )


def report_history(history: list[dict[str, Any]]) -> str:
    history_rows = [
        [
            r["past_tickets"],
            r["issue"]["p50_ms"],
            r["issue"]["server_cpu_ms_per_op"],
            r["services"]["p50_ms"],
            r["services"]["server_cpu_ms_per_op"],
            r["connect"]["p50_ms"],
            r["connect"]["server_cpu_ms_per_op"],
            r["seed_s"],
        ]
        for r in history
    ]
    return "\n".join(
        [
            table(
                "6. tickets of past days kept for reports (fresh database, ~100 waiting today)",
                [
                    "past tickets",
                    "issue p50",
                    "issue CPU ms",
                    "services p50",
                    "services CPU",
                    "connect p50",
                    "connect CPU",
                    "seed s",
                ],
                history_rows,
            )
        ]
    )


SECTIONS: dict[str, Callable[[Server, Plan], Any]] = {
    "main": main_sections,
    "depth": depth_section,
    "history": history_section,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a database for the bench to create and drop (it must not exist); siblings "
        "'<name>_depth' and '<name>_history' are made for sections 5 and 6. "
        "Default: SQLite in a temp dir",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"scratch PostgreSQL databases on {DEFAULT_PG_ADMIN.rsplit('/', 1)[0]}",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    parser.add_argument(
        "--sections",
        default=",".join(["statements", *SECTIONS]),
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
        help="which to run, of: statements (0), main (1-4), depth (5), history (6); default all",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the temp dir with server logs"
    )
    return parser.parse_args(argv)


def raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = QUICK if args.quick else Plan()
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="xephang-bench-"))
    scratch = Scratch()
    failed = True
    try:
        urls = dict(zip(SECTIONS, scratch_databases(args, scratch, tmp), strict=True))
        backend = make_url(urls["main"]).get_backend_name()
        results: dict[str, Any] = {
            "meta": {
                "backend": backend,
                "cpus": os.cpu_count(),
                "quick": args.quick,
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
                "loadavg_1min": {"start": round(os.getloadavg()[0], 2)},
                "plan": plan.__dict__,
            }
        }
        for name, measure in SECTIONS.items():
            if name not in args.sections:
                continue
            log(f"{name} section on {make_url(urls[name]).render_as_string()}")
            with running(urls[name], tmp) as server:
                results[name] = measure(server, plan)
        results["meta"]["loadavg_1min"]["end"] = round(os.getloadavg()[0], 2)
        failed = False
        return results
    finally:
        scratch.drop()
        if args.keep_logs or (failed and any(tmp.glob("server-*.log"))):
            log(f"server logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def statements_section(args: argparse.Namespace) -> dict[str, Any]:
    """Section 0: SQL statements per request of each hot path (bench/bench_statements.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_statements

    postgres = bool(args.postgres or (args.database_url and "postgresql" in args.database_url))
    with bench_statements.scratch_database(postgres) as url:
        return bench_statements.measure(url, rounds=20, show=False)


def report_statements(figures: dict[str, Any]) -> str:
    rows = [[name, r["statements"], r["max"], r["begin"]] for name, r in figures.items()]
    return table(
        "0. SQL statements per request (before_cursor_execute, BEGIN apart)",
        ["path", "mean", "max", "BEGIN"],
        rows,
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS) - {"statements"}
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    statements = statements_section(args) if "statements" in args.sections else None
    results = run(args)
    if statements is not None:
        results["statements"] = statements
        print(report_statements(statements))
    print(report(results))
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
