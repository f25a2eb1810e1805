"""Benchmark: citizens' phones following their tickets, beside the lobby displays.

Not a test: it prints figures. One ``xephang serve`` (gevent) on a scratch database
(``xephang init --demo``), 127.0.0.1 only. The clients run in worker processes (each an
asyncio loop of python-socketio clients over websockets), so the load generator is spread
over the cores and its CPU is printed beside the server's.

1. 500 displays connect (``auth={"token": display}``); calls are made one at a time and
   the server's CPU and memory per call are measured: the baseline.
2. 2,000 phones connect, one per waiting ticket (``auth={"tracking_token": …}``); the same
   calls again. For each call: from the call-next request to the ``ticket.updated``
   (action ``called``) at the called citizen's phone, and to the last display; the extra
   server CPU per call and memory per phone against the baseline.

Every phone also counts what it got: a ``ticket.updated`` of another ticket would be a leak
(the figure must be 0).

    .venv/bin/python bench/bench_phone.py              # SQLite in a temp dir
    .venv/bin/python bench/bench_phone.py --postgres   # a scratch PostgreSQL database
    .venv/bin/python bench/bench_phone.py --quick      # 100 phones, 20 displays
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import requests
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_queue import (  # noqa: E402  (the bench's own helpers, beside this file)
    COUNTERS,
    ISSUE_SERVICES,
    Scratch,
    Server,
    auth,
    latency_summary,
    log,
    mib,
    raise_fd_limit,
    running,
    scratch_databases,
)

REQUEST_TIMEOUT_S = 30


@dataclass(frozen=True)
class Plan:
    phones: int = 2000
    displays: int = 500
    workers: int = 4
    calls: int = 40
    call_gap_s: float = 1.0  # between calls: every client has had the last one by then
    connect_batch: int = 50
    settle_s: float = 3.0


QUICK = Plan(phones=100, displays=20, workers=2, calls=10, call_gap_s=0.5)


# --- the worker processes: many Socket.IO clients in one asyncio loop each -------------------


class Clients:
    """One worker's displays and phones, and what reached them (wall-clock times)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http: aiohttp.ClientSession | None = None
        self.clients: list[socketio.AsyncClient] = []
        self.phone_called: dict[int, float] = {}  # ticket id -> its phone heard "called"
        self.display_called: dict[int, list[float]] = {}
        self.foreign = 0  # a ticket.updated about another ticket than the phone's own
        self.phone_messages = 0
        self.cpu_mark = time.process_time()

    async def session(self) -> aiohttp.ClientSession:
        if self.http is None:
            self.http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            )
        return self.http

    async def _connect(self, auth_data: dict[str, Any], first: str, on: dict[str, Any]) -> None:
        client = socketio.AsyncClient(reconnection=False, http_session=await self.session())
        ready = asyncio.Event()
        client.on(first, lambda _data: ready.set())
        for name, handler in on.items():
            client.on(name, handler)
        await client.connect(self.base, transports=["websocket"], auth=auth_data, wait_timeout=60)
        await asyncio.wait_for(ready.wait(), timeout=60)  # in its rooms by then
        self.clients.append(client)

    def _display_called(self, payload: dict[str, Any]) -> None:
        if not payload.get("recall"):
            self.display_called.setdefault(int(payload["ticket"]["id"]), []).append(time.time())

    def _phone(self, ticket_id: int, number: str) -> dict[str, Any]:
        def updated(message: dict[str, Any]) -> None:
            self.phone_messages += 1
            ticket = message.get("ticket") or {}
            if ticket and ticket.get("number") != number:
                self.foreign += 1
            if message.get("action") == "called" and ticket_id not in self.phone_called:
                self.phone_called[ticket_id] = time.time()

        def waiting(_message: dict[str, Any]) -> None:
            self.phone_messages += 1

        return {"ticket.updated": updated, "waiting": waiting}

    async def batches(self, jobs: list[Any], size: int) -> None:
        for start in range(0, len(jobs), size):
            made = await asyncio.gather(*jobs[start : start + size], return_exceptions=True)
            failed = [m for m in made if isinstance(m, BaseException)]
            if failed:
                raise RuntimeError(f"{len(failed)} connects failed: {failed[0]!r}")

    async def displays(self, count: int, token: str, batch: int) -> None:
        jobs = [
            self._connect({"token": token}, "state", {"ticket.called": self._display_called})
            for _ in range(count)
        ]
        await self.batches(jobs, batch)

    async def phones(self, tickets: list[tuple[int, str, str]], batch: int) -> None:
        jobs = [
            self._connect({"tracking_token": token}, "ticket", self._phone(ticket_id, number))
            for ticket_id, number, token in tickets
        ]
        await self.batches(jobs, batch)

    def mark(self) -> None:
        self.cpu_mark = time.process_time()
        self.phone_called.clear()
        self.display_called.clear()
        self.phone_messages = 0

    def report(self) -> dict[str, Any]:
        return {
            "cpu_s": time.process_time() - self.cpu_mark,
            "phone_called": self.phone_called,
            "display_called": {k: (len(v), max(v)) for k, v in self.display_called.items()},
            "foreign": self.foreign,
            "phone_messages": self.phone_messages,
            "clients": len(self.clients),
        }

    async def close(self) -> None:
        for start in range(0, len(self.clients), 100):
            await asyncio.gather(
                *(c.disconnect() for c in self.clients[start : start + 100]),
                return_exceptions=True,
            )
        if self.http is not None:
            await self.http.close()


