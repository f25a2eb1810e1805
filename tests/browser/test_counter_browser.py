"""The clerk workstation in real Chromium (Debian's /usr/bin/chromium, Playwright).

A clerk logs in through the /login form, picks counter 1 and works with the keyboard:
G calls, B starts, H finishes with a dossier code, V marks a no-show that the no-show list
puts back in line; the waiting list follows tickets issued elsewhere; a refusal shows the
API's Vietnamese text. Waits are generous; nothing here asserts how fast anything is.

``XEPHANG_SCREENSHOTS=1`` also writes docs/counter.png (1366×768).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.accounts.services import create_user
from server.admin.counter_setup import CounterData, save_counter
from server.admin.service_setup import ServiceData, save_service
from server.admin.setup_checks import ChangeAuthor
from server.demo import seed_demo
from server.engine.events import SITE_UPDATED
from server.models import Counter, CounterService, Service, Site, Ticket
from server.runtime import runtime

from ..api_fixtures import bearer
from ..factories import build_site
from ..live import EVENT_WAIT_S, served_in_thread, wait_until
from ..staff import PASSWORD, log_in_and_pick

pytestmark = pytest.mark.slow

WAIT_MS = EVENT_WAIT_S * 1000
DOCS = Path(__file__).resolve().parents[2] / "docs"
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
    # elapsed time in words, not "Đã gọi 00:03" that reads like a time of day
    assert re.fullmatch(r"Đã gọi cách đây \d+ giây", page.locator("#timer").inner_text())
    called = wait_until("the call", lambda: row(database, first["id"]).status == "called" or None)
    assert called
    ticket = row(database, first["id"])
    assert ticket.clerk_id == hall["user_id"] and ticket.counter_id is not None

    page.keyboard.press("b")
    page.wait_for_selector("#current[data-status='serving']", timeout=WAIT_MS)
    assert re.fullmatch(r"Đã phục vụ được \d+ giây", page.locator("#timer").inner_text())
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


def test_elapsed_times_read_as_durations(base_url: str, page: Any) -> None:
    page.goto(f"{base_url}/login")
    said = page.evaluate(
        """async () => {
          const { elapsedText } = await import("/counter/static/format.js");
          const texts = { elapsed_seconds: "{s} giây", elapsed_minutes: "{m} phút {s} giây",
                          hours: "{h} giờ {m} phút" };
          return [-2000, 35000, 894000, 3720000].map((ms) => elapsedText(ms, texts));
        }"""
    )
    assert said == ["0 giây", "35 giây", "14 phút 54 giây", "1 giờ 02 phút"]


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


# Two key presses in one task: nothing of the page runs between them.
ESC_THEN_G = """() => {
  const dialog = document.getElementById("next-dialog");
  dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  document.dispatchEvent(new KeyboardEvent("keydown", { key: "g", code: "KeyG", bubbles: true }));
}"""


def test_a_lost_answer_is_sent_again_with_its_key_and_a_second_g_asks_first(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    """Issue 9, item 1: the call commits but its answer never reaches the page; the page
    sends the press again with the same key and gets that call back. A second G while the
    citizen is called but not started asks before ending that ticket (not as served)."""
    first = issue(app, hall["kiosk"])
    second = issue(app, hall["kiosk"])
    log_in_and_pick(page, base_url, "lan")
    keys: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) == 1:
            route.fetch()  # the server makes the call ...
            route.abort("connectionreset")  # ... and the answer is lost on the way back
        else:
            route.continue_()

    page.route("**/counters/1/call-next", lose_the_first_answer)
    page.keyboard.press("g")
    # the answer to the press sent again, not only the live event of the call
    wait_text(page, "#notice", f"Đã gọi số {first['number']}.")
    wait_text(page, "#current-number", first["number"])
    page.wait_for_selector("#current[data-status='called']", timeout=WAIT_MS)
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) >= 8
    assert row(database, first["id"]).status == "called"
    assert row(database, second["id"]).status == "waiting"
    page.wait_for_selector("#alert", state="hidden")

    # G again at once: nothing is sent until the clerk says so; Esc keeps the citizen
    page.keyboard.press("g")
    page.wait_for_selector("#next-dialog[open]")
    assert first["number"] in page.locator("#next-title").inner_text()
    assert "vắng mặt" in page.locator("#next-text").inner_text()
    page.keyboard.press("Escape")
    page.wait_for_selector("#next-dialog", state="hidden")
    assert len(keys) == 2 and row(database, first["id"]).status == "called"

    # Esc then G at once, before the dialog's "close" event: the G is not dropped
    page.keyboard.press("g")
    page.wait_for_selector("#next-dialog[open]", timeout=WAIT_MS)
    page.evaluate(ESC_THEN_G)
    assert page.locator("#next-dialog").evaluate("(dialog) => dialog.open")
    page.keyboard.press("Escape")
    page.wait_for_selector("#next-dialog", state="hidden")
    assert len(keys) == 2

    # confirmed: a new press with a new key; the first citizen is absent, not served
    page.keyboard.press("g")
    page.wait_for_selector("#next-dialog[open]", timeout=WAIT_MS)
    page.locator("#next-confirm").click()
    wait_text(page, "#current-number", second["number"])
    assert len(keys) == 3 and keys[2] != keys[0]
    assert row(database, first["id"]).status == "no_show"
    page.wait_for_selector(f"#no-show-rows tr[data-number='{first['number']}']", timeout=WAIT_MS)

    # once started, G is one press again and finishes the citizen served
    page.keyboard.press("b")
    page.wait_for_selector("#current[data-status='serving']", timeout=WAIT_MS)
    third = issue(app, hall["kiosk"])
    page.keyboard.press("g")
    wait_text(page, "#current-number", third["number"])
    assert not page.locator("#next-dialog").is_visible()
    assert row(database, second["id"]).status == "done"


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
        "() => document.getElementById('alert').textContent === 'Quầy đang tạm dừng phục vụ.'",
        timeout=WAIT_MS,
    )
    page.keyboard.press("t")
    page.wait_for_selector("body[data-paused='false']", timeout=WAIT_MS)


def _boxes(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => ({
          view: [window.innerWidth, window.innerHeight],
          scroll: document.scrollingElement.scrollHeight,
          buttons: [...document.querySelectorAll("#actions .action")].map((b) => {
            const r = b.getBoundingClientRect();
            return [b.id, Math.round(r.top), Math.round(r.bottom), Math.round(r.height)];
          }),
          alert: document.getElementById("alert").getBoundingClientRect().height,
        })"""
    )


