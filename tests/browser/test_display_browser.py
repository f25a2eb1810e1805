"""The displays in real Chromium (Debian's /usr/bin/chromium, Playwright) against real servers.

A call made through the API shows on the lobby and counter displays and is heard: chime, then
the announcement twice, one file after the other; two calls in quick succession are both
played, one after the other; a reconnection or a server restart (killed, started again) needs
no one to touch the screen and replays no old call. Chromium runs with
``--autoplay-policy=no-user-gesture-required`` as a kiosk TV would
(tests/browser_support.py); one test
runs it with the policy of an ordinary browser to see "Chạm để bật âm thanh".

The clips are short tones put in the sounds folder as a clip pack, so the tests do not wait on
speech (espeak-ng is tested in tests/integration/test_display_audio.py). Waiting has
generous bounds; nothing here asserts speed. The audio is checked through
``window.xephangAudioLog``.

``XEPHANG_SCREENSHOTS=1`` also writes docs/display-lobby.png and docs/display-counter.png.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from server.realtime.live import live_boot
from sounds import SoundCache
from sounds.announce import DEFAULT_TEMPLATE, vocabulary
from sounds.build import build_voice, ensure_chime
from sounds.voices.espeak import EspeakVoice

from .. import live
from ..browser_support import CHROMIUM, CHROMIUM_ARGS
from ..factories import build_site
from ..live import EVENT_WAIT_S, Install, Server, served_in_thread, wait_until
from ..sounds_support import fill, require_program
from ..staff import PASSWORD

pytestmark = pytest.mark.slow

WAIT_MS = EVENT_WAIT_S * 1000
DOCS = Path(__file__).resolve().parents[2] / "docs"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tone_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sounds folder whose clip pack says every clip as a short tone."""
    root = tmp_path_factory.mktemp("sounds")
    fill(SoundCache(root), "pack", vocabulary([DEFAULT_TEMPLATE]))
    return root


@pytest.fixture(scope="session")
def espeak_sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sounds folder as `xephang sounds build --voice espeak` leaves it: the offline voice."""
    require_program("espeak-ng", "espeak-ng")
    root = tmp_path_factory.mktemp("espeak-sounds")
    cache = SoundCache(root)
    report = build_voice(cache, EspeakVoice(), vocabulary([DEFAULT_TEMPLATE]))
    assert not report.missing, report.missing
    ensure_chime(cache)
    return root


@pytest.fixture
def sounds(request: pytest.FixtureRequest, tone_pack: Path) -> Path:
    """The server's sounds folder: the tone pack, or (parametrized "espeak") real speech."""
    if getattr(request, "param", "tones") == "espeak":
        return Path(request.getfixturevalue("espeak_sounds"))
    return tone_pack


@pytest.fixture
def install(tmp_path: Path, sounds: Path) -> Install:
    """`xephang init --demo` on a SQLite file; no Redis (one server process)."""
    inst = Install(
        database_url=f"sqlite:///{tmp_path / 'xephang.sqlite3'}",
        redis_url=None,
        channel=f"xephang-test-{uuid.uuid4().hex}",
        workdir=tmp_path,
    )
    inst.env["XEPHANG_SOUNDS_DIR"] = str(sounds)
    assert "demo" in inst.run("init", "--demo")
    return inst


class Hall:
    """One server of the demo site and the tokens of its devices."""

    def __init__(self, install: Install, server: Server) -> None:
        self.install = install
        self.server = server
        self.display = install.token("display")
        self.kiosk = install.token("kiosk")
        self.clerk = install.token("admin")

    def issue(self, service: str) -> dict[str, Any]:
        return self.server.post("/tickets", self.kiosk, {"service": service})

    def act(self, counter: int, action: str) -> dict[str, Any]:
        return self.server.post(f"/counters/{counter}/{action}", self.clerk)

    def open(self, page: Any, path: str) -> None:
        """Pair the page's browser as a display and open ``path`` (the query string is kept)."""
        url = f"{self.server.url}/pair?token={self.display}&next={quote(path)}"
        page.goto(url)
        page.wait_for_function(
            "() => window.xephangDisplay && window.xephangDisplay.socket.connected"
        )


@pytest.fixture
def hall(install: Install, serve: Callable[[str], Server]) -> Hall:
    return Hall(install, serve("display"))


@pytest.fixture
def page(page: Any) -> Any:
    page.set_default_timeout(WAIT_MS)
    return page


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).first.inner_text()).strip()


