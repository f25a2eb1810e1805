"""Benchmark of site -> hub sync: a day's backlog of one provincial center, then 100 sites.

Not a test: it prints figures. A hub of two `xephang serve` processes (``XEPHANG_ROLE=hub``,
a scratch PostgreSQL database, Redis) is started on two ports; then

1. **a day's backlog**: one site (SQLite) plays a provincial center's day through the
   engine (5,000 tickets: issued, called, some recalled, started, finished, every other
   one rated; about 25,000 ticket events), joins the hub, and its sync worker (the one
   `xephang serve` runs, batches of 5,000) sends the whole outbox: the time it takes;
2. **100 sites at once**: that site's database is copied 100 times under other codes
   (``--sites``, ``--site-tickets`` tickets each), each gets its credential, and 100 sync
   workers (threads of this process, half of them on each hub process) send their
   backlogs at once: entries per second in all, and each site's lag (from the start to
   the moment the hub held its last entry).

    .venv/bin/python bench/bench_hub.py
    .venv/bin/python bench/bench_hub.py --quick          # 300 tickets, 10 sites
    .venv/bin/python bench/bench_hub.py --day /tmp/day.sqlite3   # play the day once, reuse it

The site has joined the hub before the day (``sites.sends_to_hub``: its outbox is
written with each change, as on a day the line is cut).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from bench_queue import DEFAULT_PG_ADMIN, Scratch, log, new_postgres  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from server import engine  # noqa: E402
from server.db import Database  # noqa: E402
from server.demo import seed_demo  # noqa: E402
from server.engine import UnitOfWork  # noqa: E402
from server.hub.credentials import digest, register_site  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import HubLink, HubSite, OutboxEntry, Site, TicketEvent  # noqa: E402
from server.sync.worker import SyncWorker  # noqa: E402

XEPHANG = str(Path(sys.executable).with_name("xephang"))
SERVICES = ("HT", "CT", "DD", "TP", "LD")


class Clock:
    def __init__(self) -> None:
        day = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(
            hour=7, minute=30, second=0, microsecond=0
        )
        self.now = day - timedelta(days=1)

    def __call__(self) -> datetime:
        return self.now


def play_day(url: str, code: str, tickets: int) -> None:
    """A day of ``tickets`` tickets at five counters, through the engine."""
    db = Database(url)
    upgrade(db.engine)
    with db.writes() as session:
        seed_demo(session)
        session.execute(
            text("UPDATE sites SET code = :c, sends_to_hub = :on WHERE code = 'demo'"),
            {"c": code, "on": True},
        )
        session.commit()
    clock = Clock()
    step = timedelta(seconds=max(1.0, 9 * 3600 / (tickets * 5)))

    def uow() -> UnitOfWork:
        clock.now += step
        return UnitOfWork(db.writes, clock=clock)

    for n in range(tickets):
        counter = n % 5 + 1
        engine.issue_ticket(uow(), code, SERVICES[counter - 1] if counter < 5 else "TKQ")
        engine.call_next(uow(), code, counter)
        if n % 4 == 0:
            engine.recall(uow(), code, counter)
        engine.start(uow(), code, counter)
        finished = engine.finish(uow(), code, counter)
        if n % 2 == 0:
            engine.rate_ticket(uow(), code, counter, finished["id"], 4)
    db.dispose()


class Hub:
    def __init__(
        self,
        workdir: Path,
        url: str,
        redis_url: str,
        processes: int,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("XEPHANG_")}
        self.env.update(
            XEPHANG_DATABASE_URL=url,
            XEPHANG_REDIS_URL=redis_url,
            XEPHANG_REDIS_CHANNEL=f"bench-hub-{uuid.uuid4().hex[:6]}",
            XEPHANG_SECRET_KEY="bench",
            XEPHANG_ROLE="hub",
            **(extra_env or {}),
        )
        subprocess.run(
            [XEPHANG, "init"], env=self.env, cwd=workdir, check=True, capture_output=True
        )
        self.urls: list[str] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        for index in range(processes):
            port = 18600 + index + (os.getpid() % 200) * 4
            log_file = (workdir / f"hub-{index}.log").open("w")
            self.procs.append(
                subprocess.Popen(
                    [XEPHANG, "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=self.env,
                    cwd=workdir,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            )
            self.urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        for url_ in self.urls:
            while True:
                try:
                    if requests.get(url_ + "/healthz", timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"hub at {url_} did not start")
                time.sleep(0.2)

    def cpu_s(self) -> float:
        """CPU seconds the hub's processes used so far (user + system)."""
        import psutil

        total = 0.0
        for proc in self.procs:
            times = psutil.Process(proc.pid).cpu_times()
            total += times.user + times.system
        return total

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=20)


