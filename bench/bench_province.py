"""Benchmark: a province on one deployment — 100 sites, one and then two server processes.

Not a test: it prints figures. A scratch PostgreSQL database gets 100 sites (3 services,
3 counters each, a kiosk, a display and a clerk token per counter); then, for one and
for two ``xephang serve`` processes sharing that database and a Redis message queue:

- load workers (processes, each a few threads with keep-alive sessions) go round their
  sites: two tickets issued through the API, one call-next, for ``--seconds``; with two
  servers each request goes to either, in turn;
- one display per site listens (in listener processes; with two servers half the
  displays are on each), recording the ``seq`` of every event it receives;
- afterwards: tickets/s and calls/s, the servers' CPU ms per operation (``/proc``, via
  psutil) beside the load workers' and listeners' CPU, duplicate numbers (a query), and
  for every site whether its display received every ``seq`` from its snapshot to the
  site's last, no gap.

    .venv/bin/python bench/bench_province.py                 # 100 sites, 40 s per run
    .venv/bin/python bench/bench_province.py --quick         # 10 sites, 10 s per run
    .venv/bin/python bench/bench_province.py --sites 100 --seconds 60 --load-processes 4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil
import requests
import socketio
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_queue import (  # noqa: E402  (the bench's own helpers, beside this file)
    DEFAULT_PG_ADMIN,
    HOST,
    SERVER_START_TIMEOUT_S,
    Scratch,
    free_port,
    log,
    new_postgres,
    raise_fd_limit,
    xephang_command,
)

from server.db import Database  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Counter, CounterService, Service, Site, Ticket  # noqa: E402
from server.tokens import create_token  # noqa: E402

SERVICES = (("HT", "Hộ tịch", "A"), ("CT", "Chứng thực", "B"), ("DD", "Đất đai", "C"))
COUNTERS = (1, 2, 3)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class Plan:
    sites: int = 100
    seconds: float = 40.0
    load_processes: int = 3
    threads_per_process: int = 4
    listen_processes: int = 2


# --- the scratch province ------------------------------------------------------------------


def seed(url: str, sites: int) -> list[dict[str, Any]]:
    """``sites`` sites with their services, counters and device tokens."""
    db = Database(url)
    upgrade(db.engine)
    made = []
    with db.writes() as session:
        for i in range(sites):
            site = Site(code=f"xa{i:03d}", name=f"UBND xã {i:03d}", timezone="Asia/Ho_Chi_Minh")
            session.add(site)
            session.flush()
            services = []
            for order, (code, name, prefix) in enumerate(SERVICES):
                service = Service(
                    site_id=site.id, code=code, name=name, sort_order=order, number_prefix=prefix
                )
                session.add(service)
                services.append(service)
            session.flush()
            for number in COUNTERS:
                counter = Counter(site_id=site.id, number=number, name=f"Quầy {number}")
                counter.service_links = [
                    CounterService(service_id=s.id, weight=10) for s in services
                ]
                session.add(counter)
            session.commit()
        for i in range(sites):
            code = f"xa{i:03d}"
            made.append(
                {
                    "code": code,
                    "kiosk": create_token(session, code, "kiosk", label="bench"),
                    "display": create_token(session, code, "display", label="bench"),
                    "clerks": {
                        n: create_token(session, code, "clerk", counter=n) for n in COUNTERS
                    },
                }
            )
    db.dispose()
    return made


def site_facts(url: str) -> dict[str, Any]:
    """Each site's last ``seq``, the tickets, and numbers given twice on one day."""
    db = Database(url)
    try:
        with db.reads() as session:
            seqs = dict(session.execute(select(Site.code, Site.seq)).all())
            tickets = session.execute(select(func.count(Ticket.id))).scalar_one()
            twice = session.execute(
                select(func.count()).select_from(
                    select(Ticket.site_id, Ticket.business_day, Ticket.number)
                    .group_by(Ticket.site_id, Ticket.business_day, Ticket.number)
                    .having(func.count(Ticket.id) > 1)
                    .subquery()
                )
            ).scalar_one()
    finally:
        db.dispose()
    return {"seq": seqs, "tickets": tickets, "numbers_given_twice": twice}


class Servers:
    """``count`` ``xephang serve`` processes on one database and one Redis channel."""

    def __init__(self, url: str, count: int, workdir: Path) -> None:
        channel = f"xephang-bench-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "XEPHANG_DATABASE_URL": url,
            "XEPHANG_SECRET_KEY": secrets.token_hex(32),
            "XEPHANG_REDIS_URL": REDIS,
            "XEPHANG_REDIS_CHANNEL": channel,
        }
        self.bases: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        for _ in range(count):
            port = free_port()
            out = (workdir / f"serve-{port}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    [xephang_command(), "serve", "--host", HOST, "--port", str(port)],
                    env=self.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
            self.bases.append(f"http://{HOST}:{port}")
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        for base in self.bases:
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{base}/healthz", timeout=1).ok:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} did not start")
                time.sleep(0.2)

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.procs:
            times = psutil.Process(proc.pid).cpu_times()
            total += times.user + times.system
        return total

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def database_cpu_seconds() -> float:
    """CPU of every PostgreSQL process on this machine (the bench's database is one of them)."""
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("postgres", "postmaster"):
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
    return total


