"""Vietnamese words for numbers, digits, letters and ticket numbers.

The rules of reading a number (the ones a naive reader gets wrong):

- 10 is "mười"; 20 to 90 are "<digit> mươi" (hai mươi), without the grave accent.
- After "mươi" a unit 1 is "mốt" (21 hai mươi mốt) and a unit 4 is "tư" (24 hai mươi tư);
  after "mười" they stay "một" and "bốn" (11 mười một, 14 mười bốn).
- After "mười" or "mươi" a unit 5 is "lăm" (15 mười lăm, 25 hai mươi lăm); elsewhere it is
  "năm" (5 năm, 105 một trăm linh năm).
- A zero tens digit after hundreds is "linh" (or "lẻ" in the South): 105 một trăm linh năm.
- A group of three digits after a higher group always says its hundreds, also "không trăm":
  1005 một nghìn không trăm linh năm, 2024 hai nghìn không trăm hai mươi tư.
- "nghìn" (North) or "ngàn" (South) for a thousand.

Every word these functions say is in :func:`spoken_units`, so a voice that has a clip for each
of them can say any number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
MAX_NUMBER = 999_999

ZeroHundred = Literal["linh", "lẻ"]
Thousand = Literal["nghìn", "ngàn"]
ZERO_HUNDREDS: tuple[ZeroHundred, ...] = get_args(ZeroHundred)
THOUSANDS: tuple[Thousand, ...] = get_args(Thousand)

# Letter names as Vietnamese speakers say them when reading out a code (school names for the
# Vietnamese letters, the usual Vietnamese names for F, J, W, Z).
LETTER_NAMES: Mapping[str, str] = {
    "A": "a",
    "Ă": "á",
    "Â": "ớ",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "Ê": "ê",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e lờ",
    "M": "em mờ",
    "N": "en nờ",
    "O": "o",
    "Ô": "ô",
    "Ơ": "ơ",
    "P": "pê",
    "Q": "quy",
    "R": "e rờ",
    "S": "ét xì",
    "T": "tê",
    "U": "u",
    "Ư": "ư",
    "V": "vê",
    "W": "vê kép",
    "X": "ích xì",
    "Y": "i dài",
    "Z": "dét",
}

# Characters a ticket or counter number may carry that are not read out.
_SILENT = " -._/"


@dataclass(frozen=True)
class ReadingOptions:
    """How a site reads numbers: "linh"/"lẻ", "nghìn"/"ngàn", digit by digit, letter names."""

    zero_hundred: ZeroHundred = "linh"
    thousand: Thousand = "nghìn"
    digit_by_digit: bool = False
    letter_names: Mapping[str, str] = field(default_factory=lambda: LETTER_NAMES)


def _two_digits(n: int) -> list[str]:
    """10..99: mười, mười một, mười bốn, mười lăm, hai mươi, hai mươi mốt, hai mươi tư."""
    tens, unit = divmod(n, 10)
    words = ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if unit == 0:
        return words
    if unit == 5:
        words.append("lăm")
    elif unit == 1 and tens >= 2:
        words.append("mốt")
    elif unit == 4 and tens >= 2:
        words.append("tư")
    else:
        words.append(DIGITS[unit])
    return words


def _three_digits(n: int, *, full: bool, zero_hundred: str) -> list[str]:
    """0..999 as a group; ``full`` says the hundreds even when zero (a group after a higher one)."""
    hundreds, rest = divmod(n, 100)
    words = [DIGITS[hundreds], "trăm"] if hundreds or full else []
    if rest == 0:
        return words
    if rest < 10:
        return [*words, zero_hundred, DIGITS[rest]] if words else [DIGITS[rest]]
    return words + _two_digits(rest)


def number_words(
    n: int, *, zero_hundred: ZeroHundred = "linh", thousand: Thousand = "nghìn"
) -> list[str]:
    """The words of ``n`` (0..999,999), one list item per spoken word."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number_to_words takes an int, not {type(n).__name__}")
    if zero_hundred not in ZERO_HUNDREDS:
        raise ValueError(f"zero_hundred must be 'linh' or 'lẻ', not {zero_hundred!r}")
    if thousand not in THOUSANDS:
        raise ValueError(f"thousand must be 'nghìn' or 'ngàn', not {thousand!r}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number_to_words reads 0 to {MAX_NUMBER}, not {n}")
    if n == 0:
        return [DIGITS[0]]
    thousands, rest = divmod(n, 1000)
    if not thousands:
        return _three_digits(rest, full=False, zero_hundred=zero_hundred)
    words = [*_three_digits(thousands, full=False, zero_hundred=zero_hundred), thousand]
    if rest:
        words += _three_digits(rest, full=True, zero_hundred=zero_hundred)
    return words


def number_to_words(
    n: int, *, zero_hundred: ZeroHundred = "linh", thousand: Thousand = "nghìn"
) -> str:
    """``n`` (0..999,999) in Vietnamese words: 1005 -> "một nghìn không trăm linh năm"."""
    return " ".join(number_words(n, zero_hundred=zero_hundred, thousand=thousand))


def digit_words(digits: str) -> list[str]:
    """Digit by digit, leading zeros included: "007" -> ["không", "không", "bảy"]."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"not a string of digits: {digits!r}")
    return [DIGITS[int(d)] for d in digits]


def digits_to_words(digits: str) -> str:
    """Digit by digit: "1015" -> "một không một năm"."""
    return " ".join(digit_words(digits))


def read_code(code: str, options: ReadingOptions | None = None) -> list[str]:
    """The spoken units of a ticket or counter number, one clip each.

    Letters are read by name ("A" -> "a", "B" -> "bê"; a two-syllable name such as "e lờ" is one
    unit); each run of digits is read as a number with its leading zeros dropped
    ("A007" -> a bảy), or digit by digit when the site reads so ("A007" -> a không không bảy).
    Spaces, dashes, dots and slashes are not read.
    """
    options = options or ReadingOptions()
    units: list[str] = []
    run = ""
    for char in str(code).strip() + " ":
        if char.isascii() and char.isdigit():
            run += char
            continue
        if run:
            units += _read_digits(run, options)
            run = ""
        if char in _SILENT:
            continue
        name = options.letter_names.get(char.upper())
        if name is None:
            raise ValueError(f"cannot read {char!r} in {code!r}")
        units.append(name)
    if not units:
        raise ValueError(f"nothing to read in {code!r}")
    return units


def _read_digits(run: str, options: ReadingOptions) -> list[str]:
    if options.digit_by_digit:
        return digit_words(run)
    return number_words(int(run), zero_hundred=options.zero_hundred, thousand=options.thousand)


def code_to_words(code: str, options: ReadingOptions | None = None) -> str:
    """A ticket number in words: "A007" -> "a bảy", "1015" -> "một nghìn không trăm mười lăm"."""
    return " ".join(read_code(code, options))


def spoken_units(letter_names: Mapping[str, str] = LETTER_NAMES) -> list[str]:
    """Every unit the readers above can say (both spellings of each option), each once."""
    words = [*DIGITS, "mười", "mươi", "mốt", "tư", "lăm", "trăm", "linh", "lẻ", "nghìn", "ngàn"]
    return list(dict.fromkeys([*words, *letter_names.values()]))
