"""The voice of a call: ``ticket.called`` carries its audio, /sounds/ serves it, the admin sees it.

On SQLite and PostgreSQL (the site's template and voice options are read from the database).
The clips are short tones put in the cache as a "pack" voice, so nothing is synthesised, except
in the espeak-ng tests (skipped locally without espeak-ng, required under CI=true).
"""

from __future__ import annotations

import io
import logging
import threading
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.app import create_app
from server.db import Database
from server.models import Site
from server.realtime.announcements import Announcer, SiteVoice, site_voice, warm_up
from server.runtime import runtime
from server.tokens import create_token
from sounds import SoundCache
from sounds.announce import DEFAULT_TEMPLATE, spoken, vocabulary
from sounds.clips import clip_id, clip_key
from sounds.status import SoundStatus

from ..api_fixtures import PREFIX, Api, assert_problem
from ..factories import FakeClock, app_on, build_site
from ..sockets import received, socket_clients
from ..sounds_support import fill, require_program

Payload = dict[str, Any]


@pytest.fixture
def sounds_dir(tmp_path: Path) -> Path:
    return tmp_path / "sounds"


@pytest.fixture
def pack(sounds_dir: Path) -> SoundCache:
    """A cache where the "pack" voice has every clip the default template needs."""
    cache = SoundCache(sounds_dir)
    fill(cache, "pack", vocabulary([DEFAULT_TEMPLATE, "Xin mời số {number} tới quầy {counter}"]))
    return cache


@pytest.fixture
def app(db_url: str, clock: FakeClock, sounds_dir: Path) -> Iterator[Flask]:
    with app_on(db_url, clock, sites=("s1", "s2"), SOUNDS_DIR=str(sounds_dir)) as app:
        yield app


def token(app: Flask, role: str, site: str = "s1", counter: int | None = None) -> str:
    with runtime(app).db.writes() as session:
        return create_token(session, site, role, counter)


@pytest.fixture
def listen(app: Flask) -> Iterator[Callable[[], Any]]:
    with socket_clients(app) as open_client:

        def _listen(site: str = "s1") -> Any:
            client = open_client({"token": token(app, "display", site)})
            client.get_received()  # the snapshot
            return client

        yield _listen


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client(), token(app, "admin"))


def called(client: Any) -> Payload:
    found = [payload for name, payload in received(client) if name == "ticket.called"]
    assert len(found) == 1
    return found[0]


def call_audio(listen: Any, api: Api) -> Payload:
    """The audio of a first call at counter 1, as a display receives it."""
    display = listen()
    api.issue("A")
    api.act(1, "call-next")
    audio: Payload = called(display)["audio"]
    return audio


def set_voice(app: Flask, template: str | None, options: dict[str, Any]) -> None:
    with runtime(app).db.writes() as session:
        site = session.execute(select(Site).where(Site.code == "s1")).scalar_one()
        site.announcement_template = template
        site.voice_options = options
        session.commit()


def clip_url(voice: str, key: str) -> str:
    return f"/sounds/{voice}/{clip_id(clip_key(key))}.wav"


# --- the event ------------------------------------------------------------------------


def test_a_call_carries_the_chime_the_clips_in_order_and_the_joined_file(
    app: Flask, pack: SoundCache, listen: Any, api: Api
) -> None:
    display = listen()
    api.issue("A")
    api.act(1, "call-next")
    got = received(display)
    assert [name for name, _ in got] == ["ticket.issued", "ticket.called", "counter.updated"]
    audio = got[1][1]["audio"]
    assert audio["text"] == "Mời công dân có số thứ tự a một đến quầy số một"
    assert audio["voice"] == "pack" and audio["missing"] == []
    assert audio["repeat"] == 2
    assert audio["chime"].startswith("/sounds/chime.wav?v=")
    keys = [item.key for item in spoken("A001", 1)]
    assert [url.split("?")[0] for url in audio["clips"]] == [clip_url("pack", k) for k in keys]
    assert len(audio["pauses"]) == len(audio["clips"])
    assert audio["joined"].startswith("/sounds/joined/") and "?" not in audio["joined"]
    # only the call speaks
    assert all("audio" not in payload for name, payload in got if name != "ticket.called")
    # the engine's own answer (the clerk's) is not touched
    assert "audio" not in api.act(1, "recall")


