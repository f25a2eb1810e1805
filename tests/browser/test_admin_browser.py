"""The admin pages in real Chromium: a service added in the browser is on the kiosk at once.

A paired kiosk page is open; an admin logs in through ``/login`` in another
window and adds a service with the form; the kiosk shows its button without
reloading, and hides it again when the service is deactivated.

``XEPHANG_SCREENSHOTS=1`` also writes docs/admin.png (the services page of the demo center).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.accounts.services import create_user
from server.demo import seed_demo
from server.models import Service
from server.runtime import runtime

from ..factories import ServiceSpec, build_site
from ..live import served_in_thread
from ..staff import PASSWORD, log_in_page

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs"
WAIT_MS = 20000


@pytest.fixture
def local(app: Any, database: Any, clock: Any) -> Iterator[str]:
    """The test app (CSRF on, as in production) behind a threaded server; an admin account."""
    with database.writes() as session:
        build_site(
            session,
            services=[
                ServiceSpec("HT", name="Hộ tịch", prefix="A"),
                ServiceSpec("CT", name="Chứng thực", prefix="B"),
            ],
            counters={1: {"HT": 10}, 2: {"CT": 10}},
        )
    with database.writes() as session, session.begin():
        create_user(session, "admin", "admin", PASSWORD, clock(), full_name="Nguyễn Văn An")
    app.config["WTF_CSRF_ENABLED"] = True
    with served_in_thread(app) as url:
        yield url


def kiosk_button(page: Any, code: str) -> Any:
    return page.locator(f".service[data-code='{code}']")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_service_added_in_the_browser_appears_on_the_open_kiosk(
    local, make_token, page, chromium, database
):
    page.goto(f"{local}/pair?token={make_token('kiosk')}&next=/kiosk/")
    page.wait_for_selector("body[data-ready=true][data-connected=true]", timeout=WAIT_MS)
    assert kiosk_button(page, "HT").count() == 1 and kiosk_button(page, "DD").count() == 0
    page.evaluate("window.__notReloaded = true")

    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    admin = context.new_page()
    try:
        log_in_page(admin, local, "admin", "/admin/sites/s1/services/new")
        admin.fill("#code", "DD")
        admin.fill("#name", "Đất đai")
        admin.fill("#hint", "Đăng ký biến động, cấp giấy chứng nhận")
        admin.fill("#number_prefix", "C")
        admin.fill("#sort_order", "3")
        admin.click("form.admin-form button[type=submit]")
        admin.wait_for_url(f"{local}/admin/sites/s1/services", timeout=WAIT_MS)
        assert "Đã lưu." in admin.inner_text(".flash")
        assert "Đất đai" in admin.inner_text("table.services")

        button = kiosk_button(page, "DD")
        button.wait_for(state="visible", timeout=WAIT_MS)
        assert "Đất đai" in button.inner_text()
        assert page.evaluate("window.__notReloaded === true")

        # a wrong field: shown beside it in Vietnamese, nothing saved, the kiosk unchanged
        admin.click("a[href$='/services/new']")
        admin.fill("#code", "TP")
        admin.fill("#name", "Tư pháp")
        admin.fill("#number_prefix", "C")
        admin.click("form.admin-form button[type=submit]")
        admin.wait_for_selector(".field-error", timeout=WAIT_MS)
        assert "số sẽ bị trùng" in admin.inner_text("#number_prefix-error")
        assert admin.input_value("#name") == "Tư pháp"

        # deactivated: the button goes, still without a reload
        with database.reads() as session:
            service_id = session.query(Service.id).filter(Service.code == "DD").scalar()
        admin.goto(f"{local}/admin/sites/s1/services/{service_id}")
        admin.uncheck("#active")
        admin.click("form.admin-form button[type=submit]")
        admin.wait_for_url(f"{local}/admin/sites/s1/services", timeout=WAIT_MS)
        kiosk_button(page, "DD").wait_for(state="detached", timeout=WAIT_MS)
        assert kiosk_button(page, "HT").is_visible()
        assert page.evaluate("window.__notReloaded === true")
    finally:
        context.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_opening_session_row_is_added_and_removed_in_the_browser(local, page, database):
    log_in_page(page, local, "admin", "/admin/sites/s1/services/new")
    page.wait_for_selector("#session-add:not([hidden])")
    assert page.locator("#sessions-no-js").is_hidden()
    rows = page.locator("tr.session-row")
    assert rows.count() == 2  # the two blank rows the page always has
    page.fill("#code", "DD")
    page.fill("#name", "Đất đai")
    page.fill("#number_prefix", "C")

    def fill(row: Any, start: str, end: str, days: tuple[str, ...] = ()) -> None:
        row.locator("input[name$='-start']").fill(start)
        row.locator("input[name$='-end']").fill(end)
        for day in days:
            row.locator(f"input[type=checkbox][value='{day}']").check()

    fill(rows.nth(0), "07:30", "11:30", ("1", "2", "3", "4", "5"))
    fill(rows.nth(1), "13:30", "17:00", ("1", "2", "3", "4", "5"))
    page.click("#session-add")
    assert rows.count() == 3
    third = rows.nth(2)
    assert third.locator("input[name$='-start']").input_value() == ""
    assert third.locator("input[name$='-start']").get_attribute("name") == "sessions-2-start"
    assert page.evaluate("document.activeElement.name") == "sessions-2-days"
    fill(third, "07:30", "11:30", ("6",))
    # One more, then "Xóa" takes it away again.
    page.click("#session-add")
    assert rows.count() == 4
    fill(rows.nth(3), "20:00", "21:00")
    rows.nth(3).locator("button.session-remove").click()
    assert rows.count() == 3
    page.click("form.admin-form button[type=submit]")
    page.wait_for_url(f"{local}/admin/sites/s1/services", timeout=WAIT_MS)
    with database.reads() as session:
        saved = session.query(Service).filter(Service.code == "DD").one().sessions
    assert saved == [
        {"start": "07:30", "end": "11:30", "days": [1, 2, 3, 4, 5]},
        {"start": "13:30", "end": "17:00", "days": [1, 2, 3, 4, 5]},
        {"start": "07:30", "end": "11:30", "days": [6]},
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_service_form_works_without_javascript(local, chromium, database):
    context = chromium.new_context(java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    try:
        log_in_page(page, local, "admin", "/admin/sites/s1/services/new")
        assert page.locator("#session-add").is_hidden()
        assert page.locator("#sessions-no-js").is_visible()
        assert page.locator("button.session-remove:visible").count() == 0
        page.fill("#code", "DD")
        page.fill("#name", "Đất đai")
        page.fill("#number_prefix", "C")
        page.locator("tr.session-row").nth(1).locator("input[name$='-start']").fill("13:30")
        page.locator("tr.session-row").nth(1).locator("input[name$='-end']").fill("17:00")
        page.click("form.admin-form button[type=submit]")
        page.wait_for_url(f"{local}/admin/sites/s1/services", timeout=WAIT_MS)
    finally:
        context.close()
    with database.reads() as session:
        saved = session.query(Service).filter(Service.code == "DD").one().sessions
    assert saved == [{"start": "13:30", "end": "17:00"}]


# --- the README's picture ------------------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("XEPHANG_SCREENSHOTS"), reason="XEPHANG_SCREENSHOTS=1")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_screenshot_of_the_services_page(app, database, clock, chromium):
    with database.writes() as session:
        seed_demo(session)
    with database.writes() as session, session.begin():
        create_user(session, "admin", "admin", PASSWORD, clock(), full_name="Nguyễn Thị Mai")
        office_hours = [
            {"start": "07:30", "end": "11:30", "days": [1, 2, 3, 4, 5]},
            {"start": "13:30", "end": "17:00", "days": [1, 2, 3, 4, 5]},
            {"start": "07:30", "end": "11:30", "days": [6]},
        ]
        for service in session.query(Service):
            service.sessions = office_hours
            if service.code == "DD":
                service.number_prefix, service.range_start, service.range_end = None, 3001, 3999
            if service.code == "CT":
                service.daily_cap = 150
            if service.code == "LD":
                service.active = False
    with served_in_thread(app) as url:
        context = chromium.new_context(viewport={"width": 1366, "height": 860}, locale="vi-VN")
        page = context.new_page()
        try:
            log_in_page(page, url, "admin", "/admin/sites/demo/services")
            runtime(app)  # the app is the one served
            page.wait_for_timeout(200)
            DOCS.mkdir(exist_ok=True)
            page.screenshot(path=str(DOCS / "admin.png"), full_page=True)
        finally:
            context.close()
    assert (DOCS / "admin.png").stat().st_size > 10_000