# --- load workers: tickets and calls ------------------------------------------------------


def load_main(bases: list[str], sites: list[dict[str, Any]], plan: Plan, out: Connection) -> None:
    """Threads going round this worker's sites until the time is up; counts what they did."""
    stop_at = time.monotonic() + plan.seconds
    lock = threading.Lock()
    done = {"issued": 0, "called": 0, "empty": 0, "errors": 0, "latency": []}

    def thread(mine: list[dict[str, Any]], offset: int) -> None:
        turn = offset
        with requests.Session() as http:
            while time.monotonic() < stop_at:
                for site in mine:
                    for step in range(3):
                        base = bases[turn % len(bases)]
                        turn += 1
                        began = time.perf_counter()
                        if step < 2:
                            service = SERVICES[(turn + step) % len(SERVICES)][0]
                            r = http.post(
                                f"{base}/api/v1/sites/{site['code']}/tickets",
                                json={"service": service},
                                headers={"Authorization": f"Bearer {site['kiosk']}"},
                                timeout=30,
                            )
                            kind = "issued" if r.status_code == 201 else "errors"
                        else:
                            counter = COUNTERS[turn % len(COUNTERS)]
                            r = http.post(
                                f"{base}/api/v1/sites/{site['code']}/counters/{counter}/call-next",
                                headers={"Authorization": f"Bearer {site['clerks'][counter]}"},
                                timeout=30,
                            )
                            kind = (
                                "called"
                                if r.status_code == 200
                                else "empty"
                                if r.status_code == 409
                                else "errors"
                            )
                        with lock:
                            done[kind] += 1
                            done["latency"].append(time.perf_counter() - began)
                    if time.monotonic() >= stop_at:
                        break

    threads = [
        threading.Thread(target=thread, args=(sites[i :: plan.threads_per_process], i))
        for i in range(plan.threads_per_process)
    ]
    cpu = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done["cpu_s"] = time.process_time() - cpu
    out.send(done)


# --- listeners: one display per site, every seq it receives -----------------------------------


def listen_main(pairs: list[tuple[str, str, str]], pipe: Connection) -> None:
    """``pairs`` = (server base, site code, display token); answers with the seqs seen."""
    raise_fd_limit()

    async def run() -> None:
        seen: dict[str, dict[str, Any]] = {}
        clients = []
        for base, code, token in pairs:
            client = socketio.AsyncClient(reconnection=False)
            got = {"snapshot": None, "seqs": []}
            seen[code] = got
            ready = asyncio.Event()

            def on_state(
                data: dict[str, Any], got: dict[str, Any] = got, ready: Any = ready
            ) -> None:
                got["snapshot"] = data.get("seq")
                ready.set()

            def on_any(event: str, data: Any, got: dict[str, Any] = got) -> None:
                if isinstance(data, dict) and isinstance(data.get("seq"), int):
                    got["seqs"].append(data["seq"])

            client.on("state", on_state)
            client.on("*", on_any)
            await client.connect(base, transports=["websocket"], auth={"token": token})
            await asyncio.wait_for(ready.wait(), timeout=30)
            clients.append(client)
        cpu = time.process_time()
        pipe.send("ready")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.recv)  # "report", once the load is done
        await asyncio.sleep(2.0)  # the last events
        pipe.send({"seen": seen, "cpu_s": time.process_time() - cpu})
        for client in clients:
            with contextlib.suppress(Exception):
                await client.disconnect()

    asyncio.run(run())


def gaps(seen: dict[str, Any], last: int) -> int:
    """How many seqs between the snapshot's and the site's last the display did not get."""
    start = seen["snapshot"] or 0
    return len(set(range(start + 1, last + 1)) - set(seen["seqs"]))


# --- one run -------------------------------------------------------------------------------