def worker_main(base: str, pipe: Connection) -> None:
    raise_fd_limit()

    async def serve() -> None:
        clients = Clients(base)
        loop = asyncio.get_running_loop()
        try:
            while True:
                command, *args = await loop.run_in_executor(None, pipe.recv)
                started = time.perf_counter()
                if command == "displays":
                    await clients.displays(*args)
                elif command == "phones":
                    await clients.phones(*args)
                elif command == "mark":
                    clients.mark()
                elif command == "report":
                    pipe.send(clients.report())
                    continue
                elif command == "close":
                    break
                pipe.send(round(time.perf_counter() - started, 2))
        except Exception as err:  # tell the main process, then stop
            pipe.send(err)
        finally:
            await clients.close()

    asyncio.run(serve())


class Workers:
    def __init__(self, base: str, count: int) -> None:
        self.pipes: list[Connection] = []
        self.procs: list[mp.Process] = []
        for _ in range(count):
            mine, theirs = mp.Pipe()
            proc = mp.Process(target=worker_main, args=(base, theirs), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)

    def all(self, commands: list[tuple[Any, ...]], timeout_s: float = 600) -> list[Any]:
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            if not pipe.poll(timeout_s):
                raise RuntimeError("a worker did not answer in time")
            answer = pipe.recv()
            if isinstance(answer, BaseException):
                raise RuntimeError(f"a worker failed: {answer!r}")
            answers.append(answer)
        return answers

    def same(self, *command: Any) -> list[Any]:
        return self.all([command] * len(self.pipes))

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("close",))
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


# --- the main process: tickets, calls, figures ---------------------------------------------


