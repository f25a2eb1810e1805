"""Issue 9 item 12: with Redis configured but down, rate limits fall back to this process's
memory (and say so once in the log); they never switch off."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from server.accounts.services import create_user

from ..factories import FakeClock, app_on
from ..live import free_port
from ..staff import PASSWORD


@pytest.fixture
def redis_down_app(db_url: str, clock: FakeClock) -> Any:
    """The app with XEPHANG_REDIS_URL pointing at a port where nothing listens."""
    down = f"redis://127.0.0.1:{free_port()}/0"
    with app_on(db_url, clock, sites=("s1",), REDIS_URL=down) as app:
        assert app.config["RATELIMIT_STORAGE_URI"] == down
        yield app


def test_pairing_guesses_are_still_limited_when_redis_is_down(
    redis_down_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis_down_app.test_client()
    with caplog.at_level(logging.INFO):
        answers = [client.post("/pair", data={"code": "0000-0000"}).status_code for _ in range(15)]
    assert answers == [400] * 10 + [429] * 5
    messages = [r.getMessage() for r in caplog.records]
    # Said once when it happens (the limiter is one per process: an earlier test's app in
    # this process may already have said it), never a traceback per request.
    assert sum("falling back to in-memory" in m for m in messages) <= 1
    assert not [m for m in messages if "Swallowing error" in m]
    # another address has its own count, as with Redis
    other = client.post(
        "/pair", data={"code": "0000-0000"}, environ_overrides={"REMOTE_ADDR": "10.0.0.7"}
    )
    assert other.status_code == 400


def test_logins_are_still_limited_when_redis_is_down(
    redis_down_app: Any, database: Any, clock: FakeClock
) -> None:
    with database.writes() as session, session.begin():
        create_user(session, "lan", "clerk", PASSWORD, clock(), site_codes=("s1",))
    client = redis_down_app.test_client()
    answers = [
        client.post("/login", data={"username": f"ai-{i}", "password": "x"}).status_code
        for i in range(32)
    ]
    assert answers == [401] * 30 + [429] * 2