def wait_text(page: Any, selector: str, expected: str) -> None:
    page.wait_for_function(
        "([sel, want]) => { const el = document.querySelector(sel);"
        " return el && el.textContent.trim() === want; }",
        arg=[selector, expected],
    )


def audio_log(page: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = page.evaluate("window.xephangAudioLog || []")
    return entries


def wait_played(page: Any, count: int) -> list[dict[str, Any]]:
    """Wait until ``count`` files have been played to their end; the whole log."""
    page.wait_for_function(
        "(n) => (window.xephangAudioLog || []).filter((e) => e.ended !== null).length >= n",
        arg=count,
    )
    return audio_log(page)


def assert_serial(entries: list[dict[str, Any]]) -> None:
    """Each file started after the one before it ended, and actually played."""
    for entry in entries:
        assert entry["started"] is not None and "error" not in entry, entry
        assert entry["ended"] >= entry["started"]
    for before, after in zip(entries, entries[1:], strict=False):
        assert after["started"] >= before["ended"], (before, after)


def kinds(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(ticket, "chime" | "speech") of each file played."""
    return [(e["ticket"], "chime" if "/chime.wav" in e["url"] else "speech") for e in entries]


def one_call(ticket: str) -> list[tuple[str, str]]:
    return [(ticket, "chime"), (ticket, "speech"), (ticket, "speech")]


# --- a call is seen and heard ---------------------------------------------------------------


def test_a_call_shows_on_the_displays_and_is_heard_in_order(hall: Hall, page: Any) -> None:
    hall.open(page, "/display/?speak=1")
    counter_page = page.context.new_page()
    counter_page.set_default_timeout(WAIT_MS)
    counter_page.goto(f"{hall.server.url}/display/counter/1")
    counter_page.wait_for_function("() => window.xephangDisplay.socket.connected")

    hall.issue("HT")
    wait_text(page, '.chip[data-service="HT"] .count', "1")
    hall.act(1, "call-next")

    wait_text(page, "#newest-number", "A001")
    wait_text(page, '.tile[data-counter="1"] .number', "A001")
    wait_text(counter_page, "#number", "A001")
    assert text_of(page, "#newest-counter") == "1"
    assert text_of(page, '.chip[data-service="HT"] .count') == "0"

    entries = wait_played(page, 3)
    assert kinds(entries) == one_call("A001")
    assert "/sounds/joined/" in entries[1]["url"] and entries[1]["url"] == entries[2]["url"]
    assert_serial(entries)
    # the counter display was not told to speak
    assert audio_log(counter_page) == []

    # a pause shows on the counter's own screen
    hall.act(1, "finish")
    hall.act(1, "pause")
    counter_page.wait_for_selector("#paused", state="visible")
    assert text_of(counter_page, "#paused") == "Tạm dừng phục vụ"
    wait_text(page, '.tile[data-counter="1"] .number', "Đang tạm dừng")


def test_two_calls_in_quick_succession_are_heard_as_one_list(hall: Hall, page: Any) -> None:
    hall.open(page, "/display/?speak=1")
    hall.issue("HT")
    hall.issue("CT")
    hall.act(1, "call-next")
    hall.act(2, "call-next")
    wait_text(page, '.tile[data-counter="2"] .number', "B001")
    # One list: the chime once; A001 said once if B001 already waits when its repeat is due
    # (twice if B001 came later than that); B001 without the opening phrase, then again,
    # whole, as nobody waits behind it.
    page.wait_for_function(
        "() => window.xephangDisplay.queue.keys.size === 2 && !window.xephangDisplay.queue.running"
    )
    entries = audio_log(page)
    heard = kinds(entries)
    a001 = [("A001", "chime"), ("A001", "speech")]
    assert heard in (
        [*a001, ("B001", "speech"), ("B001", "speech")],
        [*a001, ("A001", "speech"), ("B001", "speech"), ("B001", "speech")],
    ), heard
    short, whole = entries[-2]["url"], entries[-1]["url"]
    assert short != whole and whole != entries[1]["url"]  # B001's short form, then its own
    assert_serial(entries)
    # the older call moved down to the list of last calls
    wait_text(page, "#newest-number", "B001")
    assert text_of(page, "#recent li .number") == "A001"


def test_the_lobby_keeps_the_last_calls_after_the_tickets_move_on(hall: Hall, page: Any) -> None:
    """A citizen who looked away still finds their number: finished or absent, it stays."""
    hall.open(page, "/display/")
    hall.issue("HT")
    hall.issue("CT")
    hall.act(1, "call-next")  # A001 to counter 1
    hall.act(2, "call-next")  # B001 to counter 2
    wait_text(page, "#newest-number", "B001")
    hall.act(2, "no-show")
    hall.act(1, "finish")
    wait_text(page, '.tile[data-counter="1"] .number', "—")
    wait_text(page, '.tile[data-counter="2"] .number', "—")
    page.wait_for_function("() => window.xephangDisplay.state.seq >= 8")

    def shows_the_calls() -> None:
        assert text_of(page, "#newest-number") == "B001"
        assert text_of(page, "#newest-counter") == "2"
        assert re.fullmatch(r"Gọi lúc \d\d:\d\d", text_of(page, "#newest-time"))
        assert page.locator("#newest.none").count() == 0
        rows = page.locator("#recent li")
        assert rows.count() == 1
        assert text_of(page, "#recent li .number") == "A001"
        assert text_of(page, "#recent li .counter") == "Quầy 1"
        assert re.fullmatch(r"\d\d:\d\d", text_of(page, "#recent li .time"))

    shows_the_calls()
    page.reload()  # a screen that starts now reads the same from the snapshot
    page.wait_for_function("() => window.xephangDisplay && window.xephangDisplay.socket.connected")
    shows_the_calls()

    hall.issue("HT")
    hall.act(1, "call-next")  # the next call takes the big panel
    wait_text(page, "#newest-number", "A002")
    assert [n.strip() for n in page.locator("#recent li .number").all_inner_texts()] == [
        "B001",
        "A001",
    ]


# Five counters press "call next" at once; each call must be heard within this long.
HEARD_WITHIN_MS = 15_000
FIVE_CALLS = {
    1: ("HT", "A001"),
    2: ("CT", "B001"),
    3: ("DD", "C001"),
    4: ("TP", "D001"),
    5: ("TKQ", "F001"),
}


def first_heard(entries: list[dict[str, Any]]) -> dict[str, float]:
    """Ticket -> ms from the moment its call reached the page until its speech began to play,
    both on the page's own clock (performance.now())."""
    heard: dict[str, float] = {}
    for entry in entries:
        if entry["kind"] == "speech" and entry["started"] is not None:
            since_call = entry["started"] - entry["queued"]
            heard[entry["ticket"]] = min(heard.get(entry["ticket"], since_call), since_call)
    return heard


@pytest.mark.parametrize("sounds", ["espeak"], indirect=True)
def test_five_counters_calling_together_are_each_heard_within_15_s(hall: Hall, page: Any) -> None:
    """The real voice (espeak-ng's clips, the server's chime) in real Chromium: while calls
    wait, a call is said once and the chime is played once for them all."""
    hall.open(page, "/display/?speak=1")
    for service, _number in FIVE_CALLS.values():
        hall.issue(service)
    for counter in FIVE_CALLS:
        hall.act(counter, "call-next")
    numbers = sorted(number for _service, number in FIVE_CALLS.values())
    page.wait_for_function(
        "(n) => { const q = window.xephangDisplay.queue; return q.keys.size === n && !q.running; }",
        arg=len(numbers),
        timeout=180_000,
    )
    entries = audio_log(page)
    assert_serial(entries)  # never two at once, each file to its end
    heard = first_heard(entries)
    print("first heard, s after the call:", {k: round(v / 1000, 1) for k, v in heard.items()})
    assert sorted(heard) == numbers  # every call, and nothing else
    # never the wrong ticket: a call's files are its own announcement's
    by_key = {e["key"]: e["ticket"] for e in entries}
    assert len(by_key) == len(numbers) and sorted(by_key.values()) == numbers
    late = {number: ms for number, ms in heard.items() if ms > HEARD_WITHIN_MS}
    assert not late, f"heard later than {HEARD_WITHIN_MS} ms after the call: {late}"


def test_a_recall_is_said_again_and_a_reconnection_replays_nothing(hall: Hall, page: Any) -> None:
    hall.open(page, "/display/?speak=1&repeat=1")
    hall.issue("HT")
    hall.act(1, "call-next")
    assert kinds(wait_played(page, 2)) == [("A001", "chime"), ("A001", "speech")]
    hall.act(1, "recall")
    assert kinds(wait_played(page, 4))[2:] == [("A001", "chime"), ("A001", "speech")]

    # The connection drops and comes back: the snapshot arrives again, the calls in it are
    # not said. Then a new call is: it is the only thing heard after the reconnection.
    page.evaluate("window.xephangDisplay.socket.disconnect()")
    page.wait_for_selector("#offline", state="visible")
    page.evaluate("window.xephangDisplay.socket.connect()")
    page.wait_for_selector("#offline", state="hidden")
    hall.issue("CT")
    hall.act(2, "call-next")
    entries = wait_played(page, 6)
    assert kinds(entries)[4:] == [("B001", "chime"), ("B001", "speech")]
    assert len(audio_log(page)) == 6
    assert_serial(entries)


def test_a_gap_in_seq_makes_the_display_read_the_snapshot_again(hall: Hall, page: Any) -> None:
    hall.open(page, "/display/")
    page.evaluate(
        """() => {
          const d = window.xephangDisplay;
          window.syncs = 0;
          const emit = d.socket.emit.bind(d.socket);
          d.socket.emit = (name, ...rest) => { if (name === "sync") window.syncs += 1;
                                               return emit(name, ...rest); };
          d.state.seq -= 1;  // as if the last event had been missed
        }"""
    )
    hall.issue("HT")
    page.wait_for_function("() => window.syncs >= 1")
    wait_text(page, '.chip[data-service="HT"] .count', "1")
    page.wait_for_function("() => !window.xephangDisplay.state.syncing")
    hall.act(1, "call-next")
    wait_text(page, '.tile[data-counter="1"] .number', "A001")
    # ticket.called (2) shows the number; counter.updated (3) may arrive a moment later
    page.wait_for_function("() => window.xephangDisplay.state.seq === 3")


# --- the counter display while no one is called there ------------------------------------------


def clerk(database: Any, clock: Any, site: str, full_name: str, **extra: Any) -> int:
    """A clerk account of the site; its id."""
    from server.accounts.services import create_user

    with database.writes() as session, session.begin():
        user = create_user(
            session,
            "lan",
            "clerk",
            PASSWORD,
            clock(),
            site_codes=(site,),
            full_name=full_name,
            **extra,
        )
        return user.id


@pytest.fixture
def local_hall(app: Any, database: Any, clock: Any, make_token: Any) -> Iterator[dict[str, Any]]:
    """Site s1 in this process (counter 1 serves A and, first, B), clerk lan with a photo."""
    from ..factories import ServiceSpec

    services = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]
    with database.writes() as session:
        build_site(session, services=services, counters={1: {"A": 1, "B": 10}})
    # any picture this server has
    lan_id = clerk(database, clock, "s1", "Nguyễn Thị Lan", photo_url="/static/favicon.svg")
    with served_in_thread(app) as url:
        yield {"url": url, "display": make_token("display"), "lan": lan_id}


def test_an_idle_counter_display_shows_the_counter_its_services_and_its_clerk(
    app: Any, local_hall: dict[str, Any], page: Any
) -> None:
    """Issue 9: a blank dark screen above a counter nobody was called to."""
    from server import engine
    from server.runtime import runtime

    url = local_hall["url"]
    page.goto(f"{url}/pair?token={local_hall['display']}&next=/display/counter/1")
    page.wait_for_function("() => window.xephangDisplay && window.xephangDisplay.socket.connected")
    page.wait_for_selector("#idle", state="visible")
    assert text_of(page, "#idle-counter") == "Quầy 1"
    assert text_of(page, "#idle-services") == "Tiếp nhận: Lĩnh vực B · Lĩnh vực A"
    assert text_of(page, "#idle-clerk-name") == "Chưa có cán bộ đăng nhập tại quầy"
    assert page.locator("#idle-photo").is_hidden()

    engine.sign_in(runtime(app).uow(), "s1", 1, local_hall["lan"])
    wait_text(page, "#idle-clerk-name", "Cán bộ tiếp nhận: Nguyễn Thị Lan")
    page.wait_for_function(
        "() => { const p = document.getElementById('idle-photo');"
        " return !p.hidden && p.complete && p.naturalWidth > 0; }"
    )
    # what only the snapshot says (the services) outlives the counter's events
    assert text_of(page, "#idle-services") == "Tiếp nhận: Lĩnh vực B · Lĩnh vực A"

    engine.issue_ticket(runtime(app).uow(), "s1", "A")
    engine.call_next(runtime(app).uow(), "s1", 1)
    wait_text(page, "#number", "A001")
    assert page.locator("#idle").is_hidden()
    engine.finish(runtime(app).uow(), "s1", 1)
    page.wait_for_selector("#idle", state="visible")
    assert text_of(page, "#idle-clerk-name") == "Cán bộ tiếp nhận: Nguyễn Thị Lan"
    assert text_of(page, "#idle-services") == "Tiếp nhận: Lĩnh vực B · Lĩnh vực A"


def test_the_lobby_says_which_services_no_counter_calls_now(
    app: Any, local_hall: dict[str, Any], page: Any
) -> None:
    """Issue 9, item 5: with nobody signed in, the lobby says "Chưa có quầy phục vụ"."""
    from server import engine
    from server.runtime import runtime

    page.goto(f"{local_hall['url']}/pair?token={local_hall['display']}&next=/display/")
    page.wait_for_function("() => window.xephangDisplay && window.xephangDisplay.socket.connected")
    chip = '#waiting .chip[data-service="A"]'
    page.wait_for_selector(chip + '[data-staffed="false"]')
    assert text_of(page, chip + " .unstaffed") == "Chưa có quầy phục vụ"
    engine.sign_in(runtime(app).uow(), "s1", 1, local_hall["lan"])
    page.wait_for_selector(chip + '[data-staffed="true"]')
    assert page.locator(chip + " .unstaffed").count() == 0
    engine.pause(runtime(app).uow(), "s1", 1)
    page.wait_for_selector(chip + '[data-staffed="false"]')


# --- a server restart ------------------------------------------------------------------------


def test_the_display_recovers_by_itself_from_a_server_restart(
    hall: Hall, page: Any, monkeypatch: pytest.MonkeyPatch, serve: Callable[[str], Server]
) -> None:
    hall.open(page, "/display/?speak=1&repeat=1")
    hall.issue("HT")
    hall.issue("CT")
    hall.act(1, "call-next")
    wait_text(page, '.tile[data-counter="1"] .number', "A001")
    wait_played(page, 2)
    page.evaluate("window.notReloaded = true")

    server = hall.server
    server.proc.kill()  # a crash, not a clean stop
    server.proc.wait(timeout=30)
    page.wait_for_selector("#offline", state="visible")

    # While the server is down, counter 2 calls (another process wrote it to the database).
    _call_without_the_server(hall.install, 2)

    # The server comes back on the same address; nobody touches the screen.
    monkeypatch.setattr(live, "free_port", lambda: server.port)
    restarted = Server(hall.install, "restarted")
    try:
        assert restarted.wait_ready(), restarted.log()
        hall.server = restarted
        page.wait_for_selector("#offline", state="hidden", timeout=60_000)
        wait_text(page, '.tile[data-counter="2"] .number', "B001")
        wait_text(page, '.tile[data-counter="1"] .number', "A001")
        assert page.evaluate("window.notReloaded") is True

        # Live again: a new call is shown and heard; nothing old was said again.
        hall.issue("HT")
        hall.act(1, "call-next")
        wait_text(page, '.tile[data-counter="1"] .number', "A002")
        entries = wait_played(page, 4)
        assert [ticket for ticket, _ in kinds(entries)] == ["A001", "A001", "A002", "A002"]
        assert len(audio_log(page)) == 4
    finally:
        restarted.stop()


def _call_without_the_server(install: Install, counter: int) -> None:
    from server import engine
    from server.app import create_app
    from server.runtime import runtime

    app = create_app({"EVENTS_WRITE_ONLY": True, "DATABASE_URL": install.database_url})
    try:
        engine.call_next(runtime(app).uow(), "demo", counter)
    finally:
        runtime(app).db.dispose()


# --- a browser that wants a gesture ----------------------------------------------------------


@pytest.fixture
def gesture_page(hall: Hall, chromium: Any) -> Iterator[Any]:
    """Chromium with an ordinary browser's autoplay policy: no sound before a user gesture."""
    args = [a for a in CHROMIUM_ARGS if not a.startswith("--autoplay-policy")]
    args.append("--autoplay-policy=document-user-activation-required")
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.set_default_timeout(WAIT_MS)
        yield page
    finally:
        browser.close()


class Peek:
    """Reads the page through CDP: Playwright's own evaluate() and locators count as a user
    gesture (they would unlock the sound); a plain ``Runtime.evaluate`` does not."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)

    def __call__(self, expression: str) -> Any:
        answer = self.cdp.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}
        )
        return answer["result"].get("value")

    def wait(self, what: str, expression: str) -> Any:
        deadline = EVENT_WAIT_S * 1000
        waited = 0
        while not (value := self(expression)):
            if waited > deadline:
                pytest.fail(f"gave up waiting for {what}")
            self.page.wait_for_timeout(50)
            waited += 50
        return value


def test_where_sound_is_blocked_one_tap_turns_it_on(hall: Hall, gesture_page: Any) -> None:
    page = gesture_page
    page.goto(f"{hall.server.url}/pair?token={hall.display}&next={quote('/display/?speak=1')}")
    peek = Peek(page)
    peek.wait("the connection", "window.xephangDisplay && window.xephangDisplay.socket.connected")
    peek.wait("the tap button", "!document.getElementById('sound-unlock').hidden")
    assert peek("navigator.userActivation.hasBeenActive") is False
    hall.issue("HT")
    hall.act(1, "call-next")
    peek.wait("the call", "document.getElementById('newest-number').textContent === 'A001'")
    # the chime is taken from the queue and waits for the tap
    peek.wait("the refusal", "(window.xephangAudioLog || []).some((e) => e.blocked)")
    assert peek("window.xephangAudioLog.length") == 1
    assert peek("window.xephangAudioLog[0].started") is None
    button = page.locator("#sound-unlock")
    assert button.inner_text().strip().endswith("Chạm để bật âm thanh")
    button.click()
    button.wait_for(state="hidden")
    entries = wait_played(page, 3)
    assert kinds(entries) == one_call("A001")  # played after the tap, once, in order
    assert entries[0]["blocked"] is True
    assert_serial(entries)


# --- the page modules on their own, in the browser ------------------------------------------


@pytest.fixture
def module_page(tmp_path: Path, page: Any) -> Iterator[Any]:
    """A page of an in-process server, to import the display's modules."""
    from server.app import create_app
    from server.db import Database
    from server.models import Base
    from server.runtime import runtime

    url = f"sqlite:///{tmp_path / 'modules.sqlite3'}"
    db = Database(url)
    Base.metadata.create_all(db.engine)
    with db.writes() as session:
        build_site(session)
    db.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True})
    try:
        with served_in_thread(app) as url:
            page.goto(f"{url}/pair")
            yield page
    finally:
        runtime(app).db.dispose()


