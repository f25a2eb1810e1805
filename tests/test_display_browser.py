"""The displays in real Chromium (Debian's /usr/bin/chromium, Playwright) against real servers.

A call made through the API shows on the lobby and counter displays and is heard: chime, then
the announcement twice, one file after the other; two calls in quick succession are both
played, one after the other; a reconnection or a server restart (killed, started again) needs
no one to touch the screen and replays no old call. Chromium runs with
``--autoplay-policy=no-user-gesture-required`` as a kiosk TV would (tests/browser.py); one test
runs it with the policy of an ordinary browser to see "Chạm để bật âm thanh".

The clips are short tones put in the sounds folder as a clip pack, so the tests do not wait on
speech (espeak-ng is tested in tests/test_display_audio.py). Waiting has generous bounds;
nothing here asserts speed. The audio is checked through ``window.xephangAudioLog``.

``XEPHANG_SCREENSHOTS=1`` also writes docs/display-lobby.png and docs/display-counter.png.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sounds import SoundCache
from sounds.announce import DEFAULT_TEMPLATE, vocabulary

from . import live
from .browser import CHROMIUM, CHROMIUM_ARGS
from .factories import build_site
from .live import EVENT_WAIT_S, Install, Server, served_in_thread, wait_until
from .sounds_support import fill

pytestmark = pytest.mark.slow

WAIT_MS = EVENT_WAIT_S * 1000
DOCS = Path(__file__).resolve().parent.parent / "docs"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tone_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sounds folder whose clip pack says every clip as a short tone."""
    root = tmp_path_factory.mktemp("sounds")
    fill(SoundCache(root), "pack", vocabulary([DEFAULT_TEMPLATE]))
    return root


@pytest.fixture
def install(tmp_path: Path, tone_pack: Path) -> Install:
    """`xephang init --demo` on a SQLite file; no Redis (one server process)."""
    inst = Install(
        database_url=f"sqlite:///{tmp_path / 'xephang.sqlite3'}",
        redis_url=None,
        channel=f"xephang-test-{uuid.uuid4().hex}",
        workdir=tmp_path,
    )
    inst.env["XEPHANG_SOUNDS_DIR"] = str(tone_pack)
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
        page.wait_for_function("window.xephangDisplay && window.xephangDisplay.socket.connected")


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
    counter_page.wait_for_function("window.xephangDisplay.socket.connected")

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
    assert text_of(counter_page, "#paused") == "Tạm ngừng phục vụ"
    wait_text(page, '.tile[data-counter="1"] .number', "Tạm ngừng")


def test_two_calls_in_quick_succession_are_both_heard_one_after_the_other(
    hall: Hall, page: Any
) -> None:
    hall.open(page, "/display/?speak=1")
    hall.issue("HT")
    hall.issue("CT")
    hall.act(1, "call-next")
    hall.act(2, "call-next")
    wait_text(page, '.tile[data-counter="2"] .number', "B001")
    entries = wait_played(page, 6)
    assert kinds(entries) == one_call("A001") + one_call("B001")
    assert_serial(entries)
    # the older call moved down to the list of last calls
    wait_text(page, "#newest-number", "B001")
    assert text_of(page, "#recent li .number") == "A001"


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
    page.wait_for_function("window.syncs >= 1")
    wait_text(page, '.chip[data-service="HT"] .count', "1")
    page.wait_for_function("!window.xephangDisplay.state.syncing")
    hall.act(1, "call-next")
    wait_text(page, '.tile[data-counter="1"] .number', "A001")
    # ticket.called (2) shows the number; counter.updated (3) may arrive a moment later
    page.wait_for_function("window.xephangDisplay.state.seq === 3")


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
  const s = new DisplayState();
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
      recent_calls: [] });
  out.afterSync = [s.seq, s.waiting.A, s.syncing];
  out.done = s.receive("ticket.updated", { seq: 11, ticket: ticket(1, "done", 1),
                                           waiting: { A: 3 } });
  out.keys = [callKey(ticket(1, "called", 1)), callKey(ticket(1, "called", 1,
                                                              { recall_count: 1 }))];
  return out;
}
"""


def test_the_state_applies_events_in_seq_order_and_notices_gaps(module_page: Any) -> None:
    out = module_page.evaluate(STATE_SCENARIO)
    assert out["kept"] == "kept"  # before any snapshot: kept for later
    assert out["afterSnapshot"] == [6, 9]  # the kept event (seq 6) follows the snapshot (5)
    assert out["stale"] == "stale"
    assert out["applied"] == "applied"
    assert out["recent"] == ["A001"] and out["current"] == "A001"
    assert out["gap"] == "gap" and out["whileSyncing"] == "kept" and out["syncing"] is True
    assert out["reload"] == "ok"
    assert out["afterSync"] == [10, 3, False]  # seq 10, kept while syncing, applied after
    assert out["done"] == "applied"
    assert out["keys"][0] != out["keys"][1]  # a recall is another call


QUEUE_SCENARIO = """
async () => {
  const { AudioQueue, callParts } = await import("/display/static/display/audio-queue.js");
  // A player that takes 30 ms per file and records what it was asked to play.
  const playing = [];
  let overlap = false;
  const player = {
    src: "", currentTime: 0,
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
  const log = [];
  const queue = new AudioQueue({ player, log });
  const audio = (n) => ({ chime: "/c.wav", clips: ["/x" + n + ".wav"], pauses: [0],
                          joined: "/j" + n + ".wav", repeat: 2 });
  const added = [
    queue.add({ key: "1", ticket: "A001", parts: callParts(audio(1), 2) }),
    queue.add({ key: "1", ticket: "A001", parts: callParts(audio(1), 2) }),
    queue.add({ key: "2", ticket: "A002", parts: callParts(audio(2), 1) }),
  ];
  const noJoined = callParts({ chime: null, clips: ["/a.wav", "/b.wav"], pauses: [0.2, 0] }, 2);
  while (queue.running) await new Promise((r) => setTimeout(r, 20));
  queue.add({ key: "1", ticket: "A001", parts: callParts(audio(1), 2) });  // again: no
  return { added, overlap, running: queue.running,
           urls: log.map((e) => e.url), tickets: log.map((e) => e.ticket),
           serial: log.every((e, i) => i === 0 || e.started >= log[i - 1].ended),
           noJoined: noJoined.map((p) => [p.url, p.pause]) };
}
"""


def test_the_audio_queue_plays_each_call_once_one_file_at_a_time(module_page: Any) -> None:
    out = module_page.evaluate(QUEUE_SCENARIO)
    assert out["added"] == [True, False, True]
    assert out["urls"] == ["/c.wav", "/j1.wav", "/j1.wav", "/c.wav", "/j2.wav"]
    assert out["tickets"] == ["A001"] * 3 + ["A002"] * 2
    assert out["overlap"] is False and out["serial"] is True and out["running"] is False
    # without a joined file the clips are played in order, the announcement twice
    assert out["noJoined"] == [["/a.wav", 0.2], ["/b.wav", 0.8], ["/a.wav", 0.2], ["/b.wav", 0]]


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
