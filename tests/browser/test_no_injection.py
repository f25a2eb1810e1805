"""Names, service names and notice lines holding HTML or script are shown as text, never run.

A site whose name, header lines, service names and hints, counter name and a display notice
carry markup is rendered by the server (escaped in the HTML, JSON-escaped in the pages' boot
data) and shown in real Chromium: on the kiosk, the lobby and counter displays and the pairing
page, and again when the text arrives through Socket.IO events (a ticket issued from the
kiosk, then called). The script never runs and the literal text is what people see.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from flask_socketio import SocketIOTestClient

from server.db import Database
from server.models import Counter, Service, Site
from server.tokens import create_token

from ..factories import build_site
from ..live import EVENT_WAIT_S, served_in_thread

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
ESCAPED = (
    "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;"
)
SITE_NAME = f"Phường {XSS}"
HEADER = f"UBND {XSS}"
SERVICE_NAME = f"Hộ tịch {XSS}"
HINT = f"Khai sinh {XSS}"
COUNTER_NAME = f"Quầy {XSS}"
NOTICE = f"Thông báo {XSS}"
WAIT_MS = EVENT_WAIT_S * 1000


def build_marked_site(database: Database) -> None:
    with database.writes() as s:
        build_site(s)
        site = s.query(Site).one()
        site.name = SITE_NAME
        site.header_lines = [HEADER]
        for service in s.query(Service).all():
            service.name = f"{SERVICE_NAME} {service.code}"
            service.hint = HINT
        for counter in s.query(Counter).all():
            counter.name = COUNTER_NAME
        s.commit()


def tokens(database: Database) -> dict[str, str]:
    with database.writes() as s:
        return {
            "kiosk": create_token(s, "s1", "kiosk", settings={"printer": "none"}),
            "display": create_token(s, "s1", "display"),
            "clerk": create_token(s, "s1", "clerk", counter=1),
        }


# --- the server's HTML and events -------------------------------------------------------------


def paired(client: Any, token: str) -> Any:
    client.get("/pair", query_string={"token": token})
    return client


def test_the_pages_carry_the_text_escaped(app: Any, database: Database) -> None:
    build_marked_site(database)
    keys = tokens(database)
    kiosk = paired(app.test_client(), keys["kiosk"])
    display = paired(app.test_client(), keys["display"])
    pages = {
        "kiosk": kiosk.get("/kiosk/"),
        "lobby": display.get("/display/", query_string={"notice": NOTICE}),
        "counter": display.get("/display/counter/1"),
        "pair": app.test_client().get("/pair", query_string={"next": f"/x{XSS}"}),
    }
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert XSS not in html and "<img src=x" not in html, name
        assert "<script>window" not in html, name
    shown = {name: response.get_data(as_text=True) for name, response in pages.items()}
    assert f"Phường {ESCAPED}" in shown["kiosk"] and f"UBND {ESCAPED}" in shown["kiosk"]
    assert f"Phường {ESCAPED}" in shown["lobby"] and f"Thông báo {ESCAPED}" in shown["lobby"]
    assert f"Phường {ESCAPED}" in shown["counter"]
    assert f"/x{ESCAPED}" in shown["pair"]
    # names inside the pages' JSON boot data cannot close their <script> element
    assert "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e" in shown["kiosk"]
    assert "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e" in shown["lobby"]


def test_events_carry_the_literal_text(app: Any, database: Database) -> None:
    """Events are JSON for scripts that render text: the names arrive as they are, unchanged."""
    build_marked_site(database)
    keys = tokens(database)
    socket: SocketIOTestClient = app.extensions["socketio"].test_client(
        app, auth={"token": keys["display"]}
    )
    try:
        [state] = [m["args"][0] for m in socket.get_received() if m["name"] == "state"]
        assert state["site"]["name"] == SITE_NAME
        assert {s["name"] for s in state["services"]} == {f"{SERVICE_NAME} A", f"{SERVICE_NAME} B"}
        client = app.test_client()
        headers = {"Authorization": f"Bearer {keys['kiosk']}"}
        issued = client.post("/api/v1/sites/s1/tickets", json={"service": "A"}, headers=headers)
        assert issued.status_code == 201, issued.get_data(as_text=True)
        headers = {"Authorization": f"Bearer {keys['clerk']}"}
        called = client.post("/api/v1/sites/s1/counters/1/call-next", headers=headers)
        assert called.status_code == 200, called.get_data(as_text=True)
        events = {m["name"]: m["args"][0] for m in socket.get_received()}
        assert events["ticket.called"]["ticket"]["service_name"] == f"{SERVICE_NAME} A"
    finally:
        socket.disconnect()


# --- in real Chromium -------------------------------------------------------------------------


@pytest.fixture
def local(app: Any) -> Iterator[str]:
    with served_in_thread(app) as url:
        yield url


def not_run(page: Any) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"


def shows(page: Any, selector: str, text: str) -> None:
    """The element shows exactly ``text``: visible, its text the literal markup."""
    page.wait_for_function(
        "([sel, want]) => [...document.querySelectorAll(sel)]"
        ".some((el) => el.textContent.trim() === want)",
        arg=[selector, text],
        timeout=WAIT_MS,
    )
    element = page.locator(selector).filter(has_text=text).first
    assert element.is_visible(), selector


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_chromium_shows_the_markup_as_text_and_runs_none_of_it(
    database: Database, local: str, page: Any, chromium: Any
) -> None:
    build_marked_site(database)
    keys = tokens(database)
    page.set_default_timeout(WAIT_MS)

    # the pairing page, with markup in its "next" and in a typed code
    page.goto(f"{local}/pair?next={quote('/x' + XSS)}&code={quote(XSS)}")
    assert page.locator("input[name=next]").input_value() == "/x" + XSS
    assert page.locator("input[name=code]").input_value() == XSS  # the link fills the form
    page.click("button[type=submit]")
    assert page.locator(".error").is_visible()
    not_run(page)

    # the displays, paired as one device: the lobby with a notice, and counter 1
    lobby_path = "/display/?" + "notice=" + quote(NOTICE)
    page.goto(f"{local}/pair?token={keys['display']}&next={quote(lobby_path)}")
    page.wait_for_function("() => window.xephangDisplay && window.xephangDisplay.socket.connected")
    counter = page.context.new_page()
    counter.set_default_timeout(WAIT_MS)
    counter.goto(f"{local}/display/counter/1")
    counter.wait_for_function(
        "() => window.xephangDisplay && window.xephangDisplay.socket.connected"
    )
    shows(page, "#site-name", SITE_NAME)
    shows(page, "#notice-text", NOTICE)
    shows(page, ".tile .name", COUNTER_NAME)
    shows(counter, "#idle-counter", COUNTER_NAME)  # no one called: the counter is the screen

    # the kiosk: the header, the site's name, the services and their hints
    kiosk_context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    try:
        kiosk = kiosk_context.new_page()
        kiosk.set_default_timeout(WAIT_MS)
        kiosk.goto(f"{local}/pair?token={keys['kiosk']}&next=/kiosk/")
        kiosk.wait_for_selector("body[data-ready=true][data-connected=true]")
        shows(kiosk, ".agency-line", HEADER)
        shows(kiosk, ".site-name", SITE_NAME)
        shows(kiosk, ".service-name", f"{SERVICE_NAME} A")
        shows(kiosk, ".service-hint", HINT)
        # a ticket taken at the kiosk: its service name on the ticket screen, and an event
        kiosk.locator(".service[data-code='A']").click()
        kiosk.wait_for_selector("#screen-ticket:not([hidden])")
        shows(kiosk, "#ticket-service", f"{SERVICE_NAME} A")
        not_run(kiosk)
    finally:
        kiosk_context.close()

    # the call reaches both displays through Socket.IO with the service's name
    response = requests.post(
        f"{local}/api/v1/sites/s1/counters/1/call-next",
        headers={"Authorization": f"Bearer {keys['clerk']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    shows(counter, "#service", f"{SERVICE_NAME} A")
    shows(counter, "#counter-name", COUNTER_NAME)
    shows(page, ".tile .service", f"{SERVICE_NAME} A")
    shows(page, "#newest-service", f"{SERVICE_NAME} A")
    not_run(page)
    not_run(counter)
