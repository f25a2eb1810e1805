"""A citizen's phone reaches a commune center's phone pages through the hub (server.hub.relay).

The hub app (on the test database) and a site app (SQLite) in one process; the site's
relay worker runs in a thread, its HTTP going to its own test client of the hub. The
citizen's phone is another test client of the hub, with CSRF checked at the site.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
from sqlalchemy import select

from server import engine
from server.db import Database
from server.models import Site
from server.runtime import runtime
from server.sync.relay import RelayWorker

from ..factories import app_on
from ..hub_support import ClientHttp, hub_code, join


@pytest.fixture
def hub_app(db_url, clock):
    with app_on(db_url, clock, ROLE="hub") as app:
        yield app


@pytest.fixture
def site_app(tmp_path, clock):
    from server import migrate

    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    with app_on(url, clock, sites=("s1",)) as app:
        app.config["WTF_CSRF_ENABLED"] = True  # checked at the site, through the relay
        with runtime(app).db.writes() as s, s.begin():
            s.scalars(select(Site)).one().phone_rating = True
        yield app


class Relaying:
    """The site's relay worker, polling the hub in a thread until the test ends."""

    def __init__(self, site_app: Any, hub_app: Any) -> None:
        self.worker = RelayWorker(
            site_app, runtime(site_app).db, http=ClientHttp(hub_app.test_client()), wait_s=0.5
        )
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.errors: list[BaseException] = []

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                assert self.worker.step()
            except BaseException as err:  # shown by the test, not lost in the thread
                self.errors.append(err)
                return

    def __enter__(self) -> Relaying:
        self.worker.step()  # the first poll: the hub now knows the site is reachable
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        assert not self.errors, self.errors


@pytest.fixture
def joined(site_app, hub_app, clock):
    join(runtime(site_app).db, ClientHttp(hub_app.test_client()), hub_code(hub_app), clock)
    return site_app


def _ticket(site_app: Any) -> dict[str, Any]:
    return engine.issue_ticket(runtime(site_app).uow(), "s1", "A").ticket