STATE_SCENARIO = """
async () => {
  const { DisplayState, callKey } = await import("/display/static/display/state.js");
  const ticket = (id, status, counter, extra = {}) => ({ id, number: "A00" + id, status,
      counter, service: "A", called_at: "t" + id, recall_count: 0, ...extra });
  const s = new DisplayState({ live: __LIVE__ });
  const out = {};
  out.kept = s.receive("ticket.issued", { seq: 6, waiting: { A: 9 } });
  s.loadSnapshot({ seq: 5, site: {}, services: [{ code: "A", waiting: 1 }],
                   counters: [{ number: 1, status: "open", active: true, current: null }],
                   recent_calls: [] });
  out.afterSnapshot = [s.seq, s.waiting.A];
  out.stale = s.receive("ticket.issued", { seq: 6, waiting: { A: 7 } });
  out.applied = s.receive("ticket.called", { seq: 7, ticket: ticket(1, "called", 1),
                                             waiting: { A: 8 } });
  out.recent = s.recent.map((t) => t.number);
  out.current = s.counters.get(1).current.number;
  out.gap = s.receive("counter.updated", { seq: 9, counter: { number: 1, status: "paused" } });
  out.whileSyncing = s.receive("ticket.issued", { seq: 10, waiting: { A: 3 } });
  out.syncing = s.syncing;
  out.reload = s.loadSnapshot({ seq: 9, site: {}, services: [{ code: "A", waiting: 2 }],
      counters: [{ number: 1, status: "paused", active: true, current: null }],
      recent_calls: [ticket(1, "called", 1, { call_at: "t1" })] });
  out.afterSync = [s.seq, s.waiting.A, s.syncing];
  out.done = s.receive("ticket.updated", { seq: 11, ticket: ticket(1, "done", 1),
                                           waiting: { A: 3 } });
  out.recentAfterDone = s.recent.map((t) => [t.number, t.counter, t.call_at]);
  out.keys = [callKey(ticket(1, "called", 1)), callKey(ticket(1, "called", 1,
                                                              { recall_count: 1 }))];
  return out;
}
"""


