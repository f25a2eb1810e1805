"""Real `xephang` processes for tests: an installation, servers on free ports, waiting.

Waiting is polling with generous upper bounds; nothing here asserts how fast
anything is.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from .services import PG_ADMIN_URL, require_postgres

XEPHANG = str(Path(sys.executable).with_name("xephang"))
EVENT_WAIT_S = 20.0
START_WAIT_S = 60.0
COMMAND_WAIT_S = 120.0


def wait_until(what: str, check: Callable[[], Any], timeout: float = EVENT_WAIT_S) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting after {timeout:.0f} s for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- an installation: one database, one Redis channel ------------------------------


@dataclass
class Install:
    database_url: str
    redis_url: str | None
    channel: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("XEPHANG_")}
        env.update(
            XEPHANG_DATABASE_URL=self.database_url,
            XEPHANG_REDIS_CHANNEL=self.channel,
            XEPHANG_SECRET_KEY="test-" + self.channel,
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["XEPHANG_REDIS_URL"] = self.redis_url
        self.env = env

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [XEPHANG, *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=COMMAND_WAIT_S,
            check=False,
        )
        assert done.returncode == 0, f"xephang {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def token(self, role: str, counter: int | None = None) -> str:
        args = ["token", "create", "--site", "demo", "--role", role]
        if counter is not None:
            args += ["--counter", str(counter)]
        raw = self.run(*args).strip().splitlines()[-1]
        assert raw.startswith("xph_"), raw
        return raw

    def subscribers(self) -> int:
        """How many processes listen on this installation's Redis channel."""
        assert self.redis_url, "this installation has no Redis"
        client = redis.Redis.from_url(self.redis_url)
        try:
            return int(dict(client.pubsub_numsub(self.channel)).get(self.channel.encode(), 0))
        finally:
            client.close()


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """An empty PostgreSQL database of this test's own: `xephang init` builds its schema."""
    require_postgres()
    name = f"xephang_rt_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- serving processes -------------------------------------------------------------


class Server:
    """One `xephang serve` process on a free port of 127.0.0.1."""

    def __init__(self, inst: Install, name: str) -> None:
        self.name = name
        self.log_path = inst.workdir / f"serve-{name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [XEPHANG, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=inst.env,
            cwd=inst.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def answers(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self) -> bool:
        """True once it answers; False when its port was taken before it could bind it."""
        wait_until(
            f"server {self.name} to answer /healthz",
            lambda: self.proc.poll() is not None or self.answers(),
            START_WAIT_S,
        )
        if self.proc.poll() is None:
            return True
        if "Address already in use" in self.log():
            return False
        pytest.fail(f"server {self.name} exited with {self.proc.returncode}:\n{self.log()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()

    def post(self, path: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/api/v1/sites/demo{path}",
            json=body or {},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code in (200, 201), response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture
def serve(install: Install) -> Iterator[Callable[[str], Server]]:
    """Start servers (ready to answer); all of them are stopped at the end, whatever happens."""
    servers: list[Server] = []

    def _serve(name: str) -> Server:
        for attempt in range(3):
            server = Server(install, f"{name}{attempt or ''}")
            servers.append(server)
            if server.wait_ready():
                return server
        pytest.fail(f"no free port found for server {name}")

    try:
        yield _serve
    finally:
        for server in servers:
            server.stop()


@contextmanager
def served_in_thread(app: Any) -> Iterator[str]:
    """The app behind werkzeug's threaded server on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
