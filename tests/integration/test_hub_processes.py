"""Real processes: a hub on PostgreSQL, two site servers on SQLite, a TCP proxy before each.

Kiosks and clerks keep working at each site while its line is cut or blackholed; after
it, and across ``kill -9`` of a site server (its sync worker with it) and of the hub
while batches flow, the hub holds every entry of each site exactly once and in order,
and its report of the day equals each site's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import create_engine, text

from ..live import START_WAIT_S, XEPHANG, Install, free_port, wait_until
from ..tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow
SYNC_WAIT_S = 60.0


class Proc:
    """`xephang serve` on a port chosen by the test (the hub comes back on the same one)."""

    def __init__(self, inst: Install, name: str, port: int | None = None) -> None:
        self.inst, self.name = inst, name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        log = (self.inst.workdir / f"serve-{self.name}.log").open("a")
        self.proc = subprocess.Popen(
            [XEPHANG, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.inst.env,
            cwd=self.inst.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(f"{self.name} to answer", self._answers, START_WAIT_S)

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            log = (self.inst.workdir / f"serve-{self.name}.log").read_text()
            pytest.fail(f"{self.name} exited:\n{log[-3000:]}")
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


class SiteUnderTest:
    def __init__(self, code: str, workdir: Path, hub: Install, hub_port: int) -> None:
        workdir.mkdir()
        self.code = code
        self.db_url = f"sqlite:///{workdir / 'site.sqlite3'}"
        self.inst = Install(self.db_url, None, code, workdir)
        self.inst.env.update(
            XEPHANG_SYNC_BATCH="40", XEPHANG_SYNC_BACKOFF_MAX_S="1", XEPHANG_SYNC_TIMEOUT_S="3"
        )
        self.inst.run("init", "--demo")
        engine = create_engine(self.db_url)
        with engine.begin() as conn:  # the demo site under this site's own code
            conn.execute(text("UPDATE sites SET code = :c WHERE code = 'demo'"), {"c": code})
        engine.dispose()
        self.engine = create_engine(self.db_url)
        self.proxy = TcpProxy("127.0.0.1", hub_port)
        join_code = hub.run("hub", "code", "--site", code).strip().splitlines()[-1]
        self.inst.run("hub", "join", "--hub", self.proxy.url, "--code", join_code)
        self.kiosk = self._token("kiosk")
        self.clerk = self._token("clerk", 1)
        self.manager = self._token("manager")
        self.server = Proc(self.inst, code)
        self.tickets = 0

    def _token(self, role: str, counter: int | None = None) -> str:
        return direct_token(self.db_url, self.code, role, counter)

    def _post(self, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.post(
            f"{self.server.url}/api/v1/sites/{self.code}{path}",
            json=body or {},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def work(self, tickets: int) -> None:
        """Citizens draw numbers at the kiosk; the clerk at counter 1 serves each one."""
        for _ in range(tickets):
            self._post("/tickets", self.kiosk, {"service": "HT"})
            self._post("/counters/1/call-next", self.clerk)
            self._post("/counters/1/finish", self.clerk)
            self.tickets += 1

    def outbox_last(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT outbox_seq FROM sites")).scalar_one())

    def outbox_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM outbox")).scalar_one())

    def status(self) -> str:
        return self.inst.run("hub", "status")

    def report(self, day: str) -> Any:
        answer = requests.get(
            f"{self.server.url}/api/v1/sites/{self.code}/reports?from={day}&to={day}",
            headers={"Authorization": f"Bearer {self.manager}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


def direct_token(url: str, site: str, role: str, counter: int | None = None) -> str:
    """A token written straight into the database (faster than one `xephang` per token)."""
    from server.db import Database
    from server.tokens import create_token

    db = Database(url)
    try:
        with db.writes() as session:
            token = create_token(session, site, role, counter)
            session.commit()
            return token
    finally:
        db.dispose()


def hub_held(hub_engine: Any, code: str) -> list[int]:
    with hub_engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT e.seq FROM hub_events e JOIN sites s ON s.id = e.site_id "
                    "WHERE s.code = :c ORDER BY e.seq"
                ),
                {"c": code},
            ).scalars()
        )


def hub_last(hub_engine: Any, code: str) -> int:
    with hub_engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT h.last_seq FROM hub_sites h JOIN sites s ON s.id = h.site_id "
                    "WHERE s.code = :c"
                ),
                {"c": code},
            ).scalar_one()
        )


def test_sites_work_through_cuts_and_the_hub_holds_everything_once(tmp_path, fresh_pg_url):
    hub = Install(fresh_pg_url, None, "hub", tmp_path)
    hub.env["XEPHANG_ROLE"] = "hub"
    hub.run("init")
    hub_server = Proc(hub, "hub")
    hub_engine = create_engine(fresh_pg_url)
    sites: list[SiteUnderTest] = []
    try:
        a = SiteUnderTest("xa-a", tmp_path / "a", hub, hub_server.port)
        b = SiteUnderTest("xa-b", tmp_path / "b", hub, hub_server.port)
        sites += [a, b]

        def synced() -> bool:
            return all(hub_last(hub_engine, s.code) == s.outbox_last() for s in sites)

        a.work(3)
        b.work(3)
        wait_until("both sites synced", synced, SYNC_WAIT_S)

        # The lines go down: one cut, one a black hole. Both centers keep working.
        a.proxy.cut()
        b.proxy.blackhole()
        held_a, held_b = hub_last(hub_engine, "xa-a"), hub_last(hub_engine, "xa-b")
        a.work(8)
        b.work(8)
        assert hub_last(hub_engine, "xa-a") == held_a
        assert hub_last(hub_engine, "xa-b") == held_b
        wait_until("site a to see the hub gone", lambda: "mất kết nối" in a.status())
        assert f"còn chờ gửi: {a.outbox_last() - held_a}" in a.status()

        # Line a returns; its server (and sync worker) is killed while batches flow.
        a.proxy.restore()
        wait_until("a batch of a to arrive", lambda: hub_last(hub_engine, "xa-a") > held_a)
        a.server.kill9()
        a.server.start()

        # Line b returns slowly; the hub is killed while b's batches flow.
        b.proxy.delay(0.05)
        wait_until("a batch of b to arrive", lambda: hub_last(hub_engine, "xa-b") > held_b)
        hub_server.kill9()
        b.proxy.restore()
        a.work(2)  # the hub is down: the site does not notice but in its banner
        hub_server.start()
        b.work(2)
        wait_until("both sites synced again", synced, SYNC_WAIT_S)

        today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
        for site in sites:
            held = hub_held(hub_engine, site.code)
            assert held == list(range(1, site.outbox_last() + 1))  # once each, in order
            assert len(held) == site.outbox_count()
            token = direct_token(fresh_pg_url, site.code, "manager")
            answer = requests.get(
                f"{hub_server.url}/api/v1/sites/{site.code}/reports?from={today}&to={today}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            own = site.report(today)
            assert own["total"]["served"] == site.tickets
            received = answer.json()
            assert received.pop("generated_at") and own.pop("generated_at")
            assert received == own
    finally:
        for site in sites:
            site.server.stop()
            site.proxy.stop()
            site.engine.dispose()
        hub_server.stop()
        hub_engine.dispose()


def _hub_site_id(hub_engine: Any, code: str) -> int:
    with hub_engine.connect() as conn:
        return int(
            conn.execute(text("SELECT id FROM sites WHERE code = :c"), {"c": code}).scalar_one()
        )


def _copy_waiting(hub_engine: Any) -> int:
    """Hub backends inside a batch's COPY, waiting for a lock (or gone: 0)."""
    with hub_engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY hub_events%' "
                    "AND state = 'active'"
                )
            ).scalar_one()
        )