def issue_tickets(server: Server, count: int) -> list[tuple[int, str, str]]:
    """(id, number, tracking token) of ``count`` new tickets, as the kiosk gets them."""

    def one(index: int) -> tuple[int, str, str]:
        body = {"service": ISSUE_SERVICES[index % len(ISSUE_SERVICES)]}
        response = requests.post(
            server.url("/tickets"), json=body, headers=auth(server.kiosk), timeout=30
        )
        response.raise_for_status()
        data = response.json()
        return int(data["id"]), str(data["number"]), str(data["tracking_token"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def make_calls(server: Server, count: int, gap_s: float) -> list[tuple[int, float]]:
    """``count`` call-nexts round counters 1-5, one at a time: (ticket id, sent at)."""
    made = []
    with requests.Session() as http:
        for i in range(count):
            counter = COUNTERS[i % len(COUNTERS)]
            sent = time.time()
            response = http.post(
                server.url(f"/counters/{counter}/call-next"),
                headers=auth(server.clerks[counter]),
                timeout=REQUEST_TIMEOUT_S,
            )
            if response.status_code != 200:
                raise RuntimeError(f"call-next: {response.status_code} {response.text[:200]}")
            made.append((int(response.json()["id"]), sent))
            time.sleep(gap_s)
    return made


def measure(
    server: Server, workers: Workers, plan: Plan, displays: int, phones: bool
) -> dict[str, Any]:
    time.sleep(plan.settle_s)
    rss = server.rss()
    workers.same("mark")
    cpu_before = server.cpu_seconds()
    calls = make_calls(server, plan.calls, plan.call_gap_s)
    time.sleep(plan.settle_s)  # the last call's deliveries
    server_cpu = server.cpu_seconds() - cpu_before
    reports = workers.same("report")
    phone_called: dict[int, float] = {}
    display_last: dict[int, tuple[int, float]] = {}
    for part in reports:
        phone_called.update({int(k): v for k, v in part["phone_called"].items()})
        for k, (n, last) in part["display_called"].items():
            seen, when = display_last.get(int(k), (0, 0.0))
            display_last[int(k)] = (seen + n, max(when, last))
    to_phone = [phone_called[t] - sent for t, sent in calls if t in phone_called]
    to_displays = [
        display_last[t][1] - sent
        for t, sent in calls
        if display_last.get(t, (0, 0.0))[0] == displays
    ]
    return {
        "called_ids": [t for t, _sent in calls],
        "calls": len(calls),
        "rss_mib": mib(rss),
        "server_cpu_ms_per_call": round(1000 * server_cpu / len(calls), 1),
        "client_cpu_ms_per_call": round(1000 * sum(p["cpu_s"] for p in reports) / len(calls), 1),
        "call_to_phone": latency_summary(to_phone) if phones else None,
        "phones_missed": (len(calls) - len(to_phone)) if phones else None,
        "call_to_last_display": latency_summary(to_displays),
        "displays_incomplete": len(calls) - len(to_displays),
        "foreign_ticket_updates": sum(p["foreign"] for p in reports),
        "phone_messages": sum(p["phone_messages"] for p in reports),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = QUICK if args.quick else Plan(phones=args.phones, displays=args.displays)
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="xephang-bench-phone-"))
    scratch = Scratch()
    workers: Workers | None = None
    try:
        url = scratch_databases(args, scratch, tmp)[0]
        with running(url, tmp) as server:
            log(f"issuing {plan.phones + plan.calls} tickets")
            tickets = issue_tickets(server, plan.phones + plan.calls)
            workers = Workers(server.base, plan.workers)
            rss_idle = server.rss()
            shares = [len(part) for part in split(list(range(plan.displays)), plan.workers)]
            took = workers.all(
                [("displays", n, server.display, plan.connect_batch) for n in shares]
            )
            log(f"{plan.displays} displays connected in {max(took)} s")
            baseline = measure(server, workers, plan, plan.displays, phones=False)
            log(f"baseline: {baseline['server_cpu_ms_per_call']} ms server CPU per call")
            # Phones for the tickets still waiting (not those the baseline called).
            called = set(baseline.pop("called_ids"))
            waiting = [t for t in tickets if t[0] not in called]
            parts = split(waiting, plan.workers)
            took = workers.all([("phones", part, plan.connect_batch) for part in parts])
            log(f"{len(waiting)} phones connected in {max(took)} s")
            with_phones = measure(server, workers, plan, plan.displays, phones=True)
            with_phones.pop("called_ids")
            log(f"with phones: p99 {with_phones['call_to_phone']['p99_ms']} ms to the phone")
            extra_rss = with_phones["rss_mib"] - baseline["rss_mib"]
            return {
                "meta": {
                    "backend": url.split(":", 1)[0],
                    "cpus": os.cpu_count(),
                    "loadavg_1min": round(os.getloadavg()[0], 2),
                    "plan": plan.__dict__,
                },
                "rss_idle_mib": mib(rss_idle),
                "baseline": baseline,
                "with_phones": with_phones,
                "extra": {
                    "server_cpu_ms_per_call": round(
                        with_phones["server_cpu_ms_per_call"] - baseline["server_cpu_ms_per_call"],
                        1,
                    ),
                    "rss_mib": round(extra_rss, 1),
                    "rss_kib_per_phone": round(1024 * extra_rss / max(len(waiting), 1), 1),
                },
            }
    finally:
        if workers is not None:
            workers.stop()
        scratch.drop()
        if args.keep_logs:
            log(f"server logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(results: dict[str, Any]) -> str:
    base, phones, extra = results["baseline"], results["with_phones"], results["extra"]
    plan = results["meta"]["plan"]

    def lat(summary: dict[str, Any] | None) -> str:
        if not summary:
            return "—"
        return f"{summary['p50_ms']} / {summary['p99_ms']} / {summary['max_ms']}"

    rows = [
        ("", f"{plan['displays']} displays", f"+ {plan['phones']} phones"),
        ("server RSS MiB", base["rss_mib"], phones["rss_mib"]),
        (
            "server CPU ms per call",
            base["server_cpu_ms_per_call"],
            phones["server_cpu_ms_per_call"],
        ),
        (
            "client CPU ms per call (all workers)",
            base["client_cpu_ms_per_call"],
            phones["client_cpu_ms_per_call"],
        ),
        ("call → called citizen's phone p50/p99/max ms", "—", lat(phones["call_to_phone"])),
        (
            "call → last display p50/p99/max ms",
            lat(base["call_to_last_display"]),
            lat(phones["call_to_last_display"]),
        ),
        (
            "calls whose phone/display missed it",
            base["displays_incomplete"],
            f"{phones['phones_missed']} / {phones['displays_incomplete']}",
        ),
        (
            "ticket.updated of another ticket at a phone",
            base["foreign_ticket_updates"],
            phones["foreign_ticket_updates"],
        ),
    ]
    width = max(len(str(r[0])) for r in rows)
    lines = [
        f"# phones and displays ({results['meta']['backend']}, {results['meta']['cpus']} CPUs, "
        f"load {results['meta']['loadavg_1min']}, {plan['calls']} calls, {plan['workers']} "
        "client processes)",
        *(f"{str(a):<{width}}  {str(b):>18}  {str(c):>18}" for a, b, c in rows),
        f"extra for the phones: {extra['server_cpu_ms_per_call']} ms server CPU per call, "
        f"{extra['rss_mib']} MiB ({extra['rss_kib_per_phone']} KiB per phone)",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database to create and drop (must not exist)")
    parser.add_argument("--postgres", action="store_true", help="a scratch PostgreSQL database")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    parser.add_argument("--phones", type=int, default=Plan.phones)
    parser.add_argument("--displays", type=int, default=Plan.displays)
    parser.add_argument("--keep-logs", action="store_true", help="keep the server's log")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    results = run(parse_args(argv))
    print(report(results))
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