def link(site_url: str, hub_db: Database, code: str, hub_url: str) -> int:
    """Register ``code`` at the hub and give the site its credential (the join, minus HTTP:
    the hub's join route is rate-limited per address, as it should be)."""
    with hub_db.writes() as session:
        site, _ = register_site(session, code, None, datetime.now().astimezone())
        credential = f"bench-{uuid.uuid4().hex}"
        hub_site = session.get(HubSite, site.id)
        assert hub_site is not None
        hub_site.credential_hash = digest(credential)
        session.commit()
    db = Database(site_url)
    with db.writes() as session:
        site_id = session.scalars(select(Site.id)).one()
        session.add(
            HubLink(
                site_id=site_id,
                hub_url=hub_url,
                credential=credential,
                managed="local",
                acked_seq=0,
                joined_at=datetime.now().astimezone(),
            )
        )
        session.commit()
        total = int(session.scalar(select(func.count()).select_from(OutboxEntry)))
    db.dispose()
    return total


def drain(site_url: str) -> tuple[int, float]:
    db = Database(site_url)
    worker = SyncWorker(db, lambda: datetime.now().astimezone())
    started = time.perf_counter()
    sent = 0
    while True:
        result = worker.step()
        if result.failed:
            time.sleep(0.2)
            continue
        sent += result.sent
        if result.sent == 0:
            break
    db.dispose()
    return sent, time.perf_counter() - started


