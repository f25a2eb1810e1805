"""Text typed by staff holding HTML or script is shown as text on the clerk and admin pages.

The site of ``test_no_injection`` (its name, header, service names and hints and counter
names carry markup) gets staff whose full names carry it too, a device token and a pairing
code labelled with it, and audit entries whose target and detail hold it. The Flask test
client checks that every admin page and the workstation send it escaped; real Chromium
then logs in through ``/login``, works the counter (call, the transfer dialog, a no-show, a
refusal that quotes a service code with markup) and goes through the admin pages, saving
forms with markup in them; the markup is seen as text and none of it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from server import audit, engine
from server.accounts import services as accounts_services
from server.accounts.services import create_user
from server.db import Database
from server.engine import UnitOfWork
from server.models import Counter, Service, Site, User
from server.pairing_codes import create_pairing_code
from server.tokens import create_token

from ..browser.test_no_injection import (
    COUNTER_NAME,
    HEADER,
    HINT,
    SERVICE_NAME,
    SITE_NAME,
    WAIT_MS,
    XSS,
    build_marked_site,
    not_run,
    shows,
)
from ..live import served_in_thread
from ..staff import PASSWORD, log_in, log_in_page

ADMIN_NAME = f"Quản trị {XSS}"
CLERK_NAME = f"Lan {XSS}"
OTHER_CLERK_NAME = f"Hoa {XSS}"
TOKEN_LABEL = f"Màn hình {XSS}"
CODE_LABEL = f"Kiosk sảnh {XSS}"
FOOTER = f"Cảm ơn {XSS}"
AUDIT_TARGET = f"đối tượng {XSS}"
AUDIT_DETAIL = f"chi tiết {XSS}"
# A service code with markup (the admin form refuses one; the API's pattern lets it through).
MARKED_CODE = '<img src=x onerror="window.__xss=1">'
ESCAPED_SCRIPT = "&lt;script&gt;window.__xss=1&lt;/script&gt;"


@pytest.fixture
def staff(database: Database, clock: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The marked site s1; an admin, clerk lan at counter 1 and clerk hoa, all named with
    markup; a display token, a pairing code and an audit entry carrying it."""
    monkeypatch.setattr(
        accounts_services,
        "generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"),
    )
    build_marked_site(database)
    with database.writes() as session:
        site = session.scalars(select(Site)).one()
        site.ticket_footer = FOOTER
        session.commit()
    ids: dict[str, Any] = {}
    with database.writes() as session, session.begin():
        for username, role, name in (
            ("root", "admin", ADMIN_NAME),
            ("lan", "clerk", CLERK_NAME),
            ("hoa", "clerk", OTHER_CLERK_NAME),
        ):
            sites = () if role == "admin" else ("s1",)
            user = create_user(
                session, username, role, PASSWORD, clock(), site_codes=sites, full_name=name
            )
            ids[username] = user.id
    with database.writes() as session:
        ids["kiosk"] = create_token(session, "s1", "kiosk", settings={"printer": "none"})
        create_token(session, "s1", "display", label=TOKEN_LABEL)
        create_pairing_code(
            session, "s1", "kiosk", label=CODE_LABEL, created_by=ids["root"], now=clock()
        )
    with database.writes() as session:
        site = session.scalars(select(Site)).one()
        audit.record(
            session,
            "site.settings",
            user_id=ids["lan"],
            site_id=site.id,
            target=AUDIT_TARGET,
            detail={"name": AUDIT_DETAIL, "lines": [AUDIT_DETAIL]},
            at=clock(),
        )
        ids["service"] = session.scalars(select(Service.id).where(Service.code == "A")).one()
        ids["counter"] = session.scalars(select(Counter.id).where(Counter.number == 1)).one()
        session.commit()
    engine.sign_in(UnitOfWork(database.writes, lambda events: None, clock), "s1", 1, ids["lan"])
    return ids


def logged_in(app: Any, username: str) -> Any:
    client = app.test_client()
    log_in(client, username)
    return client