def test_the_state_applies_events_in_seq_order_and_notices_gaps(module_page: Any) -> None:
    out = module_page.evaluate(STATE_SCENARIO.replace("__LIVE__", json.dumps(live_boot())))
    assert out["kept"] == "kept"  # before any snapshot: kept for later
    assert out["afterSnapshot"] == [6, 9]  # the kept event (seq 6) follows the snapshot (5)
    assert out["stale"] == "stale"
    assert out["applied"] == "applied"
    assert out["recent"] == ["A001"] and out["current"] == "A001"
    assert out["gap"] == "gap" and out["whileSyncing"] == "kept" and out["syncing"] is True
    assert out["reload"] == "ok"
    assert out["afterSync"] == [10, 3, False]  # seq 10, kept while syncing, applied after
    assert out["done"] == "applied"
    # the call stays listed, as it was made, after the ticket was finished
    assert out["recentAfterDone"] == [["A001", 1, "t1"]]
    assert out["keys"][0] != out["keys"][1]  # a recall is another call


QUEUE_SCENARIO = """
async () => {
  const { AudioQueue, callPlan } = await import("/display/static/display/audio-queue.js");
  // A player that takes 30 ms per file and records what it was asked to play.
  const playing = [];
  let overlap = false;
  const player = {
    src: "", currentTime: 0, playbackRate: 1,
    play() {
      if (playing.length) overlap = true;
      playing.push(this.src);
      setTimeout(() => {
        this.onplaying && this.onplaying();
        setTimeout(() => { playing.pop(); this.onended && this.onended(); }, 30);
      }, 0);
      return Promise.resolve();
    },
    pause() {},
  };
  const audio = (n) => ({ chime: "/c.wav", clips: ["/o.wav", "/x" + n + ".wav"],
                          pauses: [0.2, 0], joined: "/j" + n + ".wav", short: "/s" + n + ".wav",
                          lead: 1, repeat: 2 });
  const call = (key, n) => ({ key, ticket: "A00" + n, plan: callPlan(audio(n), 2) });
  const idle = async (queue) => {
    while (queue.running) await new Promise((r) => setTimeout(r, 20));
  };
  const played = (log) => log.map((e) => [e.ticket, e.url, e.rate]);
  const out = {};

  // One call alone: the chime, then the announcement twice, at the normal pace.
  let log = [];
  let queue = new AudioQueue({ player, log });
  queue.add(call("1", 1));
  await idle(queue);
  out.alone = played(log);

  // Three calls at once: one list, the chime once, each said once but the last.
  log = [];
  queue = new AudioQueue({ player, log });
  out.added = [queue.add(call("1", 1)), queue.add(call("1", 1)), queue.add(call("2", 2)),
               queue.add(call("3", 3))];
  await idle(queue);
  out.list = played(log);
  out.serial = log.every((e, i) => i === 0 || e.started >= log[i - 1].ended);
  out.queued = log.every((e) => e.queued <= e.started);
  out.again = queue.add(call("1", 1));  // played already: not again

  // A call that comes while the one before waits to be repeated: the repeat is dropped.
  log = [];
  queue = new AudioQueue({ player, log });
  queue.add(call("1", 1));
  while (log.filter((e) => e.ended !== null).length < 2) {
    await new Promise((r) => setTimeout(r, 5));
  }
  queue.add(call("2", 2));
  await idle(queue);
  out.cut = played(log);
  out.overlap = overlap;

  // Without a joined file the clips are played; the short form leaves out the opening clip.
  const noJoined = callPlan({ chime: null, clips: ["/a.wav", "/b.wav"], pauses: [0.2, 0],
                              lead: 1 }, 2);
  out.noJoined = [noJoined.speech.map((p) => [p.url, p.pause]),
                  noJoined.short.map((p) => [p.url, p.pause]), noJoined.times];
  out.noShort = callPlan({ chime: "/c.wav", joined: "/j.wav", short: null, lead: 0 }, 1).short;
  return out;
}
"""