def report_times(hub_db: Database, codes: list[str], site_url: str | None = None) -> str:
    """Seconds for the hub's report of yesterday across ``codes`` (replayed from what it
    received), beside the site's own report of that day (``site_url``: one site)."""
    from server import reports
    from server.hub.reports import hub_reports, received_sites

    day = Clock().now.date()
    period = reports.Period(day, day)
    now = datetime.now().astimezone()
    with hub_db.reads() as session:
        ids = list(session.scalars(select(Site.id).where(Site.code.in_(codes))))
        chosen = received_sites(session, ids)
        assert chosen is not None
        started = time.perf_counter()
        made = hub_reports(session, chosen, period, ("service",), now)
        took = time.perf_counter() - started
    line = (
        f"hub's report of the day across {len(codes)} site(s): {took:.2f} s "
        f"({made['service']['total']['served']} served)"
    )
    if site_url is not None:
        db = Database(site_url)
        with db.reads() as session:
            started = time.perf_counter()
            own = reports.site_report(session, [session.scalars(select(Site.id)).one()], period)
            line += f"; the site's own: {time.perf_counter() - started:.2f} s"
            assert own["total"] == made["service"]["total"], "the hub's report differs"
        db.dispose()
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--site-tickets", type=int, default=60)
    parser.add_argument("--hub-processes", type=int, default=2)
    parser.add_argument("--pg", default=DEFAULT_PG_ADMIN)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--day", type=Path, help="the played day's file: made if missing, reused")
    args = parser.parse_args()
    if args.quick:
        args.tickets, args.sites, args.site_tickets = 300, 10, 30
    scratch = Scratch()
    workdir = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    hub = None
    try:
        hub_url = new_postgres(scratch, args.pg, f"bench_hub_{uuid.uuid4().hex[:8]}")
        hub = Hub(workdir, hub_url, args.redis, args.hub_processes)
        hub_db = Database(hub_url)

        log(f"playing a day of {args.tickets} tickets at the site")
        day_file = workdir / "day.sqlite3"
        if args.day is not None and args.day.exists():
            shutil.copy(args.day, day_file)
            log(f"the day from {args.day}")
        else:
            started = time.perf_counter()
            play_day(f"sqlite:///{day_file}", "tinh", args.tickets)
            log(f"played in {time.perf_counter() - started:.1f} s")
            if args.day is not None:
                shutil.copy(day_file, args.day)
        pristine = workdir / "day-pristine.sqlite3"
        shutil.copy(day_file, pristine)
        site_url = f"sqlite:///{day_file}"
        db = Database(site_url)
        with db.reads() as session:
            events = int(session.scalar(select(func.count()).select_from(TicketEvent)))
        db.dispose()
        entries = link(site_url, hub_db, "tinh", hub.urls[0])
        hub_cpu, site_cpu = hub.cpu_s(), time.process_time()
        sent, took = drain(site_url)
        hub_cpu, site_cpu = hub.cpu_s() - hub_cpu, time.process_time() - site_cpu
        assert sent == entries, (sent, entries)
        print(
            f"day's backlog: {args.tickets} tickets, {events} ticket events, "
            f"{entries} outbox entries -> hub in {took:.1f} s "
            f"({entries / took:,.0f} entries/s, {events / took:,.0f} ticket events/s); "
            f"CPU: hub {hub_cpu:.1f} s, sender {site_cpu:.1f} s"
        )
        print(report_times(hub_db, ["tinh"], site_url))

        log(f"{args.sites} sites of {args.site_tickets} tickets each")
        small = workdir / "small.sqlite3"
        play_day(f"sqlite:///{small}", "mau", args.site_tickets)
        urls = []
        total = 0
        for n in range(args.sites):
            path = workdir / f"site-{n:03}.sqlite3"
            shutil.copy(small, path)
            url = f"sqlite:///{path}"
            code = f"xa-{n:03}"
            sdb = Database(url)
            with sdb.writes() as session:
                session.execute(text("UPDATE sites SET code = :c"), {"c": code})
                session.commit()
            sdb.dispose()
            total += link(url, hub_db, code, hub.urls[n % len(hub.urls)])
            urls.append(url)
        lags: list[float] = []
        lock = threading.Lock()
        go = threading.Event()

        def run(url: str) -> None:
            go.wait()
            _, took_ = drain(url)
            with lock:
                lags.append(took_)

        threads = [threading.Thread(target=run, args=(u,)) for u in urls]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        hub_cpu, site_cpu = hub.cpu_s(), time.process_time()
        go.set()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        hub_cpu, site_cpu = hub.cpu_s() - hub_cpu, time.process_time() - site_cpu
        with hub_db.reads() as session:
            held = int(
                session.scalar(
                    select(func.count()).select_from(
                        __import__("server.models", fromlist=["HubEvent"]).HubEvent
                    )
                )
            )
        print(
            f"{args.sites} sites at once into {len(hub.urls)} hub processes: {total} entries "
            f"in {wall:.1f} s ({total / wall:,.0f} entries/s); lag per site "
            f"median {statistics.median(lags):.1f} s, max {max(lags):.1f} s; "
            f"hub holds {held} entries; CPU: hub {hub_cpu:.1f} s, senders {site_cpu:.1f} s"
        )
        print(report_times(hub_db, [f"xa-{n:03}" for n in range(min(10, args.sites))]))
        print(report_times(hub_db, [f"xa-{n:03}" for n in range(args.sites)]))
        hub_db.dispose()
    finally:
        if hub is not None:
            hub.stop()
        scratch.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