def assert_escaped(html: str, where: str) -> None:
    assert XSS not in html, where
    assert "<script>window" not in html and "<img src=x" not in html, where
    assert 'onerror="window' not in html, where


# --- the HTML the server sends ----------------------------------------------------------------


def test_every_admin_page_sends_the_markup_escaped(app: Any, staff: dict[str, Any]) -> None:
    admin = logged_in(app, "root")
    pages = {
        "/admin/": [SITE_NAME],
        "/admin/sites/s1/settings": [SITE_NAME, HEADER, FOOTER],
        "/admin/sites/s1/services": [SERVICE_NAME, HINT],
        f"/admin/sites/s1/services/{staff['service']}": [SERVICE_NAME, HINT],
        "/admin/sites/s1/counters": [COUNTER_NAME, SERVICE_NAME, CLERK_NAME],
        f"/admin/sites/s1/counters/{staff['counter']}": [SERVICE_NAME, CLERK_NAME],
        "/admin/sites/s1/counters/new": [SERVICE_NAME],
        "/admin/users": [ADMIN_NAME, CLERK_NAME],
        f"/admin/users/{staff['lan']}": [CLERK_NAME],
        "/admin/users/new": [SITE_NAME],
        "/admin/sites/s1/devices": [SITE_NAME, TOKEN_LABEL, CODE_LABEL],
        "/admin/audit": [AUDIT_TARGET, AUDIT_DETAIL, CLERK_NAME, SITE_NAME],
    }
    for url, texts in pages.items():
        response = admin.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert_escaped(html, url)
        for text in texts:
            escaped = text.replace(XSS, "") + ESCAPED_SCRIPT
            assert escaped in html, (url, text)


def test_the_clerk_pages_send_the_markup_escaped(app: Any, staff: dict[str, Any]) -> None:
    lan = logged_in(app, "lan")
    chooser = lan.get("/counter/", query_string={"site": "s1"}, follow_redirects=True)
    html = chooser.get_data(as_text=True)
    assert_escaped(html, "chooser")
    for text in (SITE_NAME, COUNTER_NAME, CLERK_NAME):
        assert text.replace(XSS, "") + ESCAPED_SCRIPT in html, text
    desk = lan.get("/counter/s1/1")
    html = desk.get_data(as_text=True)
    assert desk.status_code == 200
    assert_escaped(html, "workstation")
    assert SITE_NAME.replace(XSS, "") + ESCAPED_SCRIPT in html
    # the boot data: names cannot close its <script> element
    assert "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e" in html
    # hoa is turned away from lan's counter with lan's name in the message, as text
    hoa = logged_in(app, "hoa")
    refused = hoa.get("/counter/s1/1", follow_redirects=True)
    html = refused.get_data(as_text=True)
    assert_escaped(html, "refusal")
    assert "Lan " + ESCAPED_SCRIPT in html


# --- in real Chromium -------------------------------------------------------------------------


@pytest.fixture
def local(app: Any, staff: dict[str, Any]) -> Iterator[str]:
    """The app with CSRF on, as in production, behind a threaded server."""
    app.config["WTF_CSRF_ENABLED"] = True
    with served_in_thread(app) as url:
        yield url


NOTHING_RAN = """() => ({
  xss: typeof window.__xss,
  onerror: document.querySelectorAll("[onerror]").length,
  images: [...document.images].filter((img) => img.getAttribute("src") === "x").length,
  scripts: [...document.scripts].filter(
    (s) => s.type !== "application/json" && s.textContent.includes("__xss")).length,
})"""


def nothing_ran(page: Any) -> None:
    """No script from the data ran and no element was made from it."""
    not_run(page)
    assert page.evaluate(NOTHING_RAN) == {
        "xss": "undefined",
        "onerror": 0,
        "images": 0,
        "scripts": 0,
    }, page.url


def has_text(page: Any, selector: str, text: str) -> None:
    """Some element of ``selector`` contains ``text`` as its literal text."""
    page.wait_for_function(
        "([sel, want]) => [...document.querySelectorAll(sel)]"
        ".some((el) => el.textContent.includes(want))",
        arg=[selector, text],
        timeout=WAIT_MS,
    )