def _boot(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="phone-data">(.*?)</script>', html)
    assert found, html
    return json.loads(found.group(1))


def test_the_ticket_page_and_its_snapshot_come_through_the_hub(joined, hub_app):
    ticket = _ticket(joined)
    phone = hub_app.test_client()
    with Relaying(joined, hub_app):
        page = phone.get(f"/r/s1/t/{ticket['tracking_token']}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert ticket["number"] in html
        boot = _boot(html)
        # The page's links go back through the hub, and it polls rather than Socket.IO.
        assert boot["relayed"] is True
        assert boot["live_url"] == f"/r/s1/t/{ticket['tracking_token']}/live"
        assert boot["poll_ms"] <= 5000
        assert boot["worker_scope"] == "/r/s1/t/"
        assert "socket.io" not in html
        assert "/r/s1/phone/static/" in html
        assert page.headers["Cache-Control"] == "no-store"
        live = phone.get(boot["live_url"])
        assert live.status_code == 200
        assert live.get_json()["ticket"]["number"] == ticket["number"]
        # Its stylesheet and script are relayed too, and only GET.
        css = re.search(r'href="(/r/s1/phone/static/[^"]+\.css)"', html)
        assert css and phone.get(css.group(1)).status_code == 200
        # A ticket the site does not know: the site's own "not found" page.
        assert phone.get("/r/s1/t/no-such-ticket-token").status_code == 404


def test_a_rating_from_the_phone_passes_the_sites_csrf_check_through_the_hub(
    joined, hub_app, clock
):
    ticket = _ticket(joined)
    uow = runtime(joined).uow
    engine.call_next(uow(), "s1", 1)
    engine.finish(uow(), "s1", 1)
    phone = hub_app.test_client()
    with Relaying(joined, hub_app):
        page = phone.get(f"/r/s1/t/{ticket['tracking_token']}")
        boot = _boot(page.get_data(as_text=True))
        cookies = page.headers.getlist("Set-Cookie")
        # The site's cookie comes back named for the site, on the site's path only.
        assert cookies and all(c.startswith("xr-s1-") and "Path=/r/s1/" in c for c in cookies)
        refused = phone.post(boot["rating_url"], json={"score": 4})
        assert refused.status_code == 400  # no CSRF token: the site refuses it
        rated = phone.post(
            boot["rating_url"], json={"score": 4}, headers={"X-CSRFToken": boot["csrf"]}
        )
        assert rated.status_code == 201, rated.get_data(as_text=True)
        assert rated.get_json()["rating"]["score"] == 4


def test_the_hubs_own_cookies_and_credentials_never_reach_the_site(joined, hub_app):
    from server.hub.relay import bus

    ticket = _ticket(joined)
    phone = hub_app.test_client()
    phone.set_cookie("session", "the-hub-staff-login")
    phone.set_cookie("xr-s1-session", "the-sites-own")
    seen: list[dict[str, Any]] = []
    with hub_app.app_context():
        relays = bus()
    put = relays.put_request
    relays.put_request = lambda site_id, item: (seen.append(item), put(site_id, item))[1]
    with Relaying(joined, hub_app):
        phone.get(
            f"/r/s1/t/{ticket['tracking_token']}",
            headers={"Authorization": "Bearer hub-token", "X-Forwarded-For": "1.2.3.4"},
        )
    headers = dict(seen[0]["headers"])
    assert headers["Cookie"] == "session=the-sites-own"
    assert "Authorization" not in headers and "X-Forwarded-For" not in headers


def test_only_the_phone_pages_are_relayed(joined, hub_app):
    phone = hub_app.test_client()
    with Relaying(joined, hub_app):
        for path in ("/r/s1/admin/", "/r/s1/api/v1/sites/s1/tickets", "/r/s1/counter/", "/r/s1/"):
            assert phone.get(path).status_code == 404, path
        posted = phone.post("/r/s1/phone/static/phone/phone.css")
        assert posted.status_code == 404, posted.get_data(as_text=True)
        assert phone.get("/r/unknown-site/t/abc").status_code == 404
        # Numbers from home are relayed (the site's own page, whatever it allows).
        assert phone.get("/r/s1/s/s1").status_code == 200
    # Even if the hub sent it, the site serves nothing else to a relayed request.
    worker = RelayWorker(joined, runtime(joined).db)
    link = worker.links()[0]
    item = {
        "id": "x" * 20,
        "method": "GET",
        "path": "/admin/",
        "query": "",
        "headers": [],
        "body": "",
        "remote_addr": "1.2.3.4",
        "base_url": "http://hub.test/r/s1",
    }
    assert worker.serve(item, link)["status"] == 404
    assert worker.serve({**item, "path": "/t/../admin/"}, link)["status"] == 400
    assert worker.serve({**item, "base_url": "http://hub.test/r/other"}, link)["status"] == 400


def test_a_site_that_does_not_poll_says_so_at_once(joined, hub_app):
    ticket = _ticket(joined)
    phone = hub_app.test_client()
    page = phone.get(f"/r/s1/t/{ticket['tracking_token']}")
    assert page.status_code == 503
    assert "mất kết nối với trung tâm tỉnh" in page.get_data(as_text=True)
    assert "Số thứ tự của bạn vẫn giữ nguyên" in page.get_data(as_text=True)
    remote = phone.get("/r/s1/s/s1").get_data(as_text=True)
    assert "Lấy số từ xa của đơn vị này tạm dừng" in remote
    live = phone.get(f"/r/s1/t/{ticket['tracking_token']}/live")
    assert (live.status_code, live.get_json()["code"]) == (503, "site_unreachable")


def test_the_relay_endpoints_take_only_the_sites_own_credential_and_valid_answers(joined, hub_app):
    from server.hub.relay import bus

    hub = hub_app.test_client()
    assert hub.get("/api/v1/hub/relay").status_code == 401
    assert (
        hub.get("/api/v1/hub/relay", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    credential = RelayWorker(joined, runtime(joined).db).links()[0].credential
    auth = {"Authorization": f"Bearer {credential}"}
    assert hub.get("/api/v1/hub/relay?wait=abc", headers=auth).status_code == 422
    assert hub.get("/api/v1/hub/relay?wait=0", headers=auth).get_json() == {"requests": []}
    with hub_app.app_context():
        relays = bus()
    relays.put_request(999, {"id": "r" * 24})  # a request for another site
    good = {"id": "r" * 24, "status": 200, "headers": [["Content-Type", "text/plain"]], "body": ""}
    answer = hub.post("/api/v1/hub/relay", json={"answers": [good]}, headers=auth)
    assert (answer.status_code, answer.get_json()) == (200, {"taken": 0})
    assert relays.take_answer("r" * 24, 0.01) is None
    for wrong in (
        {**good, "status": 99},
        {**good, "status": True},
        {**good, "id": "short"},
        {**good, "headers": [["X-A", "b\r\nSet-Cookie: x=y"]]},
        {**good, "headers": "Content-Type: text/plain"},
        {**good, "body": "not base64!"},
        [],
    ):
        # One wrong answer refuses the batch whole, the good one with it.
        relays.put_request(1, {"id": "s" * 24})
        batch = {"answers": [{**good, "id": "s" * 24}, wrong]}
        answer = hub.post("/api/v1/hub/relay", json=batch, headers=auth)
        assert answer.status_code in (400, 422), wrong
        assert relays.take_answer("s" * 24, 0.01) is None
    assert hub.post("/api/v1/hub/relay", json=[good], headers=auth).status_code == 400
