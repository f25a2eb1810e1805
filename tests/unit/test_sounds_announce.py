"""Announcement text and clips from a site's template."""

from __future__ import annotations

import pytest

from sounds.announce import (
    DEFAULT_TEMPLATE,
    TemplateError,
    announcement_text,
    opening,
    parse_template,
    spoken,
    vocabulary,
)
from sounds.vietnamese import ReadingOptions, read_code


def test_default_text() -> None:
    assert DEFAULT_TEMPLATE == "Mời công dân có số thứ tự {number} đến quầy số {counter}"
    assert announcement_text("A007", 3) == "Mời công dân có số thứ tự a bảy đến quầy số ba"
    assert (
        announcement_text("1015", "12")
        == "Mời công dân có số thứ tự một nghìn không trăm mười lăm đến quầy số mười hai"
    )


def test_clips_of_the_default_template() -> None:
    assert [s.key for s in spoken("A015", 3)] == [
        "mời công dân có số thứ tự",
        "a",
        "mười",
        "lăm",
        "đến quầy số",
        "ba",
    ]
    assert [s.ends_group for s in spoken("A015", 3)] == [True, False, False, True, True, True]


def test_a_site_template_with_punctuation_and_options() -> None:
    template = "Xin mời số {number}, tới quầy {counter}."
    options = ReadingOptions(zero_hundred="lẻ", thousand="ngàn")
    assert [s.key for s in spoken("1005", 2, template, options)] == [
        "xin mời số",
        "một",
        "ngàn",
        "không",
        "trăm",
        "lẻ",
        "năm",
        "tới quầy",
        "hai",
    ]
    assert announcement_text("1005", 2, template, options) == (
        "Xin mời số một ngàn không trăm lẻ năm, tới quầy hai."
    )


def test_counter_is_optional_and_number_is_not() -> None:
    assert [s.key for s in spoken("7", 1, "Số {number}")] == ["số", "bảy"]
    assert announcement_text("7", "", "Số {number}") == "Số bảy"
    with pytest.raises(TemplateError):
        parse_template("Mời quầy {counter}")


@pytest.mark.parametrize(
    "bad", ["Số {ticket}", "Số {number:>4}", "Số {number!r}", "Số {number", "Số {}"]
)
def test_bad_templates(bad: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(bad)


def test_vocabulary_covers_every_number_and_letter() -> None:
    keys = set(vocabulary())
    assert {"mời công dân có số thứ tự", "đến quầy số"} <= keys
    for options in (
        ReadingOptions(),
        ReadingOptions(zero_hundred="lẻ", thousand="ngàn"),
        ReadingOptions(digit_by_digit=True),
    ):
        for n in range(10_000):
            assert set(read_code(f"A{n:04d}", options)) <= keys
    for letter in "ABCDĐEFGHIJKLMNOPQRSTUVWXYZ":
        assert set(read_code(letter)) <= keys


def test_vocabulary_has_each_template_phrase_once() -> None:
    keys = vocabulary([DEFAULT_TEMPLATE, "Mời công dân có số thứ tự {number} tới bàn {counter}"])
    assert keys.count("mời công dân có số thứ tự") == 1
    assert "tới bàn" in keys


def test_the_opening_phrase_a_call_in_a_list_leaves_out() -> None:
    assert opening() == ("mời công dân có số thứ tự",)
    assert opening("Xin mời, số {number} tới quầy {counter}") == ("xin mời, số",)
    assert opening("{number} mời đến quầy {counter}") == ()
    assert opening("Quầy {counter} mời số {number}") == ()  # the counter first: nothing to drop