def issue(url: str, token: str, **body: Any) -> dict[str, Any]:
    response = requests.post(
        f"{url}/api/v1/sites/s1/tickets",
        json={"service": "A", **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_chromium_shows_the_workstation_text_as_text(
    database: Database, staff: dict[str, Any], local: str, page: Any
) -> None:
    page.set_default_timeout(WAIT_MS)
    first = issue(local, staff["kiosk"])
    elder = issue(local, staff["kiosk"], priority="elderly")
    later = issue(local, staff["kiosk"])
    # a third service whose code carries markup, offered by the transfer dialog
    with database.writes() as session:
        site = session.scalars(select(Site)).one()
        session.add(
            Service(
                site_id=site.id,
                code=MARKED_CODE,
                name=f"{SERVICE_NAME} X",
                number_prefix="X",
                number_width=3,
                sessions=[],
                active=True,
                sort_order=9,
                default_service_s=300,
            )
        )
        session.commit()

    log_in_page(page, local, "lan", "/counter/s1/1")
    page.wait_for_selector("body[data-ready='true'][data-connected='true']")
    shows(page, "#clerk-name", CLERK_NAME)
    shows(page, ".site-name", SITE_NAME)
    shows(page, "#waiting-rows td.service", f"{SERVICE_NAME} A")
    shows(page, "#waiting-rows .priority-badge", "Người cao tuổi")
    assert page.locator("#waiting-rows tr").count() == 3
    nothing_ran(page)

    # called: the ticket's service on the desk
    page.keyboard.press("g")
    page.wait_for_selector(f"#current-number:text-is('{elder['number']}')")
    shows(page, "#current-service", f"{SERVICE_NAME} A")

    # the transfer dialog lists the services and the other counter by their names
    page.keyboard.press("c")
    page.wait_for_selector("#transfer-dialog[open]")
    services = page.locator("#transfer-service option").all_inner_texts()
    assert f"{SERVICE_NAME} A" in services and f"{SERVICE_NAME} X" in services
    counters = page.locator("#transfer-counter option").all_inner_texts()
    assert any(text.endswith(COUNTER_NAME) for text in counters), counters
    assert page.locator("#transfer-dialog option *").count() == 0
    nothing_ran(page)
    page.keyboard.press("Escape")
    page.wait_for_selector("#transfer-dialog[open]", state="detached")

    # a no-show: the no-show list names the service
    page.keyboard.press("v")
    page.wait_for_selector(f"#no-show-rows tr[data-number='{elder['number']}']")
    shows(page, "#no-show-rows td.service", f"{SERVICE_NAME} A")
    nothing_ran(page)

    # a refusal quoting what was sent: the service with markup is gone when the transfer goes
    page.keyboard.press("g")
    page.wait_for_selector(f"#current-number:text-is('{first['number']}')")
    with database.writes() as session:
        marked = session.scalars(select(Service).where(Service.code == MARKED_CODE)).one()
        marked.code = "X"
        session.commit()
    page.keyboard.press("c")
    page.wait_for_selector("#transfer-dialog[open]")
    page.select_option("#transfer-service", MARKED_CODE)
    page.focus("#transfer-service")
    page.keyboard.press("Enter")
    page.wait_for_selector("#transfer-error:not([hidden])")
    assert MARKED_CODE in page.locator("#transfer-error").inner_text()
    assert MARKED_CODE in page.locator("#alert").inner_text()
    assert page.locator("#transfer-error *, #alert *").count() == 0
    nothing_ran(page)
    page.keyboard.press("Escape")
    assert later["number"] in page.locator("#waiting-rows").inner_text()
    nothing_ran(page)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_chromium_shows_the_admin_text_as_text_and_runs_none_of_it(
    database: Database, staff: dict[str, Any], local: str, page: Any
) -> None:
    page.set_default_timeout(WAIT_MS)
    log_in_page(page, local, "root", "/admin/")
    shows(page, ".who", ADMIN_NAME)
    shows(page, "table.grid td", SITE_NAME)
    nothing_ran(page)

    # settings: the fields hold the text; saving it again with more markup is audited
    page.goto(f"{local}/admin/sites/s1/settings")
    shows(page, ".site-name", SITE_NAME)
    assert page.input_value("#name") == SITE_NAME
    assert page.input_value("#header_lines") == HEADER
    assert page.input_value("#ticket_footer") == FOOTER
    page.fill("#header_lines", MARKED_CODE)  # the marked header is over 60 characters
    page.fill("#ticket_footer", f"Mới {XSS}")
    page.click("form.admin-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    assert page.input_value("#ticket_footer") == f"Mới {XSS}"
    assert page.input_value("#header_lines") == MARKED_CODE
    nothing_ran(page)

    # services: the list, and a new one named with markup through the form
    page.goto(f"{local}/admin/sites/s1/services")
    shows(page, "table.services strong", f"{SERVICE_NAME} A")
    shows(page, "table.services small", HINT)
    nothing_ran(page)
    page.goto(f"{local}/admin/sites/s1/services/new")
    page.fill("#code", "C")
    page.fill("#name", f"Mới {XSS}")
    page.fill("#hint", HINT)
    page.fill("#number_prefix", "C")
    page.click("form.admin-form button[type=submit]")
    page.wait_for_url(f"{local}/admin/sites/s1/services")
    shows(page, "table.services strong", f"Mới {XSS}")
    nothing_ran(page)

    # counters: names, the clerk at work, the services they serve
    page.goto(f"{local}/admin/sites/s1/counters")
    shows(page, "table.counters td", COUNTER_NAME)
    has_text(page, "table.counters td.clerk", CLERK_NAME)
    has_text(page, "table.counters .tag", f"{SERVICE_NAME} A")
    nothing_ran(page)
    page.goto(f"{local}/admin/sites/s1/counters/{staff['counter']}")
    shows(page, ".clerk-box strong", CLERK_NAME)
    assert page.input_value("#name") == COUNTER_NAME
    has_text(page, "table.links label", f"{SERVICE_NAME} A")
    nothing_ran(page)

    # staff: full names in the list and in the form
    page.goto(f"{local}/admin/users")
    shows(page, "table.people td", CLERK_NAME)
    shows(page, "table.people td", ADMIN_NAME)
    nothing_ran(page)
    page.goto(f"{local}/admin/users/{staff['lan']}")
    assert page.input_value("#full_name") == CLERK_NAME
    nothing_ran(page)

    # devices: a token's label, a waiting code's label, and a new code labelled with markup
    page.goto(f"{local}/admin/sites/s1/devices")
    shows(page, "table.devices td", TOKEN_LABEL)
    shows(page, "table.devices td", CODE_LABEL)
    nothing_ran(page)
    new_label = f"Màn hình sảnh {XSS}"
    page.select_option("#role", "display")
    page.fill("#label", new_label)
    page.click("form.device-form button[type=submit]")
    page.wait_for_selector(".pair-code")
    has_text(page, "h1", new_label)
    nothing_ran(page)

    # the audit log: targets and details typed by people, as text
    page.goto(f"{local}/admin/audit")
    shows(page, "table.audit td", AUDIT_TARGET)
    has_text(page, "table.audit td", f"Tên: {AUDIT_DETAIL}")
    has_text(page, "table.audit td", CLERK_NAME)
    has_text(page, "table.audit td", new_label)  # the device.code entry: target and detail
    has_text(page, "table.audit td", f"Tên gọi: {new_label}")
    # service.create: the new name, the markup in it as text
    has_text(page, "table.audit td", f"Tên: Mới {XSS}")
    nothing_ran(page)
    page.goto(f"{local}/admin/audit?action=device.code")
    has_text(page, "table.audit td", new_label)
    nothing_ran(page)

    # the names the pages were made from are still the markup, unchanged
    with database.reads() as session:
        assert session.scalars(select(User.full_name).where(User.username == "lan")).one() == (
            CLERK_NAME
        )
