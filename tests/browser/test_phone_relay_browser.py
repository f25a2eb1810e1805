"""A ticket's page through the province hub, in real Chromium (server.hub.relay).

The center's server (the test's app) is not reachable by the phone: only the hub is,
served on a port of its own; the center's relay worker polls the hub in a thread. The page
comes through the hub with its script and stylesheet, opens no Socket.IO connection (the
hub has none of the center's), polls its ticket through the hub, and shows the clerk's
call within its 5 s polling period, without a reload.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from server import engine
from server.db import Database
from server.runtime import runtime

from ..factories import app_on, build_site
from ..factories import issue_in as issue
from ..hub_support import ClientHttp, hub_code, join
from ..integration.test_hub_relay import Relaying
from ..live import EVENT_WAIT_S, served_in_thread
from .test_csp_browser import WATCH_CSP
from .test_phone_browser import PHONE, open_phone, wait_headline

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

WAIT_MS = EVENT_WAIT_S * 1000


@pytest.fixture
def hub_app(tmp_path: Any, clock: Any) -> Iterator[Any]:
    from server import migrate

    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    with app_on(url, clock, ROLE="hub") as app:
        yield app


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(**PHONE)
    yield context.new_page()
    context.close()


def test_the_ticket_page_through_the_hub_polls_and_shows_the_call(
    app: Any, database: Any, hub_app: Any, clock: Any, phone: Any
) -> None:
    with database.writes() as s:
        build_site(s)
        s.commit()
    join(database, ClientHttp(hub_app.test_client()), hub_code(hub_app), clock)
    ticket = issue(app)
    sockets: list[str] = []
    phone.add_init_script(WATCH_CSP)  # the center's headers come through: nothing refused
    phone.on("request", lambda r: sockets.append(r.url) if "socket.io" in r.url else None)
    with served_in_thread(hub_app) as hub_url, Relaying(app, hub_app):
        open_phone(phone, f"{hub_url}/r/s1/t/{ticket['tracking_token']}", live=False)
        assert ticket["number"] in phone.locator("main").inner_text()
        polls: list[str] = []
        phone.on("request", lambda r: polls.append(r.url) if r.url.endswith("/live") else None)
        called_at = time.time()
        engine.call_next(runtime(app).uow(), "s1", 1)
        wait_headline(phone, "Mời bạn đến quầy 1", timeout=5000 + WAIT_MS)
        waited_ms = (time.time() - called_at) * 1000
        print(f"called -> phone through the hub shows the counter: {waited_ms:.0f} ms")
        assert waited_ms < 5000 + 3000
    assert polls and all(url.startswith(f"{hub_url}/r/s1/t/") for url in polls)
    assert sockets == []
    assert phone.evaluate("window.__csp || []") == []
    assert phone.evaluate("window.xephangNotReloaded") is True