def test_a_call_carries_its_short_form_without_the_opening_phrase(
    app: Flask, pack: SoundCache, listen: Any, api: Api
) -> None:
    """Said instead of the whole sentence when the call follows another in a list."""
    audio = call_audio(listen, api)
    assert audio["lead"] == 1  # "mời công dân có số thứ tự"
    assert audio["short"].startswith("/sounds/joined/") and audio["short"] != audio["joined"]
    client = app.test_client()

    def frames(url: str) -> int:
        with wave.open(io.BytesIO(client.get(url).data)) as wav:
            return wav.getnframes()

    with wave.open(str(pack.clip_path("pack", spoken("A001", 1)[0].key))) as first:
        opening_frames = first.getnframes() + round(audio["pauses"][0] * first.getframerate())
    assert frames(audio["joined"]) - frames(audio["short"]) == opening_frames


def test_a_template_that_opens_with_the_counter_has_no_short_form(
    app: Flask, pack: SoundCache, listen: Any, api: Api
) -> None:
    set_voice(app, "Quầy {counter} xin mời số {number}", {})
    audio = call_audio(listen, api)
    assert audio["short"] is None and audio["lead"] == 0 and audio["joined"]


def test_a_recall_says_the_same_again(app: Flask, pack: SoundCache, listen: Any, api: Api) -> None:
    display = listen()
    api.issue("A")
    api.act(1, "call-next")
    first = called(display)
    api.act(1, "recall")
    again = called(display)
    assert again["recall"] is True and again["ticket"]["recall_count"] == 1
    assert again["audio"] == first["audio"]


def test_the_sites_template_and_reading_are_used(
    app: Flask, pack: SoundCache, listen: Any, api: Api
) -> None:
    set_voice(app, "Xin mời số {number} tới quầy {counter}", {"reading": "digits", "repeat": 3})
    audio = call_audio(listen, api)
    assert audio["text"] == "Xin mời số a không không một tới quầy một"
    assert audio["repeat"] == 3
    assert len(audio["clips"]) == 1 + 4 + 1 + 1


def test_each_site_has_its_own_voice(app: Flask, pack: SoundCache, listen: Any) -> None:
    set_voice(app, None, {"repeat": 1})
    one, two = listen("s1"), listen("s2")
    Api(app.test_client(), token(app, "admin", "s1"), "s1").issue("A")
    Api(app.test_client(), token(app, "admin", "s2"), "s2").issue("B")
    Api(app.test_client(), token(app, "admin", "s1"), "s1").act(1, "call-next")
    Api(app.test_client(), token(app, "admin", "s2"), "s2").act(2, "call-next")
    assert called(one)["audio"]["repeat"] == 1
    other = called(two)["audio"]
    assert other["repeat"] == 2 and other["text"].endswith("đến quầy số hai")


