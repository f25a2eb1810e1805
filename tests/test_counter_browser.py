"""The clerk workstation in real Chromium (Debian's /usr/bin/chromium, Playwright).

A clerk logs in through the /login form, picks counter 1 and works with the keyboard:
G calls, B starts, H finishes with a dossier code, V marks a no-show that the no-show list
puts back in line; the waiting list follows tickets issued elsewhere; a refusal shows the
API's Vietnamese text. Waits are generous; nothing here asserts how fast anything is.

``XEPHANG_SCREENSHOTS=1`` also writes docs/counter.png (1366×768).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.accounts.services import create_user
from server.demo import seed_demo
from server.models import Service, Ticket

from .api_fixtures import bearer
from .factories import build_site
from .live import EVENT_WAIT_S, served_in_thread, wait_until

pytestmark = pytest.mark.slow

WAIT_MS = EVENT_WAIT_S * 1000
DOCS = Path(__file__).resolve().parent.parent / "docs"
PASSWORD = "mat-khau-rat-dai-1"
EMPTY = "Không còn công dân nào đang chờ cho quầy này."


@pytest.fixture
def base_url(app: Any) -> Iterator[str]:
    """The app served by werkzeug in a thread (Socket.IO in threading mode)."""
    with served_in_thread(app) as url:
        yield url


@pytest.fixture
def hall(database: Any, clock: Any, make_token: Any) -> dict[str, Any]:
    """Site s1 (services A and B; counter 1 serves both, counter 2 only A) and clerk lan."""
    with database.writes() as session:
        build_site(session, counters={1: {"A": 1, "B": 1}, 2: {"A": 1}})
    with database.writes() as session, session.begin():
        lan = create_user(
            session,
            "lan",
            "clerk",
            PASSWORD,
            clock(),
            site_codes=("s1",),
            full_name="Nguyễn Thị Lan",
        )
        user_id = lan.id
    return {"kiosk": make_token("kiosk"), "user_id": user_id}


def issue(app: Any, token: str, service: str = "A", site: str = "s1", **fields: Any) -> Any:
    response = app.test_client().post(
        f"/api/v1/sites/{site}/tickets", json={"service": service, **fields}, headers=bearer(token)
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def row(database: Any, ticket_id: int) -> Ticket:
    with database.reads() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def log_in_and_pick(page: Any, base_url: str, username: str, counter: int = 1) -> None:
    page.goto(f"{base_url}/counter/")
    assert "/login?next=" in page.url  # sent to log in first, and back here afterwards
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector(f"li[data-counter='{counter}']")
    page.locator(f"li[data-counter='{counter}'] button", has_text="Làm việc tại quầy này").click()
    page.wait_for_url(f"**/counter/*/{counter}")
    page.wait_for_selector("body[data-ready='true'][data-connected='true']", timeout=WAIT_MS)


def wait_text(page: Any, selector: str, expected: str) -> None:
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel);"
        " return !!el && el.textContent.trim() === text; }",
        arg=[selector, expected],
        timeout=WAIT_MS,
    )


def test_a_clerk_calls_serves_and_finishes_with_the_keyboard(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    first = issue(app, hall["kiosk"])
    log_in_and_pick(page, base_url, "lan")
    assert page.locator("#clerk-name").inner_text() == "Nguyễn Thị Lan"
    assert page.locator("#waiting-rows tr").count() == 1
    # Nothing called yet: the buttons that need a ticket are off.
    assert page.locator("#btn-start").is_disabled() and page.locator("#btn-finish").is_disabled()
    assert page.locator("#btn-call-next kbd").inner_text() == "G"

    page.keyboard.press("g")
    wait_text(page, "#current-number", first["number"])
    page.wait_for_selector("#current[data-status='called']", timeout=WAIT_MS)
    assert "Đã gọi" in page.locator("#timer").inner_text()
    called = wait_until("the call", lambda: row(database, first["id"]).status == "called" or None)
    assert called
    ticket = row(database, first["id"])
    assert ticket.clerk_id == hall["user_id"] and ticket.counter_id is not None

    page.keyboard.press("b")
    page.wait_for_selector("#current[data-status='serving']", timeout=WAIT_MS)
    assert "Đã phục vụ" in page.locator("#timer").inner_text()
    assert row(database, first["id"]).status == "serving"

    page.keyboard.press("h")
    page.wait_for_selector("#finish-form:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "dossier"
    page.keyboard.type("HS-2026-0001")
    page.keyboard.press("Enter")
    page.wait_for_selector("#current[data-status='none']", timeout=WAIT_MS)
    assert page.locator("#finish-form").is_hidden()
    done = row(database, first["id"])
    assert (done.status, done.dossier_code, done.clerk_id) == (
        "done",
        "HS-2026-0001",
        hall["user_id"],
    )

    # H then Esc changes nothing.
    second = issue(app, hall["kiosk"])
    page.wait_for_selector(f"#waiting-rows tr[data-number='{second['number']}']", timeout=WAIT_MS)
    page.keyboard.press("g")
    wait_text(page, "#current-number", second["number"])
    page.keyboard.press("h")
    page.wait_for_selector("#finish-form:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector("#finish-form", state="hidden")
    assert row(database, second["id"]).status == "called"
    page.keyboard.press("b")  # the shortcuts work again at once
    page.wait_for_selector("#current[data-status='serving']", timeout=WAIT_MS)


def test_the_waiting_list_is_live_and_a_row_can_be_called(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    log_in_and_pick(page, base_url, "lan")
    page.wait_for_selector("#waiting-empty:not([hidden])")
    wait_text(page, "#waiting-total", "0")

    # Tickets issued at the kiosk appear without reloading, in the order the counter calls.
    a1 = issue(app, hall["kiosk"], "A")
    b1 = issue(app, hall["kiosk"], "B")
    elder = issue(app, hall["kiosk"], "A", priority="elderly")
    page.wait_for_selector(f"#waiting-rows tr[data-number='{elder['number']}']", timeout=WAIT_MS)
    wait_text(page, "#waiting-total", "3")
    numbers = page.locator("#waiting-rows tr td.number").all_inner_texts()
    assert numbers == [elder["number"], a1["number"], b1["number"]]
    assert "Người cao tuổi" in page.locator("#waiting-rows tr").first.inner_text()

    # "Gọi" on a row calls that ticket, out of the usual order.
    page.locator(f"#waiting-rows tr[data-number='{b1['number']}'] button").click()
    wait_text(page, "#current-number", b1["number"])
    page.wait_for_selector(f"#waiting-rows tr[data-number='{b1['number']}']", state="detached")
    wait_text(page, "#waiting-total", "2")
    assert row(database, b1["id"]).status == "called"

    # V: the citizen did not come; the no-show list puts the ticket back at the front.
    page.keyboard.press("v")
    page.wait_for_selector(f"#no-show-rows tr[data-number='{b1['number']}']", timeout=WAIT_MS)
    page.wait_for_selector("#current[data-status='none']")
    assert row(database, b1["id"]).status == "no_show"
    page.locator(f"#no-show-rows tr[data-number='{b1['number']}'] button.requeue-front").click()
    page.wait_for_selector(f"#no-show-rows tr[data-number='{b1['number']}']", state="detached")
    page.wait_for_selector(f"#waiting-rows tr[data-number='{b1['number']}']", timeout=WAIT_MS)
    assert row(database, b1["id"]).status == "waiting"
    wait_text(page, "#waiting-total", "3")


def test_a_refusal_shows_the_apis_vietnamese_text(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    log_in_and_pick(page, base_url, "lan")
    page.keyboard.press("g")
    alert = page.locator("#alert")
    alert.wait_for(state="visible", timeout=WAIT_MS)
    assert alert.get_attribute("role") == "alert"
    assert alert.inner_text() == EMPTY

    # Pausing turns G off (and says why when pressed); T resumes.
    page.keyboard.press("t")
    page.wait_for_selector("body[data-paused='true']", timeout=WAIT_MS)
    assert page.locator("#btn-call-next").is_disabled()
    assert page.locator("#pause-label").inner_text() == "Tiếp tục"
    page.keyboard.press("g")
    page.wait_for_function(
        "document.getElementById('alert').textContent === 'Quầy đang tạm ngừng phục vụ.'",
        timeout=WAIT_MS,
    )
    page.keyboard.press("t")
    page.wait_for_selector("body[data-paused='false']", timeout=WAIT_MS)


def test_transfer_sends_the_ticket_to_another_service(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    ticket = issue(app, hall["kiosk"], "A")
    log_in_and_pick(page, base_url, "lan")
    page.keyboard.press("g")
    wait_text(page, "#current-number", ticket["number"])
    page.keyboard.press("c")
    page.wait_for_selector("#transfer-dialog[open]")
    page.select_option("#transfer-service", "B")
    page.check("#transfer-dialog input[name='position'][value='front']")
    page.focus("#transfer-service")
    page.keyboard.press("Enter")
    page.wait_for_selector("#transfer-dialog[open]", state="detached", timeout=WAIT_MS)
    page.wait_for_selector("#current[data-status='none']")
    moved = row(database, ticket["id"])
    assert moved.status == "waiting" and moved.number == ticket["number"]
    with database.reads() as session:
        service = session.execute(
            select(Ticket.service_id).where(Ticket.id == ticket["id"])
        ).scalar_one()
        moved_to = session.get(Service, service)
        assert moved_to is not None and moved_to.code == "B"


def test_names_with_markup_are_shown_as_text(
    database: Any, clock: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    name = '<script>window.__xss=1</script><b>Bình</b><img src=x onerror="window.__xss=1">'
    with database.writes() as session, session.begin():
        create_user(session, "binh", "clerk", PASSWORD, clock(), site_codes=("s1",), full_name=name)
    log_in_and_pick(page, base_url, "binh", counter=2)
    assert page.locator("#clerk-name").inner_text() == name
    assert page.locator("#clerk-name *").count() == 0
    assert page.evaluate("window.__xss") is None


# --- screenshot for the README ------------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("XEPHANG_SCREENSHOTS"), reason="XEPHANG_SCREENSHOTS=1")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_screenshot_for_the_readme(
    app: Any, database: Any, clock: Any, make_token: Any, base_url: str, page: Any
) -> None:
    with database.writes() as session:
        seed_demo(session)
    with database.writes() as session, session.begin():
        create_user(
            session,
            "an",
            "clerk",
            PASSWORD,
            clock(),
            site_codes=("demo",),
            full_name="Nguyễn Văn An",
        )
    kiosk = make_token("kiosk", site="demo")
    manager = bearer(make_token("manager", site="demo"))
    client = app.test_client()
    tickets = []
    for service, priority in (
        ("HT", None),
        ("HT", None),
        ("CT", None),
        ("HT", None),
        ("CT", None),
        ("HT", "elderly"),
        ("HT", None),
        ("CT", None),
        ("HT", None),
    ):
        extra = {"priority": priority} if priority else {}
        tickets.append(issue(app, kiosk, service, site="demo", **extra))
        clock.advance(minutes=2, seconds=17)

    def act(action: str, **body: Any) -> Any:
        response = client.post(
            f"/api/v1/sites/demo/counters/1/{action}", json=body, headers=manager
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    log_in_and_pick(page, base_url, "an")
    act("call", ticket_id=tickets[1]["id"])
    act("no-show")
    act("call", ticket_id=tickets[0]["id"])
    clock.advance(minutes=1, seconds=40)
    act("start")
    clock.advance(minutes=4, seconds=5)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.reload()
    page.wait_for_selector("body[data-ready='true'][data-connected='true']", timeout=WAIT_MS)
    page.wait_for_selector("#current[data-status='serving']")
    page.wait_for_selector("#no-show-rows tr")
    page.wait_for_timeout(1200)  # the timers tick once
    page.screenshot(path=str(DOCS / "counter.png"))
    # Full HD with the dossier field open, and the transfer dialog: kept out of the docs.
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.keyboard.press("h")
    page.keyboard.type("000.00.12.H34-261123-0001")
    page.screenshot(path=str(tmp / "counter-1080p.png"))
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    page.wait_for_selector("#transfer-dialog[open]")
    page.screenshot(path=str(tmp / "counter-transfer.png"))
    page.keyboard.press("Escape")
    wait_until("the screenshot", lambda: (DOCS / "counter.png").exists())