def _site_acked(site: SiteUnderTest) -> int:
    with site.engine.connect() as conn:
        return int(conn.execute(text("SELECT acked_seq FROM hub_links")).scalar_one())


def test_the_hub_killed_in_the_middle_of_a_batch_loses_and_repeats_nothing(tmp_path, fresh_pg_url):
    """Two kills of the hub while one batch is in flight: inside its transaction (its
    COPY has written part of the batch and waits on a row the test holds), and after its
    COMMIT with the answer still on the way (the proxy keeps it back, then drops it).
    Each time the hub comes back on the same port and the site's worker sends again."""
    hub = Install(fresh_pg_url, None, "hub", tmp_path)
    hub.env["XEPHANG_ROLE"] = "hub"
    hub.run("init")
    hub_server = Proc(hub, "hub")
    hub_engine = create_engine(fresh_pg_url)
    site: SiteUnderTest | None = None
    try:
        site = SiteUnderTest("xa-k", tmp_path / "k", hub, hub_server.port)
        site.work(2)
        wait_until("the site synced", lambda: hub_last(hub_engine, "xa-k") == site.outbox_last())
        site.proxy.cut()
        site.work(8)  # a backlog of more than one batch (40 entries)
        held, last = hub_last(hub_engine, "xa-k"), site.outbox_last()
        assert last - held > 40

        # 1. Killed inside the transaction: the test holds an uncommitted row with the
        # batch's 5th seq, so the hub's COPY stops there, the first four written.
        blocker = hub_engine.connect()
        blocking = blocker.begin()
        blocker.execute(
            text(
                "INSERT INTO hub_events (site_id, seq, kind, table_name, at, data, received_at)"
                " VALUES (:s, :q, 'row', 'sites', now(), '{}', now())"
            ),
            {"s": _hub_site_id(hub_engine, "xa-k"), "q": held + 5},
        )
        site.proxy.restore()
        wait_until("the hub's COPY to wait inside the batch", lambda: _copy_waiting(hub_engine))
        hub_server.kill9()
        blocking.rollback()
        blocker.close()
        wait_until("the killed hub's transaction to end", lambda: not _copy_waiting(hub_engine))
        assert hub_held(hub_engine, "xa-k") == list(range(1, held + 1))  # none of it stayed
        assert hub_last(hub_engine, "xa-k") == held

        # 2. Killed after COMMIT, its answer held in the proxy: the site never hears it.
        site.proxy.hold_answers()
        hub_server.start()
        wait_until("the hub to commit the batch", lambda: hub_last(hub_engine, "xa-k") > held)
        hub_server.kill9()
        committed = hub_last(hub_engine, "xa-k")
        site.proxy.cut()  # the held answer is dropped
        assert _site_acked(site) == held < committed
        site.proxy.restore()
        site.work(1)
        hub_server.start()
        wait_until(
            "the site synced again",
            lambda: hub_last(hub_engine, "xa-k") == site.outbox_last() == _site_acked(site),
            SYNC_WAIT_S,
        )
        # Once each, in order: the batch the hub had stored was sent again and skipped.
        assert hub_held(hub_engine, "xa-k") == list(range(1, site.outbox_last() + 1))
        assert len(hub_held(hub_engine, "xa-k")) == site.outbox_count()
    finally:
        if site is not None:
            site.server.stop()
            site.proxy.stop()
            site.engine.dispose()
        hub_server.stop()
        hub_engine.dispose()