def test_the_audio_queue_says_each_call_once_one_file_at_a_time(module_page: Any) -> None:
    out = module_page.evaluate(QUEUE_SCENARIO)
    fast = 1.25  # LIST_RATE in audio-queue.js
    assert out["alone"] == [["A001", "/c.wav", 1], ["A001", "/j1.wav", 1], ["A001", "/j1.wav", 1]]
    assert out["added"] == [True, False, True, True] and out["again"] is False
    assert out["list"] == [
        ["A001", "/c.wav", 1],  # the chime, once for the list
        ["A001", "/j1.wav", fast],  # said once, a call waits behind it
        ["A002", "/s2.wav", fast],  # follows at once: without the opening phrase
        ["A003", "/s3.wav", 1],  # the last one, nobody behind it:
        ["A003", "/j3.wav", 1],  # said again, whole
    ]
    assert out["serial"] is True and out["queued"] is True and out["overlap"] is False
    assert out["cut"] == [
        ["A001", "/c.wav", 1],
        ["A001", "/j1.wav", 1],  # its repeat was due when A002 came: dropped
        ["A002", "/s2.wav", 1],
        ["A002", "/j2.wav", 1],
    ]
    assert out["noJoined"] == [[["/a.wav", 0.2], ["/b.wav", 0]], [["/b.wav", 0]], 2]
    assert out["noShort"] is None