def one_run(url: str, sites: list[dict[str, Any]], servers: int, plan: Plan, work: Path) -> dict:
    before = site_facts(url)
    deployment = Servers(url, servers, work)
    try:
        ctx = mp.get_context("spawn")
        listeners = []
        for i in range(plan.listen_processes):
            pairs = [
                (deployment.bases[j % servers], s["code"], s["display"])
                for j, s in enumerate(sites)
                if j % plan.listen_processes == i
            ]
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=listen_main, args=(pairs, theirs), daemon=True)
            proc.start()
            listeners.append((proc, mine))
        for _, pipe in listeners:
            if not pipe.poll(120) or pipe.recv() != "ready":
                raise RuntimeError("a listener did not connect")
        loads = []
        cpu_before = deployment.cpu_seconds()
        db_before = database_cpu_seconds()
        began = time.perf_counter()
        for i in range(plan.load_processes):
            mine, theirs = ctx.Pipe()
            part = sites[i :: plan.load_processes]
            proc = ctx.Process(target=load_main, args=(deployment.bases, part, plan, theirs))
            proc.start()
            loads.append((proc, mine))
        results = [pipe.recv() for _, pipe in loads]
        wall = time.perf_counter() - began
        server_cpu = deployment.cpu_seconds() - cpu_before
        database_cpu = database_cpu_seconds() - db_before
        for proc, _ in loads:
            proc.join()
        heard = []
        for _, pipe in listeners:
            pipe.send("report")
        for proc, pipe in listeners:
            heard.append(pipe.recv())
            proc.join(timeout=30)
    finally:
        deployment.stop()
    after = site_facts(url)
    issued = sum(r["issued"] for r in results)
    called = sum(r["called"] for r in results)
    ops = issued + called + sum(r["empty"] for r in results)
    latencies = sorted(x for r in results for x in r["latency"])
    seen = {code: s for part in heard for code, s in part["seen"].items()}
    missing = sum(gaps(seen[code], after["seq"][code]) for code in seen)
    return {
        "servers": servers,
        "seconds": round(wall, 1),
        "tickets_per_s": round(issued / wall, 1),
        "calls_per_s": round(called / wall, 1),
        "ops_per_s": round(ops / wall, 1),
        "errors": sum(r["errors"] for r in results),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1) if latencies else None,
        "server_cpu_ms_per_op": round(1000 * server_cpu / max(ops, 1), 2),
        "database_cpu_ms_per_op": round(1000 * database_cpu / max(ops, 1), 2),
        "cores_busy": round(
            (server_cpu + database_cpu + sum(r["cpu_s"] for r in results)) / wall, 2
        ),
        "load_cpu_ms_per_op": round(1000 * sum(r["cpu_s"] for r in results) / max(ops, 1), 2),
        "listener_cpu_ms_per_op": round(1000 * sum(p["cpu_s"] for p in heard) / max(ops, 1), 2),
        "events_missed_by_displays": missing,
        "events": sum(after["seq"].values()) - sum(before["seq"].values()),
        "numbers_given_twice": after["numbers_given_twice"],
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=Plan.sites)
    parser.add_argument("--seconds", type=float, default=Plan.seconds)
    parser.add_argument("--load-processes", type=int, default=Plan.load_processes)
    parser.add_argument(
        "--threads",
        type=int,
        default=Plan.threads_per_process,
        help="requests in flight per load process (closed loop: more than the servers can take "
        "keeps the servers, not the clients, the limit)",
    )
    parser.add_argument("--quick", action="store_true", help="10 sites, 10 s per run")
    args = parser.parse_args()
    plan = Plan(
        sites=args.sites,
        seconds=args.seconds,
        load_processes=args.load_processes,
        threads_per_process=args.threads,
    )
    if args.quick:
        plan = Plan(sites=10, seconds=10.0, load_processes=2, threads_per_process=2)
    raise_fd_limit()
    scratch = Scratch()
    work = Path(tempfile.mkdtemp(prefix="xephang-bench-province-"))
    try:
        url = new_postgres(scratch, DEFAULT_PG_ADMIN, f"xephang_province_{uuid.uuid4().hex[:8]}")
        log(f"seeding {plan.sites} sites")
        sites = seed(url, plan.sites)
        runs = []
        for servers in (1, 2):
            log(f"{servers} server process(es), {plan.seconds:.0f} s")
            runs.append(one_run(url, sites, servers, plan, work))
            log(json.dumps(runs[-1]))
    finally:
        scratch.drop()
    one, two = runs
    print(
        f"Province mix, PostgreSQL + Redis: {plan.sites} sites, {plan.load_processes} load "
        f"processes x {plan.threads_per_process} threads, {plan.listen_processes} listener "
        f"processes, {plan.seconds:.0f} s per run, {os.cpu_count()} CPUs"
    )
    rows = [k for k in one if k != "servers"]
    print(f"  {'':<28} {'1 process':>12} {'2 processes':>12}")
    for key in rows:
        print(f"  {key:<28} {one[key]!s:>12} {two[key]!s:>12}")
    ratio = two["tickets_per_s"] / one["tickets_per_s"] if one["tickets_per_s"] else 0
    print(f"  2 processes / 1 process, tickets/s: {ratio:.2f}x")
    print(json.dumps({"plan": plan.__dict__, "runs": runs, "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    main()
