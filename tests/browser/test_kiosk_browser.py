"""The kiosk page in real Chromium (Debian's), against a real `xephang serve`.

A kiosk is paired once with its token, a citizen taps a service and reads the
number; the ticket is in the database. Double taps and lost answers make one
ticket; closed and full services cannot be tapped; counts follow the queue; a
lost connection shows and heals by itself.

``XEPHANG_DOCS_SCREENSHOTS=1`` also writes the README's screenshots to docs/.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, delete, func, insert, select, text, update

from server.kiosk_pages import dispatch
from server.models import Counter, CounterService, Service, Ticket, User
from server.realtime.live import live_boot

from .. import live
from ..factories import ServiceSpec, build_site
from ..live import Install, Server, served_in_thread

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs"
WAIT_MS = 20000
# window.print() is replaced in every frame: the test counts what would be printed.
PRINT_SPY = """
window.print = () => {
  const top = window.top;
  (top.__printed = top.__printed || []).push({
    url: location.href,
    number: document.getElementById("ticket") && document.getElementById("ticket").dataset.number,
  });
};
"""


@pytest.fixture
def install(tmp_path: Path) -> Install:
    """`xephang init --demo` on a SQLite file: six services, counters 1-5, always open."""
    inst = Install(
        database_url=f"sqlite:///{tmp_path / 'xephang.sqlite3'}",
        redis_url=None,
        channel=f"xephang-kiosk-{uuid.uuid4().hex}",
        workdir=tmp_path,
    )
    inst.run("init", "--demo")
    return inst


@pytest.fixture
def db(install: Install) -> Iterator[Any]:
    engine = create_engine(install.database_url)
    yield engine
    engine.dispose()


def ticket_count(db: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Ticket)).scalar_one())


def open_kiosk(page: Any, url: str, token: str, path: str = "/kiosk/") -> None:
    page.add_init_script(PRINT_SPY)
    page.goto(f"{url}/pair?token={token}&next={path}")
    page.wait_for_selector("body[data-ready=true][data-connected=true]", timeout=WAIT_MS)


def button(page: Any, code: str) -> Any:
    return page.locator(f".service[data-code='{code}']")


def shown_number(page: Any) -> str:
    page.wait_for_selector("#screen-ticket:not([hidden])", timeout=WAIT_MS)
    return str(page.inner_text("#ticket-number"))


def screenshot(page: Any, name: str, tmp_path: Path) -> None:
    page.screenshot(path=str(tmp_path / name))
    if os.environ.get("XEPHANG_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        page.screenshot(path=str(DOCS / name))


# --- against `xephang serve` ---------------------------------------------------------------


def staff_counters(db: Any) -> None:
    """A clerk at each demo counter, as ``xephang demo`` signs them in: waits are estimated
    only for counters with a clerk (issue 9, item 5)."""
    with db.begin() as conn:
        for number in range(1, 6):
            user = conn.execute(
                insert(User).values(
                    username=f"canbo{number}",
                    password_hash="-",
                    role="clerk",
                    created_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]
            conn.execute(update(Counter).where(Counter.number == number).values(clerk_id=user))


def test_tap_a_service_the_number_appears_and_the_ticket_is_stored(
    install, serve, db, page, tmp_path
):
    staff_counters(db)
    server = serve("kiosk")
    staff = install.token("kiosk")
    for service in ("HT", "HT", "CT", "DD"):  # a queue to look at
        server.post("/tickets", staff, {"service": service})
    open_kiosk(page, server.url, install.token("kiosk"))
    assert page.inner_text("#prompt") == "Chạm vào lĩnh vực để lấy số thứ tự"
    assert "Đang chờ: 2" in button(page, "HT").inner_text()
    assert "Chờ khoảng" in button(page, "HT").inner_text()
    # every face is the bundled font, not whatever the PC has
    assert page.evaluate("document.fonts.check('700 20px \"Kiosk Sans\"', 'Đăng ký')")
    screenshot(page, "kiosk.png", tmp_path)

    button(page, "HT").click()
    assert shown_number(page) == "A003"
    assert page.inner_text("#ticket-service") == "Hộ tịch"
    assert page.inner_text("#ticket-ahead") == "Số người chờ trước: 2"
    assert page.inner_text("#ticket-wait").startswith("Thời gian chờ dự kiến: khoảng")
    assert "Vui lòng giữ phiếu và chờ gọi số" in page.inner_text("#screen-ticket")
    # the demo kiosk prints in the browser: the ticket page was printed, once
    page.wait_for_function("() => (window.__printed || []).length === 1", timeout=WAIT_MS)
    [printed] = page.evaluate("window.__printed")
    assert printed["number"] == "A003" and "/slip?paper=80&print=1" in printed["url"]
    page.wait_for_function(
        "() => document.getElementById('ticket-print').textContent.includes('khay máy in')"
    )
    page.wait_for_selector("#ticket-done:not([disabled])")
    screenshot(page, "kiosk-ticket-screen.png", tmp_path)
    with db.connect() as conn:
        row = conn.execute(
            select(Ticket.number, Ticket.channel, Ticket.status).where(Ticket.number == "A003")
        ).one()
    assert tuple(row) == ("A003", "kiosk", "waiting")
    # "Xong" goes back to the start; the count includes the new ticket
    page.click("#ticket-done")
    page.wait_for_selector("#screen-home:not([hidden])")
    page.wait_for_function(
        "() => document.querySelector(\".service[data-code='HT']\")"
        ".textContent.includes('Đang chờ: 3')",
        timeout=WAIT_MS,
    )


def test_double_taps_and_lost_answers_make_one_ticket(install, serve, db, page):
    server = serve("kiosk")
    open_kiosk(page, server.url, install.token("kiosk"))

    button(page, "CT").dblclick()
    assert shown_number(page) == "B001"
    assert ticket_count(db) == 1
    page.click("#ticket-done", timeout=WAIT_MS)

    # three taps in one go
    page.wait_for_selector("#screen-home:not([hidden])")
    page.evaluate(
        "[1, 2, 3].forEach(() => document.querySelector(\".service[data-code='CT']\").click())"
    )
    assert shown_number(page) == "B002"
    assert ticket_count(db) == 2
    page.click("#ticket-done", timeout=WAIT_MS)

    # the server makes the ticket but its answer never arrives: the page asks again, same key
    keys: list[str] = []

    def lose_first_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the ticket is made...
            route.abort("connectionreset")  # ...and the answer is lost
        else:
            route.continue_()

    page.route("**/kiosk/api/tickets", lose_first_answer)
    page.wait_for_selector("#screen-home:not([hidden])")
    button(page, "CT").click()
    assert shown_number(page) == "B003"
    assert len(keys) == 2 and keys[0] == keys[1]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", keys[0]
    )
    assert ticket_count(db) == 3


def test_english_and_back(install, serve, page):
    server = serve("kiosk")
    open_kiosk(page, server.url, install.token("kiosk"))
    page.click("#lang-toggle")
    assert page.inner_text("#prompt") == "Touch a service to take a number"
    assert page.inner_text("#lang-toggle") == "Tiếng Việt"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Waiting: 0" in button(page, "HT").inner_text()
    assert "Hộ tịch" in button(page, "HT").inner_text()  # names are the site's own
    page.click("#priority-open")
    assert "Elderly person" in page.inner_text("#screen-priority")
    page.click("#priority-back")
    button(page, "TP").click()
    assert shown_number(page) == "D001"
    assert page.inner_text("#ticket-ahead") == "People ahead of you: 0"
    assert "Please keep your ticket" in page.inner_text("#screen-ticket")
    page.click("#ticket-done", timeout=WAIT_MS)
    page.click("#lang-toggle")
    assert page.inner_text("#prompt") == "Chạm vào lĩnh vực để lấy số thứ tự"
    assert page.inner_text("#lang-toggle") == "English"


def test_a_priority_citizen_gets_a_priority_ticket(install, serve, db, page):
    server = serve("kiosk")
    open_kiosk(page, server.url, install.token("kiosk"))
    page.click("#priority-open")
    page.click(".reason[data-priority='pregnant']")
    assert page.inner_text("#priority-selected") == "Ưu tiên: Phụ nữ có thai"
    assert page.inner_text("#prompt") == "Chọn lĩnh vực cần giải quyết"
    button(page, "HT").click()
    assert shown_number(page) == "A001"
    assert page.inner_text("#ticket-priority") == "Ưu tiên: Phụ nữ có thai"
    with db.connect() as conn:
        assert conn.execute(select(Ticket.priority_reason)).scalar_one() == "pregnant"


def close_services(db: Any) -> None:
    """DD never open (00:00-00:00), TP with no numbers left today."""
    with db.begin() as conn:
        conn.execute(
            update(Service)
            .where(Service.code == "DD")
            .values(sessions=[{"start": "00:00", "end": "00:00"}])
        )
        conn.execute(update(Service).where(Service.code == "TP").values(daily_cap=0))


def test_closed_and_full_services_cannot_be_tapped(install, serve, db, page):
    server = serve("kiosk")
    close_services(db)
    open_kiosk(page, server.url, install.token("kiosk"))
    closed, full = button(page, "DD"), button(page, "TP")
    assert closed.is_disabled() and full.is_disabled()
    assert "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ" in closed.inner_text()
    assert "Đã hết số hôm nay" in full.inner_text()
    closed.click(force=True)
    full.click(force=True)
    page.wait_for_timeout(500)
    assert page.is_visible("#screen-home") and ticket_count(db) == 0


def test_unserved_and_unstaffed_services_say_there_is_no_counter(install, serve, db, page):
    """Issue 9, items 4 and 5: no active counter serves LD (disabled); no clerk is signed
    in anywhere (``init --demo``), so the others say so instead of a wait, and never
    "Không phải chờ"."""
    with db.begin() as conn:
        ld = conn.execute(select(Service.id).where(Service.code == "LD")).scalar_one()
        conn.execute(delete(CounterService).where(CounterService.service_id == ld))
    server = serve("kiosk")
    open_kiosk(page, server.url, install.token("kiosk"))
    unserved, open_one = button(page, "LD"), button(page, "HT")
    assert unserved.is_disabled() and "Chưa có quầy phục vụ" in unserved.inner_text()
    assert not open_one.is_disabled()
    assert open_one.locator(".service-wait").inner_text() == "Chưa có quầy phục vụ"
    assert "Không phải chờ" not in page.inner_text("#services")
    unserved.click(force=True)
    page.wait_for_timeout(500)
    assert page.is_visible("#screen-home") and ticket_count(db) == 0


def test_a_service_closed_since_the_page_loaded_says_so_and_the_kiosk_recovers(
    install, serve, db, page
):
    server = serve("kiosk")
    open_kiosk(page, server.url, install.token("kiosk"))
    close_services(db)  # no event tells the page
    button(page, "DD").click()
    page.wait_for_selector("#screen-error:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#error-text") == "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ"
    # back to the start by itself, and the button now says it is closed
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT_MS)
    assert button(page, "DD").is_disabled()
    assert ticket_count(db) == 0


def test_counts_follow_the_queue_live(install, serve, page):
    server = serve("kiosk")
    open_kiosk(page, server.url, install.token("kiosk"))
    other_kiosk, clerk = install.token("kiosk"), install.token("clerk", counter=2)
    for _ in range(2):
        server.post("/tickets", other_kiosk, {"service": "CT"})
    expect_waiting(page, "CT", 2)
    server.post("/counters/2/call-next", clerk)
    expect_waiting(page, "CT", 1)


def expect_waiting(page: Any, code: str, n: int) -> None:
    page.wait_for_function(
        f"() => document.querySelector(\".service[data-code='{code}'] .service-waiting\")"
        f".textContent === 'Đang chờ: {n}'",
        timeout=WAIT_MS,
    )


def test_a_lost_connection_shows_and_heals_by_itself(install, serve, page, monkeypatch):
    server = serve("kiosk")
    open_kiosk(page, server.url, install.token("kiosk"))
    assert page.is_hidden("#offline")
    server.stop()
    page.wait_for_selector("#offline:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#offline") == "Mất kết nối máy chủ. Đang kết nối lại…"
    # the server comes back at the same address
    monkeypatch.setattr(live, "free_port", lambda: server.port)
    again: Server = serve("kiosk-again")
    page.wait_for_selector("#offline[hidden]", state="attached", timeout=60000)
    # and the counts are live again
    server_token = install.token("kiosk")
    requests.post(
        f"{again.url}/api/v1/sites/demo/tickets",
        json={"service": "LD"},
        headers={"Authorization": f"Bearer {server_token}"},
        timeout=30,
    ).raise_for_status()
    expect_waiting(page, "LD", 1)


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920)])
def test_big_targets_at_1080p_either_way(install, serve, page, width, height):
    server = serve("kiosk")
    page.set_viewport_size({"width": width, "height": height})
    open_kiosk(page, server.url, install.token("kiosk"))
    # 2 cm is 76 CSS px; everything fits on one screen, nothing scrolls
    min_px = 2 / 2.54 * 96
    for locator in (page.locator(".service"), page.locator("#lang-toggle, #priority-open")):
        for index in range(locator.count()):
            box = locator.nth(index).bounding_box()
            assert box["width"] >= min_px and box["height"] >= min_px, box
            assert box["y"] + box["height"] <= height and box["x"] + box["width"] <= width
    page.click("#priority-open")
    for index in range(page.locator(".reason").count()):
        box = page.locator(".reason").nth(index).bounding_box()
        assert box["height"] >= min_px and box["y"] + box["height"] <= height
    page.click("#priority-back")
    button(page, "HT").click()  # "A…": the widest letter
    shown_number(page)
    number = page.locator("#ticket-number")
    assert number.evaluate("n => n.scrollWidth <= n.clientWidth")
    # on one line: a number broken in two ("A00" / "1") is misread
    one_line = (
        "n => n.getBoundingClientRect().height < 1.6 * parseFloat(getComputedStyle(n).fontSize)"
    )
    assert number.evaluate(one_line)
    box = page.locator("#ticket-done").bounding_box()
    assert box["height"] >= min_px and box["y"] + box["height"] <= height


# --- in this process: short timers, a printer that fails ------------------------------------

SHORT = {"ticket": 2, "ticket_unprinted": 3, "choice": 3, "idle": 3, "error": 2}


@pytest.fixture
def local(app, database) -> Iterator[str]:
    """The test app behind a threaded WSGI server, with the kiosk's timers cut short."""
    with database.writes() as s:
        build_site(
            s,
            services=[ServiceSpec("A", name="Hộ tịch", prefix="A"), ServiceSpec("B", prefix="B")],
        )
    app.config["KIOSK_TIMEOUTS"] = SHORT
    with served_in_thread(app) as url:
        yield url


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_number_goes_away_and_the_idle_screen_comes(local, make_token, page):
    open_kiosk(page, local, make_token("kiosk"))
    page.click("#lang-toggle")  # a foreigner used it last
    button(page, "A").click()
    assert shown_number(page) == "A001"
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT_MS)
    page.wait_for_selector("#idle:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#idle-vi") == "Chạm vào màn hình để lấy số thứ tự"
    assert page.inner_text("#idle-en") == "Touch the screen to take a number"
    assert page.evaluate("document.documentElement.lang") == "vi"  # Vietnamese again
    page.click("#idle")
    assert page.is_hidden("#idle") and page.is_visible("#screen-home")
    assert page.inner_text("#prompt") == "Chạm vào lĩnh vực để lấy số thứ tự"
    # a half-made priority choice does not wait for ever either
    page.click("#priority-open")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT_MS)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_printer_failure_shows_the_number_with_a_clear_message(
    local, make_token, page, database, monkeypatch
):
    def failing(principal, ticket_id, number=None):
        return dispatch.PrintResult(
            "server",
            "failed",
            7,
            "printer_out_of_paper",
            "Máy in đã hết giấy nên chưa in được phiếu.",
        )

    monkeypatch.setattr(dispatch, "print_issued_ticket", failing)
    open_kiosk(page, local, make_token("kiosk"))
    button(page, "A").click()
    assert shown_number(page) == "A001"
    assert page.inner_text("#ticket-print") == "Máy in đang gặp sự cố, vui lòng ghi nhớ số của bạn"
    assert page.inner_text("#ticket-print-detail") == "Máy in đã hết giấy nên chưa in được phiếu."
    assert page.inner_text("#ticket-keep") == "Vui lòng chờ gọi số"  # there is no paper to keep
    with database.reads() as s:
        assert s.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 1
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT_MS)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_unreachable_server_never_leaves_the_kiosk_stuck(local, make_token, page):
    open_kiosk(page, local, make_token("kiosk"))
    page.route("**/kiosk/api/tickets", lambda route: route.abort("connectionrefused"))
    button(page, "A").click()
    page.wait_for_selector("#screen-error:not([hidden])", timeout=WAIT_MS)
    assert page.inner_text("#error-text").startswith("Chưa lấy được số.")
    page.wait_for_selector("#screen-home:not([hidden])", timeout=WAIT_MS)
    assert not button(page, "A").is_disabled()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_gap_in_seq_asks_for_the_snapshot_again(local, page):
    """The shared live connection alone, with a stand-in for the Socket.IO client."""
    page.goto(f"{local}/healthz")
    result = page.evaluate(
        """async () => {
          const handlers = {};
          const emitted = [];
          window.io = () => ({
            on: (name, handler) => { handlers[name] = handler; },
            emit: (name) => emitted.push(name),
            connect() {},
            connected: true,
            active: true,
          });
          const { connectLive } = await import("/static/live/connect.js");
          const applied = [];
          connectLive({
            live: __LIVE__, auth: { token: "xph_test" },
            onState: (s) => applied.push(["state", s.seq]),
            onMessage: (name, m) => applied.push([name, m.seq]), onConnection: () => {},
            refreshMs: 1e9, settleMs: 1e9,
          });
          handlers["state"]({ seq: 5, services: [] });
          handlers["ticket.issued"]({ seq: 5, waiting: {} });   // in the snapshot already
          handlers["ticket.issued"]({ seq: 6, waiting: {} });   // the next one
          const beforeGap = emitted.length;
          handlers["ticket.called"]({ seq: 9, waiting: {} });   // 7 and 8 were missed
          const afterGap = emitted.slice(beforeGap);
          handlers["state"]({ seq: 9, services: [] });
          handlers["ticket.updated"]({ seq: 10, waiting: {} });
          const beforeSettings = emitted.length;
          handlers["site.updated"]({ seq: 11, changed: "services" });  // an admin's change
          const afterSettings = emitted.slice(beforeSettings);
          return { applied, beforeGap, afterGap, total: beforeSettings, afterSettings };
        }""".replace("__LIVE__", json.dumps(live_boot()))
    )
    assert result["applied"] == [
        ["state", 5],
        ["ticket.issued", 6],
        ["ticket.called", 9],
        ["state", 9],
        ["ticket.updated", 10],
        ["site.updated", 11],
    ]
    assert result["beforeGap"] == 0 and result["afterGap"] == ["sync"]
    assert result["total"] == 1  # no gap after the snapshot: nothing more asked
    assert result["afterSettings"] == ["sync"]  # settings changed: the snapshot again


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_demo_kiosk_shows_the_ticket_it_would_print(app, database, page, tmp_path):
    """Issue 9: the demo printed nothing, so a newcomer never saw a ticket or its QR."""
    from server.demo import demo_devices, seed_demo

    with database.writes() as s:
        seed_demo(s)
    with database.writes() as s:
        kiosk = demo_devices(s)["kiosk"]
    page.set_viewport_size({"width": 1920, "height": 1080})
    with served_in_thread(app) as url:
        open_kiosk(page, url, kiosk)
        button(page, "HT").click()
        assert shown_number(page) == "A001"
        assert page.inner_text("#ticket-print") == (
            "Máy này chỉ hiện phiếu, không in: vui lòng ghi nhớ số của bạn"
        )
        assert page.inner_text("#ticket-keep") == "Vui lòng chờ gọi số"
        page.wait_for_selector("#ticket-preview:not([hidden])")
        slip = page.frame_locator("#ticket-preview-frame")
        assert slip.locator("#ticket").get_attribute("data-number") == "A001"
        assert "Hộ tịch" in slip.locator("#ticket").inner_text()
        qr = slip.locator(".qr img")
        qr.wait_for()
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
        # the whole ticket is on the screen, beside the number, and nothing was printed
        frame = page.locator("#ticket-preview-frame").bounding_box()
        ticket = slip.locator("#ticket").bounding_box()
        assert frame["y"] + frame["height"] <= 1080 and ticket["height"] <= frame["height"]
        number = page.locator(".ticket-card").bounding_box()
        assert frame["x"] >= number["x"] + number["width"]
        assert page.evaluate("window.__printed || []") == []
        screenshot(page, "kiosk-preview.png", tmp_path)
