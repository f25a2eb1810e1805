"""Screens that follow changes without a reload, in real Chromium (Debian's /usr/bin/chromium).

The rating tablet shows who is signed in at its counter as clerks sign in and out; a lobby
display shows the site's new name and a kiosk a new service after a ``site.updated`` event.
The app runs in a thread (Socket.IO in threading mode); events are made through the engine's
unit of work, as an admin page would. Waits are generous; nothing here asserts speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from server import engine
from server.accounts import services
from server.accounts.services import create_user
from server.models import Service, Site
from server.runtime import runtime

from ..factories import ServiceSpec, build_site
from ..live import EVENT_WAIT_S, served_in_thread
from ..staff import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

WAIT_MS = EVENT_WAIT_S * 1000
NO_CLERK = "Chưa có cán bộ đăng nhập tại quầy"


@pytest.fixture
def hall(app: Any, database: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Site s1 (services A and B; counters 1 and 2 serve A) and two clerks, none signed in."""
    monkeypatch.setattr(
        services, "hash_password", lambda p: generate_password_hash(p, "pbkdf2:sha256:1000")
    )
    with database.writes() as s:
        build_site(
            s,
            services=[ServiceSpec("A", name="Hộ tịch", prefix="A"), ServiceSpec("B", prefix="B")],
            counters={1: {"A": 1}, 2: {"A": 1}},
        )
    with database.writes() as s, s.begin():
        lan = create_user(
            s, "lan", "clerk", PASSWORD, clock(), site_codes=("s1",), full_name="Nguyễn Thị Lan"
        )
        lan.photo_url = "/static/favicon.ico"
        binh = create_user(
            s, "binh", "clerk", PASSWORD, clock(), site_codes=("s1",), full_name="Trần Văn Bình"
        )
        return {"lan": lan.id, "binh": binh.id}


@pytest.fixture
def base_url(app: Any, hall: dict[str, int]) -> Iterator[str]:
    with served_in_thread(app) as url:
        yield url


def open_paired(page: Any, base_url: str, token: str, path: str) -> None:
    page.goto(f"{base_url}/pair?token={token}&next={path}")
    page.wait_for_url(f"{base_url}{path}", timeout=WAIT_MS)


def site_updated(app: Any, change: Any) -> None:
    """Change the site in one unit of work and tell every screen to re-read it."""
    uow = runtime(app).uow()
    with uow:
        site = uow.session.execute(select(Site).where(Site.code == "s1")).scalar_one()
        change(uow.session, site)
        uow.emit(site, "site.updated", {"changed": "settings"})
        uow.commit()


# --- (a) the rating tablet ------------------------------------------------------------------


def test_the_tablet_shows_the_clerk_signing_in_and_out(
    app: Any, base_url: str, hall: dict[str, int], make_token: Any, page: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    open_paired(page, base_url, make_token("tablet", counter=1), "/rate/")
    page.wait_for_selector("body[data-connected='true']", timeout=WAIT_MS)
    assert page.locator("#idle").is_visible()
    assert page.locator("#clerk-name").inner_text() == NO_CLERK
    assert page.locator("#clerk-photo").is_hidden()
    page.evaluate("window.xephangNotReloaded = true")

    engine.sign_in(runtime(app).uow(), "s1", 1, hall["lan"])
    page.wait_for_function(
        "() => document.getElementById('clerk-name').textContent === 'Nguyễn Thị Lan'",
        timeout=WAIT_MS,
    )
    page.wait_for_selector("#clerk-photo:not([hidden])", timeout=WAIT_MS)
    assert page.get_attribute("#clerk-photo", "src") == "/static/favicon.ico"

    # A clerk at the other counter is not this tablet's.
    engine.sign_in(runtime(app).uow(), "s1", 2, hall["binh"])
    engine.sign_out(runtime(app).uow(), hall["lan"])
    page.wait_for_function(
        f"() => document.getElementById('clerk-name').textContent === {NO_CLERK!r}", timeout=WAIT_MS
    )
    assert page.locator("#clerk-photo").is_hidden()
    assert page.evaluate("window.xephangNotReloaded") is True


def test_the_tablet_follows_a_sign_in_and_logout_through_the_staff_page(
    app: Any, base_url: str, hall: dict[str, int], make_token: Any, page: Any
) -> None:
    open_paired(page, base_url, make_token("tablet", counter=2), "/rate/")
    page.wait_for_selector("body[data-connected='true']", timeout=WAIT_MS)
    assert page.locator("#clerk-name").inner_text() == NO_CLERK
    page.evaluate("window.xephangNotReloaded = true")

    staff_page = app.test_client()
    assert (
        staff_page.post("/login", data={"username": "binh", "password": PASSWORD}).status_code
        == 302
    )
    signed_in = staff_page.post(
        "/api/v1/sites/s1/counters/2/sign-in", json={}, headers=_csrf(staff_page)
    )
    assert signed_in.status_code == 200, signed_in.get_json()
    page.wait_for_function(
        "() => document.getElementById('clerk-name').textContent === 'Trần Văn Bình'",
        timeout=WAIT_MS,
    )
    assert page.locator("#clerk-photo").is_hidden()  # no photo on file

    assert staff_page.post("/logout").status_code == 302
    page.wait_for_function(
        f"() => document.getElementById('clerk-name').textContent === {NO_CLERK!r}", timeout=WAIT_MS
    )
    assert page.evaluate("window.xephangNotReloaded") is True


def _csrf(client: Any) -> dict[str, str]:
    import re

    found = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert found
    return {"X-CSRFToken": found.group(1)}


# --- (b) the lobby display ------------------------------------------------------------------


def test_the_lobby_display_shows_the_new_site_name(
    app: Any, base_url: str, make_token: Any, page: Any
) -> None:
    open_paired(page, base_url, make_token("display"), "/display/")
    page.wait_for_selector("body[data-connection='online']", timeout=WAIT_MS)
    assert page.locator("#site-name").inner_text() == "Site s1"
    page.evaluate("window.xephangNotReloaded = true")

    def rename(_session: Any, site: Site) -> None:
        site.name = "Trung tâm Phục vụ hành chính công phường Hồng Hà"

    site_updated(app, rename)
    page.wait_for_function(
        "() => document.getElementById('site-name').textContent"
        " === 'Trung tâm Phục vụ hành chính công phường Hồng Hà'",
        timeout=WAIT_MS,
    )
    assert page.evaluate("window.xephangNotReloaded") is True


# --- (c) the kiosk ----------------------------------------------------------------------------


def test_the_kiosk_shows_a_new_service(app: Any, base_url: str, make_token: Any, page: Any) -> None:
    open_paired(page, base_url, make_token("kiosk"), "/kiosk/")
    page.wait_for_selector("body[data-ready=true][data-connected=true]", timeout=WAIT_MS)
    assert page.locator(".service").count() == 2
    assert page.locator(".service[data-code='C']").count() == 0
    page.evaluate("window.xephangNotReloaded = true")

    def add_service(session: Any, site: Site) -> None:
        session.add(
            Service(
                site_id=site.id,
                code="C",
                name="Đất đai",
                number_prefix="C",
                number_width=3,
                sessions=[],
                active=True,
                sort_order=5,
                default_service_s=300,
            )
        )
        session.flush()

    site_updated(app, add_service)
    page.wait_for_selector(".service[data-code='C']", timeout=WAIT_MS)
    assert "Đất đai" in page.locator(".service[data-code='C']").inner_text()
    assert page.locator(".service").count() == 3
    assert page.evaluate("window.xephangNotReloaded") is True
