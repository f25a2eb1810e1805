"""The kiosk page, its texts in both languages, its font, and its browser-printed ticket."""

from __future__ import annotations

import base64
import io
import json
import re
from html import unescape

import pytest
from PIL import Image
from sqlalchemy import select

from kiosk.layout import TextBlock, layout_ticket, paper_for
from server.engine.rules import PRIORITY_REASONS
from server.kiosk_pages.lookup import ticket_slip
from server.kiosk_pages.page_text import TEXTS, page_texts, priority_choices
from server.messages import PRIORITY_LABELS
from server.models import Ticket

from ..api_fixtures import bearer
from ..factories import ServiceSpec, build_site
from ..ticket_fixtures import read_qr


@pytest.fixture
def site(database):
    with database.writes() as s:
        build_site(
            s,
            services=[
                ServiceSpec("A", name="Đăng ký khai sinh, kết hôn, khai tử", prefix="A"),
                ServiceSpec("C", prefix="C", sessions=[{"start": "13:00", "end": "17:00"}]),
                ServiceSpec("D", prefix="D", cap=0),
            ],
            counters={1: {"A": 1, "C": 1, "D": 1}},
        )
        build_site(s, code="s2")


@pytest.fixture
def kiosk(site, make_token) -> str:
    return make_token("kiosk")


@pytest.fixture
def paired(client, kiosk):
    """The test client as a paired kiosk screen."""
    assert client.get("/pair", query_string={"token": kiosk}).status_code == 302
    return client


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="kiosk-data">(.*?)</script>', html, re.S)
    assert found, "the page carries its data for the script"
    return json.loads(found.group(1))


