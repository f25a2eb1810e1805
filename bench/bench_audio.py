"""Benchmark: from "call next" to the announcement being ready to play, offline, warm cache.

Not a test: it prints figures. It fills a scratch sounds folder with espeak-ng's clips (the
offline voice: no network anywhere), then measures two things:

1. In-process, the work the server adds to a call: composing the announcement of a ticket
   from the cached clips and joining it into one WAV (``Announcer.audio``, what every
   ``ticket.called`` event goes through), for new numbers and for numbers said before.
2. End to end, against a real ``xephang serve`` (SQLite in a temp dir): the time from sending
   ``POST …/counters/1/call-next`` until a display's Socket.IO client has the ``ticket.called``
   event with its ``audio``, and until it has downloaded the joined WAV (the audio is then
   ready to play; the chime, fetched once, is already in the browser's cache).

    .venv/bin/python bench/bench_audio.py              # 200 calls
    .venv/bin/python bench/bench_audio.py --calls 50   # fewer
    .venv/bin/python bench/bench_audio.py --quick      # 30 calls, a smoke check

Needs espeak-ng (``apt-get install espeak-ng``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
import socketio

from server.realtime.announcements import Announcer, SiteVoice
from sounds import DEFAULT_TEMPLATE, SoundCache
from sounds.announce import vocabulary
from sounds.build import build_voice, ensure_chime
from sounds.voices.espeak import EspeakVoice, espeak_available

HOST = "127.0.0.1"
XEPHANG = str(Path(sys.executable).with_name("xephang"))
START_WAIT_S = 60.0
EVENT_WAIT_S = 20.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(at(0.99), 3),
        "max_ms": round(ordered[-1], 3),
    }


def warm_cache(root: Path) -> float:
    """Every clip of the default template by espeak-ng, and the chime; seconds it took."""
    started = time.perf_counter()
    cache = SoundCache(root)
    report = build_voice(cache, EspeakVoice(), vocabulary([DEFAULT_TEMPLATE]))
    ensure_chime(cache)
    if report.missing:
        raise SystemExit(f"espeak-ng could not make {sorted(report.missing)}")
    return time.perf_counter() - started


# --- 1. in-process ------------------------------------------------------------------------


def bench_compose(root: Path, calls: int) -> dict[str, Any]:
    announcer = Announcer(SoundCache(root), lambda _site: SiteVoice())
    voice = SiteVoice()
    new: list[float] = []
    again: list[float] = []
    for n in range(1, calls + 1):
        number, counter = f"A{n:03d}", 1 + n % 5
        started = time.perf_counter()
        audio = announcer.audio(number, counter, voice)
        new.append((time.perf_counter() - started) * 1000)
        assert audio["voice"] == "espeak" and audio["joined"], audio
    for n in range(1, calls + 1):
        started = time.perf_counter()
        announcer.audio(f"A{n:03d}", 1 + n % 5, voice)
        again.append((time.perf_counter() - started) * 1000)
    return {"new_number": percentiles(new), "said_before": percentiles(again)}


# --- 2. end to end ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise TimeoutError(f"gave up waiting for {what}")


@contextlib.contextmanager
def server(workdir: Path, sounds_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`xephang init --demo` and `xephang serve` on a scratch SQLite file; stopped at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XEPHANG_")}
    env.update(
        XEPHANG_DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        XEPHANG_SECRET_KEY="bench",
        XEPHANG_SOUNDS_DIR=str(sounds_dir),
        PYTHONUNBUFFERED="1",
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [XEPHANG, *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"xephang {' '.join(args)}: {done.stderr}")
        return done.stdout.strip().splitlines()[-1]

    run("init", "--demo")
    tokens = {
        "display": run("token", "create", "--site", "demo", "--role", "display"),
        "kiosk": run("token", "create", "--site", "demo", "--role", "kiosk"),
        "clerk": run("token", "create", "--site", "demo", "--role", "clerk", "--counter", "1"),
    }
    port = free_port()
    url = f"http://{HOST}:{port}"
    with (workdir / "serve.log").open("w") as out:
        proc = subprocess.Popen(
            [XEPHANG, "serve", "--host", HOST, "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:

            def answers() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError((workdir / "serve.log").read_text())
                try:
                    return requests.get(url + "/healthz", timeout=2).ok
                except requests.RequestException:
                    return False

            wait_for("the server", answers, START_WAIT_S)
            yield url, tokens
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


class Display:
    """A display's Socket.IO client: on each ticket.called it fetches the joined WAV at once,
    as the page does, and keeps when the event arrived and when the audio was in hand."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.arrived: dict[int, tuple[float, float, dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("ticket.called", self._called)
        self.client.connect(url, auth={"token": token}, transports=["websocket"])

    def _called(self, payload: dict[str, Any]) -> None:
        arrived = time.perf_counter()
        body = self.http.get(self.url + payload["audio"]["joined"])
        body.raise_for_status()
        assert body.content[:4] == b"RIFF"
        ready = time.perf_counter()
        with self.lock:
            self.arrived.setdefault(payload["ticket"]["id"], (arrived, ready, payload))

    def wait(self, ticket_id: int) -> tuple[float, float, dict[str, Any]]:
        def found() -> tuple[float, float, dict[str, Any]] | None:
            with self.lock:
                return self.arrived.get(ticket_id)

        result: tuple[float, float, dict[str, Any]] = wait_for("ticket.called", found, EVENT_WAIT_S)
        return result

    def close(self) -> None:
        self.client.disconnect()
        self.http.close()


