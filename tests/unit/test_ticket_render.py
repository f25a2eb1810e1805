"""Ticket rendering: width per paper, every Vietnamese glyph present, long names wrap."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest

from kiosk.fonts import load_font, missing_glyphs
from kiosk.layout import (
    PAPERS,
    QrBlock,
    TextBlock,
    layout_ticket,
    paper_for,
    text_width,
    wrap_words,
)
from kiosk.render import render_png, render_ticket
from kiosk.ticket import (
    TITLE,
    duration_words,
    issued_text,
    session_name,
    slip_from_views,
)
from kiosk.tracking import tracking_url

from ..ticket_fixtures import (
    BIRTHS,
    COPIES,
    HEADER,
    SERVICE_NAMES,
    TRACKING,
    VERY_LONG,
    is_blank,
    read_qr,
    slip,
)

PAPER_MM = sorted(PAPERS)


def text_blocks(blocks: list) -> list[TextBlock]:
    return [b for b in blocks if isinstance(b, TextBlock)]


@pytest.mark.parametrize(("mm", "dots"), [(58, 384), (80, 576)])
def test_the_image_is_exactly_as_wide_as_the_paper(mm: int, dots: int) -> None:
    image = render_ticket(slip(), mm)
    assert image.mode == "1"
    assert image.width == dots == paper_for(mm).dots
    assert image.height > image.width  # a ticket, not a banner


def test_only_58_and_80_mm_paper_exist() -> None:
    for bad in (57, "70", "abc", None):
        with pytest.raises(ValueError):
            paper_for(bad)  # type: ignore[arg-type]
    assert paper_for("58").dots == 384


@pytest.mark.parametrize("mm", PAPER_MM)
@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_no_glyph_is_missing_on_any_line(mm: int, name: str) -> None:
    blocks = layout_ticket(slip(service_name=name), paper_for(mm))
    printed = [(line, b.bold) for b in text_blocks(blocks) for line in b.lines]
    assert any(line == TITLE for line, _ in printed)
    for line, bold in printed:
        assert missing_glyphs(line, bold=bold) == set(), line


def test_every_vietnamese_letter_has_a_glyph_in_both_weights() -> None:
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]  # huyền sắc ngã hỏi nặng
    letters = [unicodedata.normalize("NFC", v + t) for v in vowels for t in tones] + ["đ"]
    alphabet = "".join(letters) + "".join(letters).upper() + "0123456789–:,.()"
    assert len(letters) == 73
    assert missing_glyphs(alphabet) == set()
    assert missing_glyphs(alphabet, bold=True) == set()


def test_the_glyph_check_does_find_missing_glyphs() -> None:
    assert missing_glyphs("Số 7 – 你好 🙂") == {"你", "好", "🙂"}


def test_decomposed_text_prints_like_composed_text() -> None:
    nfd = unicodedata.normalize("NFD", BIRTHS)
    assert nfd != BIRTHS and missing_glyphs(nfd) == set()
    composed = render_ticket(slip(service_name=BIRTHS), 80)
    decomposed = render_ticket(slip(service_name=nfd), 80)
    assert composed.tobytes() == decomposed.tobytes()


@pytest.mark.parametrize("mm", PAPER_MM)
@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_line_fits_the_printable_width(mm: int, name: str) -> None:
    paper = paper_for(mm)
    blocks = layout_ticket(slip(service_name=name), paper)
    for block in text_blocks(blocks):
        font = load_font(block.size, block.bold)
        for line in block.lines:
            assert text_width(font, line) <= paper.content_width, (mm, line)
    qr = next(b for b in blocks if isinstance(b, QrBlock))
    assert qr.module >= 3  # a phone camera reads 3 dots (0.375 mm) per module


@pytest.mark.parametrize("mm", PAPER_MM)
def test_a_long_name_wraps_by_words_and_loses_nothing(mm: int) -> None:
    paper = paper_for(mm)
    blocks = text_blocks(layout_ticket(slip(service_name=VERY_LONG), paper))
    service = next(b for b in blocks if b.lines and b.lines[0].startswith("Đăng ký khai sinh"))
    assert len(service.lines) >= 3
    assert " ".join(service.lines).split() == VERY_LONG.split()  # no word cut or dropped
    for line in service.lines:
        assert not line.startswith(" ") and not line.endswith(" ")


@pytest.mark.parametrize("mm", PAPER_MM)
def test_a_longer_name_makes_a_longer_ticket_not_a_wider_one(mm: int) -> None:
    short = render_ticket(slip(service_name=COPIES), mm)
    long = render_ticket(slip(service_name=VERY_LONG), mm)
    assert long.width == short.width
    assert long.height > short.height


@pytest.mark.parametrize("mm", PAPER_MM)
@pytest.mark.parametrize("name", [BIRTHS, VERY_LONG])
def test_nothing_is_drawn_in_the_side_margins(mm: int, name: str) -> None:
    paper = paper_for(mm)
    image = render_ticket(slip(service_name=name), mm)
    left = image.crop((0, 0, paper.margin, image.height))
    right = image.crop((image.width - paper.margin, 0, image.width, image.height))
    assert is_blank(left) and is_blank(right)


def test_wrapping_keeps_whole_words_and_balances_lines() -> None:
    font = load_font(30, bold=True)
    width = paper_for(80).content_width
    lines = wrap_words(BIRTHS, font, width)
    assert all(text_width(font, line) <= width for line in lines)
    assert wrap_words("", font, width) == ()
    # A "word" wider than the paper (a code, a URL) is the only thing ever broken.
    code = "X" * 80
    pieces = wrap_words(code, font, width)
    assert len(pieces) > 1 and "".join(pieces) == code


def test_the_number_is_the_largest_text_and_fits() -> None:
    for mm in PAPER_MM:
        paper = paper_for(mm)
        for number in ("A007", "3001", "ABCD0001"):
            blocks = text_blocks(layout_ticket(slip(number=number), paper))
            block = next(b for b in blocks if b.lines == (number,))
            assert block.size == max(b.size for b in blocks)
            assert text_width(load_font(block.size, True), number) <= paper.content_width
        four = next(b for b in text_blocks(layout_ticket(slip(), paper)) if b.lines == ("A007",))
        assert four.size >= paper.dots // 4  # "very large": a quarter of the width in height


@pytest.mark.parametrize("mm", PAPER_MM)
def test_the_qr_code_reads_as_the_tracking_url(mm: int) -> None:
    assert read_qr(render_ticket(slip(), mm)) == [TRACKING]


def test_without_a_tracking_url_there_is_no_qr_code() -> None:
    image = render_ticket(slip(tracking_url=None), 80)
    assert read_qr(image) == []
    assert image.height < render_ticket(slip(), 80).height


def test_the_site_name_is_not_printed_twice() -> None:
    paper = paper_for(80)
    same = slip(site_name="UBND phường Hồng Bàng")  # = HEADER[1], other case
    lines = [line for b in text_blocks(layout_ticket(same, paper)) for line in b.lines]
    assert lines.count("UBND PHƯỜNG HỒNG BÀNG") == 1
    assert "UBND phường Hồng Bàng" not in lines
    other = slip(site_name="Trung tâm Phục vụ hành chính công")
    lines = [line for b in text_blocks(layout_ticket(other, paper)) for line in b.lines]
    assert "Trung tâm Phục vụ hành chính công" in lines


def test_rendering_is_deterministic_and_png_round_trips() -> None:
    from io import BytesIO

    from PIL import Image

    assert render_ticket(slip(), 58).tobytes() == render_ticket(slip(), 58).tobytes()
    png = render_png(slip(), 58)
    assert png.startswith(b"\x89PNG")
    decoded = Image.open(BytesIO(png))
    assert decoded.size == (384, render_ticket(slip(), 58).height)


# --- the words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "text"),
    [
        (datetime(2026, 11, 23, 2, 5, tzinfo=UTC), "Thời gian: 23/11/2026 09:05 (Sáng)"),
        (datetime(2026, 11, 23, 4, 59, tzinfo=UTC), "Thời gian: 23/11/2026 11:59 (Sáng)"),
        (datetime(2026, 11, 23, 5, 0, tzinfo=UTC), "Thời gian: 23/11/2026 12:00 (Chiều)"),
        (datetime(2026, 11, 23, 6, 30, tzinfo=UTC), "Thời gian: 23/11/2026 13:30 (Chiều)"),
        # 17:30 UTC on the 22nd is already the 23rd in Hà Nội.
        (datetime(2026, 11, 22, 17, 30, tzinfo=UTC), "Thời gian: 23/11/2026 00:30 (Sáng)"),
    ],
)
def test_date_time_and_session_are_in_the_site_zone(utc: datetime, text: str) -> None:
    assert issued_text(utc, "Asia/Ho_Chi_Minh") == text


def test_the_session_follows_the_sites_own_zone() -> None:
    moment = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert session_name(moment, "Asia/Ho_Chi_Minh") == "Sáng"  # 09:00
    assert session_name(moment, "Asia/Tokyo") == "Sáng"  # 11:00
    assert session_name(moment, "Australia/Sydney") == "Chiều"  # 13:00


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "dưới 1 phút"),
        (59, "dưới 1 phút"),
        (60, "khoảng 1 phút"),
        (61, "khoảng 2 phút"),
        (1830, "khoảng 31 phút"),
        (3600, "khoảng 1 giờ"),
        (3900, "khoảng 1 giờ 5 phút"),
    ],
)
def test_the_wait_is_in_minutes_rounded_up(seconds: int, words: str) -> None:
    assert duration_words(seconds) == words


def test_the_tracking_url_has_one_stable_shape() -> None:
    assert tracking_url("https://q.example.vn", "abc_-1") == "https://q.example.vn/t/abc_-1"
    assert tracking_url("https://q.example.vn/", "abc") == "https://q.example.vn/t/abc"
    assert tracking_url("http://10.0.0.2:8080/xephang/", "a/b") == (
        "http://10.0.0.2:8080/xephang/t/a%2Fb"
    )
    with pytest.raises(ValueError):
        tracking_url(" ", "abc")


def test_a_slip_from_the_api_dicts() -> None:
    ticket = {
        "id": 5,
        "number": "B012",
        "service_name": COPIES,
        "priority": "elderly",
        "issued_at": "2026-11-23T06:30:00+00:00",
        "people_ahead": 3,
        "estimated_wait_s": 420,
        "tracking_token": "tok123",
    }
    site = {"name": "UBND phường Hồng Bàng", "timezone": "Asia/Ho_Chi_Minh", "header_lines": HEADER}
    made = slip_from_views(
        ticket, site, base_url="https://q.example.vn", footer="Dòng một\n\nDòng hai"
    )
    assert made.number == "B012" and made.service_name == COPIES
    assert made.priority == "Người cao tuổi"
    assert made.tracking_url == "https://q.example.vn/t/tok123"
    assert made.header_lines == HEADER and made.footer == ("Dòng một", "Dòng hai")
    assert issued_text(made.issued_at, made.timezone).endswith("13:30 (Chiều)")
    lines = [line for b in text_blocks(layout_ticket(made, paper_for(80))) for line in b.lines]
    assert "Số người chờ trước: 3" in lines
    assert "Thời gian chờ dự kiến: khoảng 7 phút" in lines
    assert "Ưu tiên: Người cao tuổi" in lines

    called = {**ticket, "people_ahead": None, "estimated_wait_s": None, "priority": None}
    del called["tracking_token"]
    plain = slip_from_views(called, site, base_url="https://q.example.vn")
    assert plain.tracking_url is None and plain.priority is None
    lines = [line for b in text_blocks(layout_ticket(plain, paper_for(80))) for line in b.lines]
    assert not any(line.startswith("Số người chờ trước") for line in lines)
    assert "Vui lòng giữ phiếu và chờ gọi số." in lines
