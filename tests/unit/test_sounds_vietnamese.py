"""Vietnamese number words, digit by digit, letters and ticket numbers."""

from __future__ import annotations

import pytest

from sounds.vietnamese import (
    DIGITS,
    LETTER_NAMES,
    MAX_NUMBER,
    ReadingOptions,
    code_to_words,
    digits_to_words,
    number_to_words,
    number_words,
    read_code,
    spoken_units,
)

NUMBER_WORDS = [
    (0, "không"),
    (1, "một"),
    (4, "bốn"),
    (5, "năm"),
    (9, "chín"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (19, "mười chín"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (30, "ba mươi"),
    (31, "ba mươi mốt"),
    (44, "bốn mươi tư"),
    (45, "bốn mươi lăm"),
    (50, "năm mươi"),
    (55, "năm mươi lăm"),
    (99, "chín mươi chín"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (114, "một trăm mười bốn"),
    (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"),
    (124, "một trăm hai mươi tư"),
    (200, "hai trăm"),
    (305, "ba trăm linh năm"),
    (999, "chín trăm chín mươi chín"),
    (1000, "một nghìn"),
    (1001, "một nghìn không trăm linh một"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (1015, "một nghìn không trăm mười lăm"),
    (1021, "một nghìn không trăm hai mươi mốt"),
    (1100, "một nghìn một trăm"),
    (1105, "một nghìn một trăm linh năm"),
    (1234, "một nghìn hai trăm ba mươi tư"),
    (2000, "hai nghìn"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (2025, "hai nghìn không trăm hai mươi lăm"),
    (5555, "năm nghìn năm trăm năm mươi lăm"),
    (9009, "chín nghìn không trăm linh chín"),
    (9999, "chín nghìn chín trăm chín mươi chín"),
    (10000, "mười nghìn"),
    (15000, "mười lăm nghìn"),
    (21001, "hai mươi mốt nghìn không trăm linh một"),
    (105000, "một trăm linh năm nghìn"),
    (999999, "chín trăm chín mươi chín nghìn chín trăm chín mươi chín"),
]


@pytest.mark.parametrize(("n", "words"), NUMBER_WORDS)
def test_number_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


SOUTHERN = [
    (105, "một trăm lẻ năm"),
    (1000, "một ngàn"),
    (1005, "một ngàn không trăm lẻ năm"),
    (2024, "hai ngàn không trăm hai mươi tư"),
    (15000, "mười lăm ngàn"),
]


@pytest.mark.parametrize(("n", "words"), SOUTHERN)
def test_le_and_ngan(n: int, words: str) -> None:
    assert number_to_words(n, zero_hundred="lẻ", thousand="ngàn") == words


def test_options_are_independent() -> None:
    assert number_to_words(1005, zero_hundred="lẻ") == "một nghìn không trăm lẻ năm"
    assert number_to_words(1005, thousand="ngàn") == "một ngàn không trăm linh năm"


@pytest.mark.parametrize("bad", [-1, MAX_NUMBER + 1])
def test_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        number_to_words(bad)


@pytest.mark.parametrize("bad", [True, 1.0, "5"])
def test_only_ints(bad: object) -> None:
    with pytest.raises(TypeError):
        number_to_words(bad)  # type: ignore[arg-type]


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        number_to_words(105, zero_hundred="le")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        number_to_words(1000, thousand="ngan")  # type: ignore[arg-type]


def test_every_number_to_9999_is_well_formed() -> None:
    units = set(spoken_units())
    for n in range(10_000):
        words = number_words(n)
        assert set(words) <= units, n
        text = number_to_words(n)
        assert text == text.strip() and "  " not in text
        # the unit spellings that only follow "mươi"
        for special in ("mốt", "tư"):
            if special in words:
                assert words[words.index(special) - 1] == "mươi", (n, text)
        if "lăm" in words:
            assert words[words.index("lăm") - 1] in ("mười", "mươi"), (n, text)
        # a group after "nghìn" always says its hundreds
        if n >= 1000 and n % 1000:
            assert words[words.index("nghìn") + 2] == "trăm", (n, text)


def test_distinct_numbers_have_distinct_words() -> None:
    assert len({number_to_words(n) for n in range(10_000)}) == 10_000


def test_digit_by_digit() -> None:
    assert digits_to_words("1015") == "một không một năm"
    assert digits_to_words("007") == "không không bảy"
    assert [digits_to_words(str(d)) for d in range(10)] == list(DIGITS)
    with pytest.raises(ValueError):
        digits_to_words("12a")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("A007", "a bảy"),
        ("A015", "a mười lăm"),
        ("B021", "bê hai mươi mốt"),
        ("C100", "xê một trăm"),
        ("D105", "dê một trăm linh năm"),
        ("Đ001", "đê một"),
        ("E024", "e hai mươi tư"),
        ("F010", "ép mười"),
        ("HT012", "hát tê mười hai"),
        ("L1", "e lờ một"),
        ("a007", "a bảy"),
        ("A-007", "a bảy"),
        ("1015", "một nghìn không trăm mười lăm"),
        ("0", "không"),
        ("000", "không"),
        ("3", "ba"),
    ],
)
def test_codes(code: str, words: str) -> None:
    assert code_to_words(code) == words


def test_codes_digit_by_digit_keep_zeros() -> None:
    options = ReadingOptions(digit_by_digit=True)
    assert code_to_words("A007", options) == "a không không bảy"
    assert code_to_words("1015", options) == "một không một năm"


def test_codes_with_options() -> None:
    options = ReadingOptions(zero_hundred="lẻ", thousand="ngàn")
    assert code_to_words("B1005", options) == "bê một ngàn không trăm lẻ năm"


def test_a_letter_name_is_one_unit() -> None:
    assert read_code("L12") == ["e lờ", "mười", "hai"]


def test_letter_names_can_be_replaced() -> None:
    options = ReadingOptions(letter_names={**LETTER_NAMES, "L": "lờ"})
    assert code_to_words("L12", options) == "lờ mười hai"


@pytest.mark.parametrize("bad", ["", " ", "A#1", "--"])
def test_unreadable_codes(bad: str) -> None:
    with pytest.raises(ValueError):
        read_code(bad)


def test_letters_the_brief_names() -> None:
    names = {"A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép"}
    assert {k: LETTER_NAMES[k] for k in names} == names