def test_sound_trouble_never_stops_a_call(
    app: Flask, listen: Any, api: Api, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr("server.realtime.announcements.compose", broken)
    display = listen()
    api.issue("A")
    with caplog.at_level(logging.ERROR, logger="server.realtime.announcements"):
        ticket = api.act(1, "call-next")
    payload = called(display)
    assert payload["ticket"]["id"] == ticket["id"] and "audio" not in payload
    assert "sent without it" in caplog.text
    status = api.get("/sites/s1/sounds/status").get_json()
    assert status["audio_errors"] == 1 and "disk full" in status["last_audio_error"]


def test_a_cache_without_espeak_still_chimes(
    app: Flask, listen: Any, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)  # no espeak-ng on this machine
    audio = call_audio(listen, api)
    assert audio["chime"] and audio["clips"] == [] and audio["joined"] is None
    assert audio["voice"] == "" and "đến quầy số" in audio["missing"]


def test_an_empty_cache_is_filled_by_espeak_on_the_spot(
    app: Flask, sounds_dir: Path, listen: Any, api: Api
) -> None:
    require_program("espeak-ng", "espeak-ng")
    audio = call_audio(listen, api)
    assert audio["voice"] == "espeak" and audio["missing"] == []
    assert all(url.startswith("/sounds/espeak/") for url in audio["clips"])
    assert (sounds_dir / "espeak").is_dir()
    status = api.get("/sites/s1/sounds/status").get_json()
    assert status["offline_fallback"] is True


def test_site_voice_ignores_what_it_does_not_know() -> None:
    voice = site_voice("{bad field}", {"zero_hundred": "lẻ", "thousand": "x", "repeat": 99})
    assert voice.template == DEFAULT_TEMPLATE
    assert voice.options.zero_hundred == "lẻ" and voice.options.thousand == "nghìn"
    assert voice.repeat == 5
    assert site_voice(None, None) == SiteVoice()
    assert site_voice(None, {"repeat": True}).repeat == 2


def test_the_announcer_is_fast_with_a_warm_cache(pack: SoundCache) -> None:
    """Not a benchmark (bench/bench_audio.py is): the second call reuses the joined file."""
    announcer = Announcer(pack, lambda _site: SiteVoice())
    first = announcer.audio("A015", 3, SiteVoice())
    again = announcer.audio("A015", 3, SiteVoice())
    assert first == again
    assert first["text"] == "Mời công dân có số thứ tự a mười lăm đến quầy số ba"
    assert SoundStatus  # the status recorder is the process's (sounds.status.STATUS)


# --- /sounds/ ---------------------------------------------------------------------------


def test_sound_files_are_served_with_cache_headers(
    app: Flask, pack: SoundCache, listen: Any, api: Api
) -> None:
    audio = call_audio(listen, api)
    client = app.test_client()
    joined = client.get(audio["joined"])
    assert joined.status_code == 200 and joined.mimetype == "audio/wav"
    assert joined.data[:4] == b"RIFF"
    assert joined.cache_control.max_age == 365 * 24 * 3600 and joined.cache_control.immutable
    clip = client.get(audio["clips"][0])
    assert clip.status_code == 200 and clip.cache_control.immutable  # versioned URL
    plain = client.get(audio["chime"].split("?")[0])
    assert plain.cache_control.max_age == 24 * 3600 and not plain.cache_control.immutable
    again = client.get(
        audio["chime"].split("?")[0], headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304
    ranged = client.get(audio["joined"], headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.data == b"RIFF"


@pytest.mark.parametrize(
    "path",
    [
        "/sounds/../secret_key",
        "/sounds/%2e%2e/secret_key",
        "/sounds/..%2fsecret.wav",
        "/sounds//etc/passwd",
        "/sounds/pack/nothing-here.wav",
        "/sounds/pack",
        "/sounds/notes.txt",
    ],
)
def test_nothing_outside_the_sounds_folder_is_served(
    app: Flask, pack: SoundCache, sounds_dir: Path, path: str
) -> None:
    (sounds_dir / "notes.txt").write_text("private")
    (sounds_dir.parent / "secret.wav").write_bytes(b"RIFF secret")
    response = app.test_client().get(path, follow_redirects=True)  # "//" is merged first
    assert response.status_code == 404
    assert b"secret" not in response.data and b"private" not in response.data


# --- the admin's status -----------------------------------------------------------------


def test_the_status_says_which_voice_speaks(app: Flask, pack: SoundCache, api: Api) -> None:
    body = api.get("/sites/s1/sounds/status").get_json()
    assert body["voice"] == "pack" and body["offline_fallback"] is False
    assert body["template"] == DEFAULT_TEMPLATE and body["repeat"] == 2
    assert body["voices"]["pack"]["missing"] == []
    assert body["dir"] == str(pack.root)


def test_the_status_is_for_admins_and_managers_of_the_site(app: Flask, api: Api) -> None:
    manager = token(app, "manager")
    assert api.get("/sites/s1/sounds/status", token=manager).status_code == 200
    for role in ("clerk", "kiosk", "display"):
        assert_problem(api.get("/sites/s1/sounds/status", token=token(app, role)), 403, "forbidden")
    assert_problem(api.get("/sites/s2/sounds/status"), 403, "forbidden")
    response = app.test_client().get(PREFIX + "/sites/s1/sounds/status")
    assert_problem(response, 401, "unauthorized")


# --- the server fills the cache by itself -----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "warms"),
    [
        ({}, True),  # as `xephang serve` makes it
        ({"TESTING": True}, False),
        ({"EVENTS_WRITE_ONLY": True}, False),  # a command-line app
        ({"SOUNDS_WARM_UP": False}, False),
    ],
)
def test_a_serving_app_warms_the_cache_in_the_background(
    db_url: str,
    sounds_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    overrides: dict[str, Any],
    warms: bool,
) -> None:
    called = threading.Event()
    monkeypatch.setattr("server.realtime.announcements.warm_up", lambda *_args: called.set())
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "x",
            "SOUNDS_DIR": str(sounds_dir),
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            **overrides,
        }
    )
    try:
        assert called.wait(10 if warms else 0.2) is warms
    finally:
        runtime(app).db.dispose()


