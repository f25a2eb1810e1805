"""Benchmark: one display flooding the server with ``sync`` while a kiosk issues tickets.

Not a test: it prints figures (issue 9 item 13). A python-socketio client with a display
token sends ``sync`` as fast as it can (3,000 by default) over the websocket; meanwhile a
kiosk issues tickets one after the other over HTTP for 20 s. Printed: the issue latency
p50/p99 without and with the flood, how many tickets fit in the window, how many ``state``
snapshots the flooding client got back in it, and the server's CPU time over it (from
/proc, via psutil).

    .venv/bin/python bench/bench_sync_flood.py            # SQLite in a temp dir
    .venv/bin/python bench/bench_sync_flood.py --syncs 1000 --window 10

To measure another checkout (e.g. before a change), put its source first on the path:
``PYTHONPATH=/path/to/checkout .venv/bin/python bench/bench_sync_flood.py``; the
``xephang`` processes inherit it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queue import Scratch, auth, latency_summary, log, new_sqlite, running  # noqa: E402

ISSUE_TIMEOUT_S = 60.0


def issue_series(server: Any, count: int, for_s: float = 0.0) -> list[float]:
    """``count`` tickets one after another, or as many as fit in ``for_s`` seconds."""
    http = requests.Session()
    seconds: list[float] = []
    until = time.monotonic() + for_s
    for index in range(count if not for_s else 10**9):
        if for_s and time.monotonic() > until:
            break
        started = time.perf_counter()
        response = http.post(
            server.url("/tickets"),
            json={"service": ("HT", "CT")[index % 2]},
            headers=auth(server.kiosk),
            timeout=ISSUE_TIMEOUT_S,
        )
        seconds.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise RuntimeError(f"issue answered {response.status_code}: {response.text[:200]}")
    return seconds


def flood(server: Any, syncs: int, window_s: float) -> dict[str, Any]:
    states: list[float] = []
    client = socketio.Client(reconnection=False)
    client.on("state", lambda _data: states.append(time.monotonic()))
    client.connect(server.base, auth={"token": server.display}, transports=["websocket"])
    time.sleep(1.5)  # past the connection's own snapshot
    states.clear()
    results: dict[str, Any] = {}

    def issuer() -> None:
        results["issue"] = issue_series(server, 0, for_s=window_s)

    cpu_before = server.cpu_seconds()
    started = time.monotonic()
    thread = threading.Thread(target=issuer)
    thread.start()
    for _ in range(syncs):
        client.emit("sync")
    sent = time.monotonic() - started
    thread.join()
    cpu = server.cpu_seconds() - cpu_before
    client.disconnect()
    return {
        "window_s": window_s,
        "syncs_sent": syncs,
        "send_s": round(sent, 2),
        "states_received": len(states),
        "server_cpu_s": round(cpu, 2),
        "issue": latency_summary(results["issue"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--syncs", type=int, default=3000)
    parser.add_argument("--issues", type=int, default=100, help="tickets issued, no flood")
    parser.add_argument(
        "--window", type=float, default=20.0, help="seconds of issuing once the flood starts"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xephang-bench-") as tmp:
        scratch = Scratch()
        try:
            url = new_sqlite(scratch, Path(tmp) / "bench.sqlite3")
            with running(url, Path(tmp)) as server:
                log("issue latency, no flood")
                quiet = latency_summary(issue_series(server, args.issues))
                log(f"issue latency while a display sends {args.syncs} sync")
                flooded = flood(server, args.syncs, args.window)
        finally:
            scratch.drop()
    figures = {"quiet": quiet, "flood": flooded}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    q, f = quiet, flooded["issue"]
    print(f"issue latency, quiet:  p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms (n={q['n']})")
    print(
        f"issue latency, flood:  p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms"
        f" (n={f['n']})"
    )
    print(
        f"flooding display: {flooded['syncs_sent']} sync sent in {flooded['send_s']} s,"
        f" {flooded['states_received']} state snapshots back within {flooded['window_s']:.0f} s;"
        f" server CPU over those {flooded['window_s']:.0f} s: {flooded['server_cpu_s']} s"
    )


if __name__ == "__main__":
    main()
