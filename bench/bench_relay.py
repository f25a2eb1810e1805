"""Benchmark of citizens' phones reaching a center through the hub (``/r/<site>/…``).

Not a test: it prints figures. A hub of two `xephang serve` processes (``XEPHANG_ROLE=hub``,
a scratch PostgreSQL database, Redis) and one site server (SQLite, the demo center,
joined to the first hub process, whose relay worker polls it) are started. Tickets are
issued at the site; then phones (``--phones`` threads spread over ``--processes``
processes, half of them on each hub process) poll their ticket's snapshot through the
hub (``/r/demo/t/<token>/live``, what a relayed page does every 5 s) as fast as they
get answers, for ``--seconds``. The same is measured straight at the site server for
comparison. Printed: requests per second, latency p50 / p99, and CPU ms per request of
the hub's processes, of the site server and of the clients (from /proc through psutil).

    .venv/bin/python bench/bench_relay.py
    .venv/bin/python bench/bench_relay.py --phones 16 --seconds 10
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
import requests  # noqa: E402
from bench_hub import Hub  # noqa: E402
from bench_queue import (  # noqa: E402
    DEFAULT_PG_ADMIN,
    Scratch,
    free_port,
    latency_summary,
    log,
    new_postgres,
    new_sqlite,
)

XEPHANG = str(Path(sys.executable).with_name("xephang"))
REDIS = os.environ.get("XEPHANG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class Site:
    """The demo center on SQLite, joined to the hub, serving on a free port."""

    def __init__(self, workdir: Path, url: str, hub: Hub) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("XEPHANG_")}
        self.env.update(XEPHANG_DATABASE_URL=url, XEPHANG_SECRET_KEY="bench-site")
        self.workdir = workdir
        self.run("init", "--demo")
        self.kiosk = self.run("token", "create", "--site", "demo", "--role", "kiosk").split()[-1]
        hub_run = subprocess.run(
            [XEPHANG, "hub", "code", "--site", "demo"],
            env=hub.env,
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
        self.run("hub", "join", "--hub", hub.urls[0], "--code", hub_run.stdout.split()[-1])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [XEPHANG, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=workdir,
            stdout=(workdir / "site.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url + "/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the site server did not start")
            time.sleep(0.2)

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [XEPHANG, *args],
            env=self.env,
            cwd=self.workdir,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def issue(self, count: int) -> list[str]:
        tokens = []
        for _ in range(count):
            answer = requests.post(
                f"{self.url}/api/v1/sites/demo/tickets",
                json={"service": "HT"},
                headers={"Authorization": f"Bearer {self.kiosk}"},
                timeout=30,
            )
            answer.raise_for_status()
            tokens.append(answer.json()["tracking_token"])
        return tokens

    def cpu_s(self) -> float:
        times = psutil.Process(self.proc.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def _phones(urls: list[str], seconds: float, threads: int, out: mp.Queue) -> None:
    """One client process: ``threads`` phones, each polling its own URL in a loop."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def phone(url: str) -> None:
        http = requests.Session()
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            try:
                ok = http.get(url, timeout=30).status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                mine.append(time.perf_counter() - start)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    cpu = time.process_time()
    pool = [threading.Thread(target=phone, args=(urls[i % len(urls)],)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put((latencies, errors[0], time.process_time() - cpu))


def measure(
    label: str, urls: list[str], seconds: float, phones: int, processes: int, cpu_of: dict
) -> None:
    queue: mp.Queue = mp.Queue()
    per = [urls[i::processes] for i in range(processes)]
    threads = max(1, phones // processes)
    before = {name: read() for name, read in cpu_of.items()}
    started = time.monotonic()
    procs = [
        mp.Process(target=_phones, args=(mine, seconds, threads, queue)) for mine in per if mine
    ]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join()
    wall = time.monotonic() - started
    after = {name: read() for name, read in cpu_of.items()}
    latencies = [x for r in results for x in r[0]]
    errors = sum(r[1] for r in results)
    client_cpu = sum(r[2] for r in results)
    done = len(latencies)
    summary = latency_summary(latencies)
    cpu = ", ".join(
        f"{name} {1000 * (after[name] - before[name]) / max(done, 1):.2f}" for name in cpu_of
    )
    log(
        f"{label}: {done / wall:.0f} requests/s ({done} in {wall:.1f} s, {errors} failed), "
        f"p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms; "
        f"CPU ms per request: {cpu}, clients {1000 * client_cpu / max(done, 1):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phones", type=int, default=12)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--pg", default=DEFAULT_PG_ADMIN)
    args = parser.parse_args()
    scratch = Scratch()
    hub = site = None
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as tmp:
        workdir = Path(tmp)
        try:
            hub_url = new_postgres(scratch, args.pg, f"bench_relay_{os.getpid()}")
            # One address here for every phone: the hub's limit per address is lifted.
            lifted = {"XEPHANG_RELAY_RATE_LIMIT": "1000000 per minute"}
            hub = Hub(workdir, hub_url, REDIS, processes=2, extra_env=lifted)
            site = Site(workdir, new_sqlite(scratch, workdir / "site.sqlite3"), hub)
            tokens = site.issue(args.tickets)
            relayed = [f"{hub.urls[i % 2]}/r/demo/t/{token}/live" for i, token in enumerate(tokens)]
            deadline = time.monotonic() + 60
            while requests.get(relayed[1], timeout=30).status_code != 200:
                if time.monotonic() > deadline:
                    raise SystemExit("the relay never answered")
                time.sleep(0.5)
            cpu_of = {"hub": hub.cpu_s, "site": site.cpu_s}
            log(f"{args.phones} phones in {args.processes} processes, {args.seconds:.0f} s each")
            direct = [f"{site.url}/t/{token}/live" for token in tokens]
            plan = (args.seconds, args.phones, args.processes, cpu_of)
            measure("straight to the site", direct, *plan)
            measure("through the hub (2 processes, Redis)", relayed, *plan)
            page = requests.get(relayed[0].removesuffix("/live"), timeout=30)
            log(f"the ticket's page through the hub: {page.status_code}, {len(page.content)} bytes")
        finally:
            if site is not None:
                site.stop()
            if hub is not None:
                hub.stop()
            scratch.drop()


if __name__ == "__main__":
    main()
