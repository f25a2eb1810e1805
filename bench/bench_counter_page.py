"""Benchmark of the clerk's page against a real ``xephang serve``: what a day at the counters costs.

Not a test: it prints figures.  Every clerk page re-reads its counter's queue
(``GET …/counters/{n}/queue``) after each event of the site, so one citizen's
ticket costs one such read per open clerk page; this measures that read as the
waiting line grows, and a clerk's press (call-next) made with the login session
and CSRF header against the same press made with a keypad's bearer token.

    .venv/bin/python bench/bench_counter_page.py            # SQLite in a temp dir
    .venv/bin/python bench/bench_counter_page.py --postgres # a scratch PostgreSQL database
    .venv/bin/python bench/bench_counter_page.py --quick

It reuses the server harness of bench/bench_queue.py (scratch database, ``xephang
init --demo``, ``xephang serve`` on 127.0.0.1, stopped and dropped at the end).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queue import (  # noqa: E402
    DEFAULT_PG_ADMIN,
    Scratch,
    auth,
    latency_summary,
    log,
    new_postgres,
    new_sqlite,
    running,
    seed_waiting,
    xephang_command,
)

PASSWORD = "bench-" + uuid.uuid4().hex[:12]


def staff_session(server: Any, username: str, counter: int) -> tuple[requests.Session, str]:
    """A clerk logged in through /login and signed in at ``counter``, with the page's CSRF token."""
    subprocess.run(
        [
            xephang_command(),
            "user",
            "create",
            "--username",
            username,
            "--role",
            "clerk",
            "--site",
            "demo",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=server.env,
        text=True,
        capture_output=True,
        check=True,
        timeout=60,
    )
    http = requests.Session()
    login = http.get(f"{server.base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login)
    assert token, "no CSRF token on /login"
    done = http.post(
        f"{server.base}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        timeout=10,
        allow_redirects=False,
    )
    assert done.status_code == 302, done.text[:300]
    page = http.get(f"{server.base}/counter/", timeout=10).text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert csrf, "no CSRF token on /counter/"
    signed = http.post(
        server.url(f"/counters/{counter}/sign-in"),
        json={},
        headers={"X-CSRFToken": csrf.group(1)},
        timeout=10,
    )
    assert signed.status_code == 200, signed.text[:300]
    return http, csrf.group(1)


def timed(send: Any, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        response = send()
        out.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:300]
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    scratch = Scratch()
    depths = [10, 100, 1000] if args.quick else [10, 100, 1000, 5000]
    reads = 30 if args.quick else 200
    presses = 20 if args.quick else 100
    results: dict[str, Any] = {"queue_read": [], "presses": {}}
    with tempfile.TemporaryDirectory(prefix="xephang-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            if args.postgres:
                url = new_postgres(
                    scratch, DEFAULT_PG_ADMIN, f"xephang_bench_cp_{uuid.uuid4().hex[:6]}"
                )
            else:
                url = new_sqlite(scratch, tmp / "bench.sqlite3")
            with running(url, tmp) as server:
                page, csrf = staff_session(server, "canbo_bench", 1)
                queue_url = server.url("/counters/1/queue")
                for depth in depths:
                    seed_waiting(url, depth)
                    page.get(queue_url, timeout=10)  # warm
                    seconds = timed(lambda: page.get(queue_url, timeout=30), reads)
                    body = page.get(queue_url, timeout=30).json()
                    row = {
                        "site_waiting": depth,
                        "waiting": body["waiting_total"],
                        **latency_summary(seconds),
                    }
                    results["queue_read"].append(row)
                    log(f"queue read at {row['waiting']} waiting: p50 {row['p50_ms']} ms")
                session_press = timed(
                    lambda: page.post(
                        server.url("/counters/1/call-next"),
                        json={},
                        headers={"X-CSRFToken": csrf},
                        timeout=30,
                    ),
                    presses,
                )
                keypad = requests.Session()
                token_press = timed(
                    lambda: keypad.post(
                        server.url("/counters/2/call-next"),
                        headers=auth(server.clerks[2]),
                        timeout=30,
                    ),
                    presses,
                )
                results["presses"] = {
                    "clerk page (session + CSRF)": latency_summary(session_press),
                    "keypad (bearer token)": latency_summary(token_press),
                }
        finally:
            scratch.drop()
    results["database"] = "postgresql" if args.postgres else "sqlite"
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        f"Clerk page on {results['database']}",
        "",
        "GET …/counters/1/queue (one per event per open clerk page)",
        f"{'site waiting':>12} {'counter 1':>10} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for row in results["queue_read"]:
        lines.append(
            f"{row['site_waiting']:>12} {row['waiting']:>10} {row['p50_ms']:>8} {row['p99_ms']:>8}"
        )
    lines += [
        "",
        "call-next, with the waiting line above",
        f"{'who':<30} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for who, row in results["presses"].items():
        lines.append(f"{who:<30} {row['p50_ms']:>8} {row['p99_ms']:>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--quick", action="store_true")
    results = run(parser.parse_args(argv))
    print(report(results))
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