def test_a_phone_reaches_the_centers_ticket_page_through_either_hub_process(tmp_path, fresh_pg_url):
    """A hub of two processes on PostgreSQL + Redis: the site's relay worker polls one of
    them, the citizen's phone reaches the other, and gets the center's own page."""
    from ..services import REDIS_URL, require_redis

    require_redis()
    hub = Install(fresh_pg_url, REDIS_URL, f"hub-relay-{free_port()}", tmp_path)
    hub.env["XEPHANG_ROLE"] = "hub"
    hub.run("init")
    hubs = [Proc(hub, "hub1"), Proc(hub, "hub2")]
    site = None
    try:
        site = SiteUnderTest("xa-r", tmp_path / "r", hub, hubs[0].port)
        ticket = site._post("/tickets", site.kiosk, {"service": "HT"})
        token = ticket["tracking_token"]

        def page(proc: Proc) -> Any:
            answer = requests.get(f"{proc.url}/r/xa-r/t/{token}", timeout=30)
            return answer if answer.status_code == 200 else None

        for proc in hubs:  # the worker's poll reached hub1 only: hub2 relays through Redis
            answer = wait_until(f"the page through {proc.name}", lambda p=proc: page(p))
            assert ticket["number"] in answer.text
            assert f"/r/xa-r/t/{token}/live" in answer.text
            live = requests.get(f"{proc.url}/r/xa-r/t/{token}/live", timeout=30)
            assert live.status_code == 200
            assert live.json()["ticket"]["number"] == ticket["number"]
        # The center calls the number: the phone's next poll through the hub says so.
        site._post("/counters/1/call-next", site.clerk)
        live = requests.get(f"{hubs[1].url}/r/xa-r/t/{token}/live", timeout=30)
        assert live.json()["ticket"]["status"] == "called"
    finally:
        if site is not None:
            site.server.stop()
            site.proxy.stop()
            site.engine.dispose()
        for proc in hubs:
            proc.stop()