def test_warming_an_empty_cache_falls_back_to_espeak_and_says_so(
    database: Database, sounds_dir: Path, caplog: Any
) -> None:
    require_program("espeak-ng", "espeak-ng")
    with database.writes() as session:
        build_site(session)
    announcer = Announcer(SoundCache(sounds_dir), lambda _site: SiteVoice())
    with caplog.at_level(logging.INFO, logger="server.realtime.announcements"):
        warm_up(announcer, database)
    assert "falling back to espeak-ng (offline)" in caplog.text
    assert "xephang sounds build" in caplog.text
    cache = SoundCache(sounds_dir)
    assert cache.chime_path.is_file()
    assert all(cache.has("espeak", key) for key in vocabulary([DEFAULT_TEMPLATE]))


def test_warming_a_complete_cache_only_names_the_voice(
    database: Database, pack: SoundCache, caplog: Any
) -> None:
    with database.writes() as session:
        build_site(session)
    announcer = Announcer(pack, lambda _site: SiteVoice())
    with caplog.at_level(logging.INFO, logger="server.realtime.announcements"):
        warm_up(announcer, database)
    assert "said by the voice pack" in caplog.text
    assert not (pack.root / "espeak").exists()


def test_changed_settings_warm_the_cache_again(
    db_url: str, sounds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new announcement template is made ready at once, without a restart."""
    from server.engine.events import SITE_UPDATED
    from server.models import Site

    calls: list[int] = []
    ready = threading.Event()

    def fake_warm_up(*_args: Any) -> None:
        calls.append(1)
        ready.set()

    monkeypatch.setattr("server.realtime.announcements.warm_up", fake_warm_up)
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "SECRET_KEY": "x",
            "SOUNDS_DIR": str(sounds_dir),
            "ASYNC_MODE": "threading",
            "REDIS_URL": None,
            "SOUNDS_WARM_UP": True,
        }
    )
    try:
        assert ready.wait(10)
        ready.clear()
        rt = runtime(app)
        with rt.db.writes() as session:
            build_site(session)
        uow = rt.uow()
        with uow:
            site = uow.session.execute(select(Site)).scalar_one()
            site.announcement_template = "Xin mời số {number} đến quầy {counter}"
            uow.emit(site, SITE_UPDATED, {"changed": "settings"})
            uow.commit()
        assert ready.wait(10) and len(calls) == 2
    finally:
        runtime(app).db.dispose()