def test_an_error_banner_leaves_the_buttons_on_a_1366x768_screen(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    """The refusal and the paused banner take room; the buttons stay whole on the screen."""
    page.set_viewport_size({"width": 1366, "height": 768})
    issue(app, hall["kiosk"])
    log_in_and_pick(page, base_url, "lan")
    page.keyboard.press("t")  # paused: a banner above the ticket
    page.wait_for_selector("body[data-paused='true']", timeout=WAIT_MS)
    page.keyboard.press("g")  # refused: the alert at the top
    page.locator("#alert").wait_for(state="visible", timeout=WAIT_MS)
    page.evaluate(  # and a long refusal, two lines or three
        "document.getElementById('alert').textContent += ' ' + "
        "'Không gửi được yêu cầu tới máy chủ. Vui lòng kiểm tra kết nối và thử lại. '.repeat(3)"
    )
    boxes = _boxes(page)
    _width, height = boxes["view"]
    assert boxes["alert"] > 60  # it did take room
    for name, top, bottom, tall in boxes["buttons"]:
        assert top >= 0 and bottom <= height, (name, top, bottom, boxes)
        assert tall >= 60, (name, tall)  # still a big button, not squeezed flat
    assert boxes["scroll"] <= height, boxes  # nothing is pushed below the screen


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


def options(page: Any, select: str) -> list[str]:
    return list(page.locator(f"{select} option").all_inner_texts())


def wait_options(page: Any, select: str, expected: list[str]) -> None:
    page.wait_for_function(
        "([sel, want]) => JSON.stringify([...document.querySelectorAll(sel + ' option')]"
        ".map((o) => o.textContent)) === JSON.stringify(want)",
        arg=[select, expected],
        timeout=WAIT_MS,
    )


def test_the_transfer_dialog_follows_the_admins_changes_without_a_reload(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    ticket = issue(app, hall["kiosk"], "A")
    log_in_and_pick(page, base_url, "lan")
    page.evaluate("window.__notReloaded = true")
    page.keyboard.press("g")
    wait_text(page, "#current-number", ticket["number"])
    page.keyboard.press("c")
    page.wait_for_selector("#transfer-dialog[open]")
    assert options(page, "#transfer-service") == ["Lĩnh vực A", "Lĩnh vực B"]
    assert options(page, "#transfer-counter") == ["Quầy 2"]
    page.select_option("#transfer-service", "B")

    # While the dialog is open, an admin adds a service "Đất đai" and links it to counter 1,
    # in one transaction with its site.updated event, as the admin pages do.
    rt = runtime(app)
    uow = rt.uow()
    with uow:
        site = uow.session.execute(select(Site).where(Site.code == "s1")).scalar_one()
        land = Service(site_id=site.id, code="DD", name="Đất đai", number_prefix="C", sort_order=9)
        uow.session.add(land)
        uow.session.flush()
        counter = uow.session.execute(
            select(Counter).where(Counter.site_id == site.id, Counter.number == 1)
        ).scalar_one()
        uow.session.add(CounterService(counter_id=counter.id, service_id=land.id, weight=1))
        uow.emit(site, SITE_UPDATED, {"changed": "services", "service": "DD"})
        uow.commit()
    wait_options(page, "#transfer-service", ["Lĩnh vực A", "Lĩnh vực B", "Đất đai"])
    assert page.input_value("#transfer-service") == "B"  # the choice made stays
    page.keyboard.press("Escape")
    page.wait_for_selector("#transfer-dialog[open]", state="detached")

    # The admin pages' own use cases: a new counter 3; counter 2 deactivated; B renamed.
    with database.reads() as session:
        ids = dict(session.execute(select(Service.code, Service.id)).all())
        two = session.execute(select(Counter.id).where(Counter.number == 2)).scalar_one()
    admin = ChangeAuthor(user_id=None)
    save_counter(rt.uow(), "s1", None, CounterData(3, "Một cửa", weights={ids["A"]: 1}), admin)
    save_counter(rt.uow(), "s1", two, CounterData(2, active=False, weights={ids["A"]: 1}), admin)
    save_service(
        rt.uow(),
        "s1",
        ids["B"],
        ServiceData("B", "Chứng thực", number_prefix="B", sort_order=1),
        admin,
    )
    page.keyboard.press("c")
    page.wait_for_selector("#transfer-dialog[open]")
    wait_options(page, "#transfer-counter", ["Quầy 3 — Một cửa"])
    wait_options(page, "#transfer-service", ["Lĩnh vực A", "Chứng thực", "Đất đai"])
    page.select_option("#transfer-service", "DD")
    page.click("#transfer-confirm")
    page.wait_for_selector("#transfer-dialog[open]", state="detached", timeout=WAIT_MS)
    page.wait_for_selector("#current[data-status='none']")
    # Counter 1 serves Đất đai now: the ticket sent there waits in its own list.
    page.wait_for_selector(f"#waiting-rows tr[data-number='{ticket['number']}']", timeout=WAIT_MS)
    with database.reads() as session:
        moved = session.get(Ticket, ticket["id"])
        assert moved is not None and moved.status == "waiting"
        service = session.get(Service, moved.service_id)
        assert service is not None and service.code == "DD"
    assert page.evaluate("window.__notReloaded === true")


def test_the_waiting_list_follows_the_counters_services_and_its_closing(
    app: Any, database: Any, hall: dict[str, Any], base_url: str, page: Any
) -> None:
    a1 = issue(app, hall["kiosk"], "A")
    b1 = issue(app, hall["kiosk"], "B")
    log_in_and_pick(page, base_url, "lan")
    page.evaluate("window.__notReloaded = true")
    page.wait_for_selector(f"#waiting-rows tr[data-number='{b1['number']}']")
    rt = runtime(app)
    admin = ChangeAuthor(user_id=None)
    with database.reads() as session:
        ids = dict(session.execute(select(Service.code, Service.id)).all())
        one = session.execute(select(Counter.id).where(Counter.number == 1)).scalar_one()

    # Counter 1 no longer serves B: only site.updated is sent, and B's ticket leaves the list.
    save_counter(rt.uow(), "s1", one, CounterData(1, weights={ids["A"]: 1}), admin)
    page.wait_for_selector(
        f"#waiting-rows tr[data-number='{b1['number']}']", state="detached", timeout=WAIT_MS
    )
    wait_text(page, "#waiting-total", "1")
    assert page.locator("#waiting-rows tr td.number").all_inner_texts() == [a1["number"]]

    # Deactivated (no ticket at the counter): the page says so and calls nothing.
    save_counter(rt.uow(), "s1", one, CounterData(1, active=False, weights={ids["A"]: 1}), admin)
    page.wait_for_selector("#lost-banner:not([hidden])", timeout=WAIT_MS)
    assert "Quầy này đã ngừng hoạt động" in page.inner_text("#lost-text")
    wait_text(page, "#waiting-total", "0")
    assert page.locator("#btn-call-next").is_disabled()
    assert page.evaluate("window.__notReloaded === true")


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
