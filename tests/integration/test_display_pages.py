"""The display pages as the server renders them, and their layout options (no browser)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from display.options import DisplayOptions, Media, parse_options, safe_url
from server.models import ApiToken

from ..factories import build_site


def boot(page: str) -> dict[str, Any]:
    found = re.search(
        r'<script id="xephang-boot" type="application/json">(.*?)</script>', page, re.S
    )
    assert found, "no boot data"
    data: dict[str, Any] = json.loads(found[1])
    return data


@pytest.fixture
def paired(database: Any, client: Any, make_token: Any) -> str:
    with database.writes() as s:
        build_site(s)
    raw = make_token("display")
    client.get("/pair", query_string={"token": raw})
    return str(raw)


# --- options -------------------------------------------------------------------------------


def test_the_query_string_sets_the_layout() -> None:
    query = MultiDict(
        [
            ("counters", "1, 2,x,3,2"),
            ("services", "HT,CT,<b>"),
            ("columns", "3"),
            ("theme", "light"),
            ("accent", "ff8800"),
            ("bg", "#123"),
            ("fg", "red"),
            ("speak", "1"),
            ("repeat", "3"),
            ("notice", "  Giờ làm việc:\n 7h30 – 17h  "),
            ("logo", "/static/logo.png"),
            ("media", "https://cdn.example/a.jpg /b.mp4"),
            ("media", "javascript:alert(1)"),
            ("recent", "4"),
            ("flash", "8"),
        ]
    )
    options = parse_options(query, env={})
    assert options.counters == (1, 2, 3)
    assert options.services == ("HT", "CT")
    assert (options.columns, options.theme, options.speak, options.repeat) == (3, "light", True, 3)
    assert options.colours() == {"--accent": "#ff8800", "--bg": "#123"}  # "red" is not taken
    assert options.notice == "Giờ làm việc: 7h30 – 17h"
    assert options.logo == "/static/logo.png"
    assert options.media == (Media("https://cdn.example/a.jpg", False), Media("/b.mp4", True))
    assert (options.recent, options.flash_seconds) == (4, 8)


def test_nonsense_is_ignored_and_defaults_stay() -> None:
    query = {"columns": "99", "theme": "pink", "speak": "maybe", "repeat": "0", "recent": "-1"}
    assert parse_options(query, env={}) == DisplayOptions()


def test_device_settings_and_the_installation_fill_in_what_the_url_does_not_say() -> None:
    device = {"speak": True, "counters": [4, 5], "notice": "Từ thiết bị", "media": ["/a.png"]}
    options = parse_options({"counters": "1"}, device, {"DISPLAY_LOGO": "/logo.svg"}, env={})
    assert options.counters == (1,) and options.speak is True
    assert options.notice == "Từ thiết bị" and options.logo == "/logo.svg"
    assert options.media == (Media("/a.png", False),)
    env = {"XEPHANG_DISPLAY_NOTICE": "Từ môi trường"}
    assert parse_options({}, {}, {}, env=env).notice == "Từ môi trường"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "//evil.example/x.png",
        "data:image/png;base64,AA",
        "/a b.png",
        '/a".png',
    ],
)
def test_only_plain_web_addresses_are_shown(url: str) -> None:
    assert safe_url(url) is None


# --- pages ------------------------------------------------------------------------------------


def test_an_unpaired_screen_is_sent_to_pair_and_comes_back_with_its_layout(
    database: Any, client: Any, make_token: Any
) -> None:
    with database.writes() as s:
        build_site(s)
    response = client.get("/display/?speak=1&columns=2")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/pair?next=")
    response = client.get(location + "&token=" + make_token("display"))
    assert response.status_code == 302
    assert response.headers["Location"] == "/display/?speak=1&columns=2"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert boot(page)["options"]["speak"] is True and boot(page)["options"]["columns"] == 2


def test_other_devices_are_not_displays(database: Any, client: Any, make_token: Any) -> None:
    with database.writes() as s:
        build_site(s)
    client.get("/pair", query_string={"token": make_token("kiosk")})
    assert client.get("/display/").status_code == 302
    assert client.get("/display/counter/1").status_code == 302


def test_the_lobby_page_starts_from_the_snapshot(paired: str, client: Any) -> None:
    response = client.get("/display/?notice=Xin+ch%C3%A0o&accent=00ff00")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    data = boot(page)
    assert data["token"] == paired
    assert data["state"]["site"]["code"] == "s1" and data["state"]["seq"] == 0
    assert [c["number"] for c in data["state"]["counters"]] == [1, 2]
    assert data["texts"]["unlock_sound"] == "Chạm để bật âm thanh"
    assert data["options"]["speak"] is False  # only a display told to speaks
    assert "Site s1" in page and "Xin chào" in page and "--accent: #00ff00" in page
    assert "/static/vendor/socket.io.min.js" in page
    assert "/display/static/display/lobby.js" in page


def test_the_counter_page_knows_its_counter(paired: str, client: Any) -> None:
    page = client.get("/display/counter/2").get_data(as_text=True)
    assert boot(page)["counter"] == 2
    assert "Tạm dừng phục vụ" in page
    assert client.get("/display/counter/0").status_code == 404


def test_the_pages_speak_english_on_request(paired: str, client: Any) -> None:
    page = client.get("/display/?lang=en").get_data(as_text=True)
    assert boot(page)["texts"]["unlock_sound"] == "Tap to turn the sound on"
    assert boot(page)["lang"] == "en"


def test_a_display_keeps_its_settings_with_its_token(
    database: Any, paired: str, client: Any
) -> None:
    with database.writes() as session:
        token = session.query(ApiToken).one()
        token.settings = {"speak": True, "notice": "Kính chào quý khách"}
        session.commit()
    data = boot(client.get("/display/").get_data(as_text=True))
    assert data["options"]["speak"] is True
    assert data["options"]["notice"] == "Kính chào quý khách"
    assert boot(client.get("/display/?speak=0").get_data(as_text=True))["options"]["speak"] is False


def test_assets_are_served(client: Any) -> None:
    for path in (
        "/display/static/display/lobby.js",
        "/display/static/display/audio-queue.js",
        "/display/static/display/state.js",
        "/display/static/display/display.css",
        "/display/fonts/DejaVuSans-Bold.ttf",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/display/fonts/secret.ttf").status_code == 404
