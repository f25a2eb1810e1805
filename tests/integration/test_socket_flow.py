"""Issue 9 item 13: one connection cannot stall the server with ``sync`` or other messages.

A ``sync`` within a second of the connection's last snapshot is answered once, when the
second is up, however many came meanwhile; any message past the connection's budget is
dropped. Figures (issue latency under a flood of 3,000 ``sync``): bench/bench_sync_flood.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from server.realtime.flow import MESSAGE_BURST, ConnectionFlow

from ..factories import FakeClock, app_on
from ..live import wait_until


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_syncs_within_the_interval_are_answered_once_later() -> None:
    ticks = Ticks()
    flow = ConnectionFlow(sync_interval=1.0, clock=ticks)
    assert flow.plan_sync("a") == 0.0  # nothing sent yet: at once
    ticks.now += 0.25
    assert flow.plan_sync("a") == pytest.approx(0.75)  # one answer, when the second is up
    assert [flow.plan_sync("a") for _ in range(1000)] == [None] * 1000  # joined to it
    assert flow.plan_sync("b") == 0.0  # another connection is not held back
    ticks.now += 0.75
    flow.snapshot_sent("a")  # the deferred answer went out
    ticks.now += 1.0
    assert flow.plan_sync("a") == 0.0


def test_messages_past_the_budget_are_dropped_then_allowed_again() -> None:
    ticks = Ticks()
    flow = ConnectionFlow(burst=20, rate=5.0, clock=ticks)
    assert [flow.admit("a") for _ in range(25)] == [True] * 20 + [False] * 5
    assert flow.admit("b")
    ticks.now += 1.0  # five more a second
    assert [flow.admit("a") for _ in range(6)] == [True] * 5 + [False]
    flow.forget("a")
    assert flow.admit("a")


@pytest.fixture
def flowing_app(db_url: str, clock: FakeClock) -> Any:
    with app_on(db_url, clock, sites=("s1",), SYNC_INTERVAL_S=1.0) as app:
        yield app


def _states(client: Any) -> int:
    return sum(1 for m in client.get_received() if m["name"] == "state")


def test_a_flood_of_sync_gets_one_snapshot_per_second(flowing_app: Any, make_token: Any) -> None:
    socketio = flowing_app.extensions["socketio"]
    flooder = socketio.test_client(flowing_app, auth={"token": make_token("display")})
    other = socketio.test_client(flowing_app, auth={"token": make_token("display")})
    try:
        assert _states(flooder) == 1 and _states(other) == 1  # on connect
        for _ in range(200):
            flooder.emit("sync")
        got = [0]

        def answered() -> bool:
            got[0] += _states(flooder)
            return got[0] > 0

        wait_until("the deferred snapshot", answered)
        time.sleep(1.5)  # no further answer comes, however long we wait
        got[0] += _states(flooder)
        assert got[0] == 1
        assert _states(other) == 0  # the other connection got nothing of it
        other.emit("sync")  # and is answered on its own schedule
        wait_until("the other's snapshot", lambda: _states(other) == 1)
    finally:
        flooder.disconnect()
        other.disconnect()


def test_other_messages_past_the_budget_are_refused(flowing_app: Any, make_token: Any) -> None:
    kiosk = flowing_app.extensions["socketio"].test_client(
        flowing_app, auth={"token": make_token("kiosk")}
    )
    try:
        started = time.monotonic()
        answers = [kiosk.emit("print.sync", callback=True) for _ in range(100)]
        elapsed = time.monotonic() - started
        accepted = [a for a in answers if a.get("accepted")]
        refused = [a for a in answers if a.get("reason") == "too_many_messages"]
        assert len(accepted) + len(refused) == 100
        assert MESSAGE_BURST <= len(accepted) <= MESSAGE_BURST + 5 * elapsed + 1
        assert refused
    finally:
        kiosk.disconnect()