def test_the_clock_reads_vietnamese(module_page: Any) -> None:
    text = module_page.evaluate(
        """async () => {
          const { dateTimeText } = await import("/display/static/display/clock.js");
          return [dateTimeText(new Date("2026-11-23T02:05:00Z"), "Asia/Ho_Chi_Minh"),
                  dateTimeText(new Date("2026-11-22T16:59:00Z"), "Asia/Ho_Chi_Minh"),
                  dateTimeText(new Date("2026-11-23T02:05:00Z"), "Asia/Ho_Chi_Minh", "en")];
        }"""
    )
    assert text == [
        "Thứ Hai, 23/11/2026 09:05",
        "Chủ Nhật, 22/11/2026 23:59",
        "Monday, 23/11/2026 09:05",
    ]


# --- screenshots for the README --------------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("XEPHANG_SCREENSHOTS"), reason="XEPHANG_SCREENSHOTS=1")
def test_screenshots_for_the_readme(hall: Hall, page: Any) -> None:
    for service in ("HT", "HT", "CT", "DD", "TP", "HT", "CT", "LD", "TKQ", "HT", "HT", "CT"):
        hall.issue(service)
    for counter in (1, 2, 3, 1, 4, 2):
        hall.act(counter, "call-next")
    hall.act(5, "pause")
    notice = (
        "Giờ làm việc: sáng 7h30 – 11h30, chiều 13h30 – 17h00 từ thứ Hai đến thứ Sáu. "
        "Công dân vui lòng giữ phiếu và chú ý nghe gọi số."
    )
    hall.open(page, f"/display/?flash=0&notice={quote(notice)}")
    wait_text(page, "#newest-number", "B002")
    page.wait_for_timeout(300)  # the fonts and the ticker settle
    page.screenshot(path=str(DOCS / "display-lobby.png"))
    page.set_viewport_size({"width": 3840, "height": 2160})  # 4K: the same layout, scaled
    page.wait_for_timeout(300)
    page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "display-lobby-4k.png"))
    counter_page = page.context.new_page()
    counter_page.set_viewport_size({"width": 1280, "height": 720})
    counter_page.goto(f"{hall.server.url}/display/counter/1?flash=0")
    wait_text(counter_page, "#number", "A002")
    counter_page.screenshot(path=str(DOCS / "display-counter.png"))
    wait_until("the screenshots", lambda: (DOCS / "display-counter.png").exists())


@pytest.mark.skipif(not os.environ.get("XEPHANG_SCREENSHOTS"), reason="XEPHANG_SCREENSHOTS=1")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_screenshot_of_an_idle_counter_display(
    app: Any, database: Any, clock: Any, make_token: Any, page: Any
) -> None:
    from server import engine
    from server.demo import seed_demo
    from server.runtime import runtime

    with database.writes() as session:
        seed_demo(session)
    an_id = clerk(database, clock, "demo", "Nguyễn Văn An")
    engine.sign_in(runtime(app).uow(), "demo", 1, an_id)
    with served_in_thread(app) as url:
        page.set_viewport_size({"width": 1280, "height": 720})
        token = make_token("display", site="demo")
        page.goto(f"{url}/pair?token={token}&next=/display/counter/1")
        wait_text(page, "#idle-clerk-name", "Cán bộ tiếp nhận: Nguyễn Văn An")
        page.wait_for_timeout(300)  # the fonts settle
        page.screenshot(path=str(DOCS / "display-counter-idle.png"))