def issue(client, token: str, service: str = "A") -> dict:
    response = client.post(
        "/kiosk/api/tickets",
        json={"service": service},
        headers={**bearer(token), "Idempotency-Key": f"tap-{service}-page-0001"},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["ticket"]


# --- the page ---------------------------------------------------------------------


def test_an_unpaired_screen_is_sent_to_pair_first(client, site, make_token):
    response = client.get("/kiosk/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/pair?next=/kiosk/"
    client.get("/pair", query_string={"token": make_token("display")})
    assert client.get("/kiosk/").status_code == 302  # a display is not a kiosk


def test_pairing_a_kiosk_token_lands_on_the_kiosk_page(client, kiosk):
    response = client.get("/pair", query_string={"token": kiosk})
    assert response.headers["Location"] == "/kiosk/"


def test_the_page_is_vietnamese_and_carries_what_its_script_needs(paired, kiosk):
    response = paired.get("/kiosk/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # it holds the device's token
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Chạm vào lĩnh vực để lấy số thứ tự" in html
    assert ">English</button>" in html
    for label in PRIORITY_LABELS.values():
        assert label in html
    data = page_data(html)
    assert data["token"] == kiosk
    assert data["language"] == "vi"
    assert data["issue_url"] == "/kiosk/api/tickets"
    assert data["priorities"] == list(PRIORITY_REASONS)
    states = {s["code"]: s["state"] for s in data["state"]["services"]}
    assert states == {"A": "open", "C": "closed", "D": "full"}
    assert data["state"]["site"]["code"] == "s1"
    assert set(data["texts"]) == {"vi", "en"}
    assert data["texts"]["vi"]["text"]["service_closed"] == (
        "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ"
    )
    assert data["texts"]["vi"]["text"]["service_full"] == "Đã hết số hôm nay"
    assert data["texts"]["en"]["text"]["keep_ticket"].startswith("Please keep your ticket")
    # the assets it loads are served by the kiosk blueprint and the server
    for asset in (
        "/kiosk/static/kiosk/kiosk.js",
        "/kiosk/static/kiosk/kiosk.css",
        "/static/vendor/socket.io.min.js",
        "/kiosk/fonts/DejaVuSans.ttf",
        "/kiosk/fonts/DejaVuSans-Bold.ttf",
    ):
        assert asset in html
        assert paired.get(asset).status_code == 200, asset


def test_the_page_in_english(paired):
    html = paired.get("/kiosk/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Touch a service to take a number" in html
    assert ">Tiếng Việt</button>" in html  # the button names the other language
    assert "Elderly person" in html
    assert page_data(html)["language"] == "en"


def test_the_script_modules_are_served_as_javascript(paired):
    for name in ("kiosk.js", "issue.js", "print.js", "text.js", "slip.js"):
        response = paired.get(f"/kiosk/static/kiosk/{name}")
        assert response.status_code == 200 and "javascript" in response.mimetype, name
    shared = paired.get("/static/live/connect.js")  # the Socket.IO link, shared with /counter
    assert shared.status_code == 200 and "javascript" in shared.mimetype


def test_every_sentence_has_its_english_with_the_same_placeholders(app):
    with app.test_request_context():
        english = page_texts("en")
        vietnamese = page_texts("vi")
        for key, text in TEXTS.items():
            assert vietnamese[key] == text
            assert english[key] != text, f"{key!r} has no English in kiosk's catalog"
            assert set(re.findall(r"\{\w+\}", english[key])) == set(re.findall(r"\{\w+\}", text))
        labels = {p["code"]: p["label"] for p in priority_choices("en")}
        assert set(labels) == set(PRIORITY_REASONS)
        for code, label in labels.items():
            assert label != PRIORITY_LABELS[code], f"priority {code!r} has no English"


def test_the_font_is_served_and_nothing_else(client):
    response = client.get("/kiosk/fonts/DejaVuSans-Bold.ttf")
    assert response.status_code == 200 and response.mimetype == "font/ttf"
    assert response.data[:4] == b"\x00\x01\x00\x00"  # a TrueType file
    assert client.get("/kiosk/fonts/LICENSE").status_code == 404
    assert client.get("/kiosk/fonts/__init__.py").status_code == 404
    assert client.get("/kiosk/fonts/..%2F__init__.py").status_code == 404


# --- the ticket printed through the browser ------------------------------------------------


def slip_lines(html: str) -> list[str]:
    return [unescape(line) for line in re.findall(r'<div class="line">(.*?)</div>', html)]


def test_the_browser_ticket_says_what_the_printed_ticket_says(app, paired, kiosk, database):
    ticket = issue(paired, kiosk)
    response = paired.get(f"/kiosk/tickets/{ticket['id']}/slip?paper=80")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "@page { size: 80mm" in html
    lines = slip_lines(html)
    # the very lines of the thermal layout, in the same order
    with app.app_context(), database.reads() as s:
        from server.runtime import runtime

        slip = ticket_slip(s, ticket["id"], runtime().clock(), base_url="http://localhost/")
    expected = [
        line
        for block in layout_ticket(slip, paper_for(80))
        if isinstance(block, TextBlock)
        for line in block.lines
    ]
    assert lines == expected
    text = " ".join(lines)
    for words in (
        "UBND",
        "Site s1",
        "PHIẾU SỐ THỨ TỰ",
        "A001",
        "Số người chờ trước: 0",
        "Thời gian: 23/11/2026 09:00 (Sáng)",
        "Vui lòng giữ phiếu và chờ gọi số.",
    ):
        assert words in text, words
    assert "Đăng ký khai sinh," in text and "khai tử" in text  # wrapped, never cut
    # the QR code is the ticket's tracking URL
    with database.reads() as s:
        token = s.execute(select(Ticket.tracking_token)).scalar_one()
    found = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    assert found
    image = Image.open(io.BytesIO(base64.b64decode(found.group(1))))
    assert read_qr(image.resize((image.width * 2, image.height * 2))) == [
        f"http://localhost/t/{token}"
    ]


def test_the_browser_ticket_fits_58mm_paper(paired, kiosk):
    ticket = issue(paired, kiosk)
    html = paired.get(f"/kiosk/tickets/{ticket['id']}/slip?paper=58").get_data(as_text=True)
    assert "@page { size: 58mm" in html
    assert 'data-paper="58"' in html
    assert "width: 48.000mm" in html  # 384 dots at 8 dots per mm


def test_the_browser_ticket_is_for_this_site_and_its_kiosk_only(client, site, make_token):
    ticket = issue(client, make_token("kiosk", site="s2"))
    path = f"/kiosk/tickets/{ticket['id']}/slip"
    assert client.get(path).status_code == 302  # not paired
    client.get("/pair", query_string={"token": make_token("kiosk")})
    assert client.get(path).status_code == 404  # a ticket of another site
    assert client.get("/kiosk/tickets/999999/slip").status_code == 404
    client.get("/pair", query_string={"token": make_token("kiosk", site="s2")})
    assert client.get(path).status_code == 200
    assert client.get(path + "?paper=99").status_code == 400