def bench_end_to_end(sounds_dir: Path, calls: int, workdir: Path) -> dict[str, Any]:
    with server(workdir, sounds_dir) as (url, tokens):
        api = f"{url}/api/v1/sites/demo"
        http = requests.Session()
        kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
        clerk = {"Authorization": f"Bearer {tokens['clerk']}"}
        display = Display(url, tokens["display"])
        to_event: list[float] = []
        to_audio: list[float] = []
        voices: set[str] = set()
        try:
            for _ in range(calls):
                ticket = http.post(f"{api}/tickets", json={"service": "HT"}, headers=kiosk)
                ticket.raise_for_status()
                ticket_id = ticket.json()["id"]
                started = time.perf_counter()
                http.post(f"{api}/counters/1/call-next", json={}, headers=clerk).raise_for_status()
                arrived, ready, payload = display.wait(ticket_id)
                voices.add(payload["audio"]["voice"])
                to_event.append((arrived - started) * 1000)
                to_audio.append((ready - started) * 1000)
        finally:
            display.close()
            http.close()
    return {
        "voices": sorted(voices),
        "call_to_event_with_audio": percentiles(to_event),
        "call_to_audio_downloaded": percentiles(to_audio),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="30 calls")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    calls = 30 if args.quick else max(args.calls, 1)
    if not espeak_available():
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    workdir = Path(tempfile.mkdtemp(prefix="xephang-bench-audio-"))
    try:
        log(f"warming the espeak-ng cache in {workdir / 'sounds'} …")
        warm_s = warm_cache(workdir / "sounds")
        log(f"composing {calls} announcements in-process …")
        compose_figures = bench_compose(workdir / "sounds", calls)
        log(f"{calls} calls against a real server …")
        end_to_end = bench_end_to_end(workdir / "sounds", calls, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = [
        ("compose + join, new number (in-process)", compose_figures["new_number"]),
        ("compose, number said before (in-process)", compose_figures["said_before"]),
        ("call-next → ticket.called with audio", end_to_end["call_to_event_with_audio"]),
        ("call-next → joined WAV downloaded", end_to_end["call_to_audio_downloaded"]),
    ]
    print(
        f"Audio ready to play, warm espeak-ng cache, offline ({calls} calls; cache built in "
        f"{warm_s:.1f} s; voice {', '.join(end_to_end['voices'])})"
    )
    print(f"{'':44} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    for name, figures in rows:
        print(
            f"{name:44} {figures['p50_ms']:9.2f} {figures['p99_ms']:9.2f} {figures['max_ms']:9.2f}"
        )
    print(
        json.dumps(
            {
                "calls": calls,
                "cache_build_s": round(warm_s, 2),
                "compose": compose_figures,
                "end_to_end": end_to_end,
            }
        )
    )


if __name__ == "__main__":
    main()
