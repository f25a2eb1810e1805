"""Where things go on the paper: a ticket as a column of blocks, each one fitting the width.

The layout is plain data so tests can check the rules without pixels: every
line is at most the printable width, long names wrap at spaces (never cut),
and the number is as large as the paper allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, floor

from PIL import ImageFont

from .fonts import compose, load_font
from .qr import qr_matrix
from .ticket import (
    TITLE,
    TicketSlip,
    issued_text,
    people_ahead_text,
    priority_text,
    wait_text,
)

QR_CAPTION = "Quét mã QR để theo dõi lượt của bạn"
# Tallest Vietnamese letters (stacked marks) and the deepest descenders: every
# line of a block is as tall as these, so no diacritic is ever clipped.
LINE_PROBE = "ỄẤỸẴÁjgpqyỵ"
LINE_SPACING = 0.18  # of the font size, between lines of one block
NUMBER_MIN_SIZE = 24


@dataclass(frozen=True)
class Paper:
    """A roll width: its printable dots and the sizes (in dots) printed on it."""

    mm: int
    dots: int
    margin: int
    header: int
    site: int
    title: int
    number: int
    service: int
    body: int
    caption: int
    footer: int
    qr: int
    gap: int

    @property
    def content_width(self) -> int:
        return self.dots - 2 * self.margin


PAPERS: dict[int, Paper] = {
    58: Paper(58, 384, 8, 17, 20, 26, 150, 23, 19, 15, 16, 168, 8),
    80: Paper(80, 576, 12, 22, 26, 34, 210, 30, 24, 18, 20, 232, 10),
}


def paper_for(mm: int | str) -> Paper:
    """58 mm paper is 384 dots wide, 80 mm is 576; nothing else is a ticket roll."""
    try:
        return PAPERS[int(mm)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"paper must be one of {sorted(PAPERS)} (mm), not {mm!r}") from None


@dataclass(frozen=True)
class TextBlock:
    """Lines of one size, each centred; ``tight`` fits the height to the ink (for the number)."""

    lines: tuple[str, ...]
    size: int
    bold: bool = False
    space_before: int = 0
    tight: bool = False


@dataclass(frozen=True)
class QrBlock:
    """A QR code of ``url``, ``module`` dots per module, quiet zone included."""

    url: str
    module: int
    space_before: int = 0


@dataclass(frozen=True)
class RuleBlock:
    thickness: int = 2
    space_before: int = 0


Block = TextBlock | QrBlock | RuleBlock


def ink_extent(font: ImageFont.FreeTypeFont, text: str) -> tuple[int, int]:
    """Left and right of the drawn pixels of ``text``, from its origin."""
    left, _, right, _ = font.getbbox(text, anchor="ls")
    return min(0, floor(left)), max(ceil(right), ceil(font.getlength(text)))


def text_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    left, right = ink_extent(font, text)
    return right - left


def _split_word(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """A single word wider than the paper (a long code, a URL) is broken between letters."""
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and text_width(font, current + ch) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap_words(text: str, font: ImageFont.FreeTypeFont, width: int) -> tuple[str, ...]:
    """Greedy word wrap: as many whole words per line as fit in ``width`` dots.

    Nothing is dropped: joining the lines with spaces gives back the words of
    ``text``. Only a word wider than a whole line is broken inside.
    """
    lines: list[str] = []
    current = ""
    for word in compose(text).split():
        candidate = f"{current} {word}" if current else word
        if text_width(font, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        pieces = _split_word(word, font, width)
        lines.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        lines.append(current)
    return tuple(lines)


def balanced_wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> tuple[str, ...]:
    """As few lines as ``wrap_words`` gives, but as even as possible (no lone last word).

    The narrowest width that still needs no more lines is found by bisection;
    wrapping at it spreads the words evenly over the lines.
    """
    lines = wrap_words(text, font, width)
    if len(lines) <= 1:
        return lines
    low, high = 1, width
    while low < high:
        middle = (low + high) // 2
        if len(wrap_words(text, font, middle)) <= len(lines):
            high = middle
        else:
            low = middle + 1
    return wrap_words(text, font, high)


def fit_size(text: str, width: int, largest: int, bold: bool = True) -> int:
    """The largest font size, down from ``largest``, at which ``text`` fits on one line."""
    size = largest
    while size > NUMBER_MIN_SIZE and text_width(load_font(size, bold), text) > width:
        size -= 2
    return size


def qr_module(url: str, paper: Paper) -> int:
    """Dots per QR module: the code about ``paper.qr`` wide, never under 2 dots a module."""
    return max(2, min(paper.qr, paper.content_width) // len(qr_matrix(url)))


def _text(text: str, paper: Paper, size: int, *, bold: bool = False, space: int = 0) -> TextBlock:
    lines = balanced_wrap(text, load_font(size, bold), paper.content_width)
    return TextBlock(lines, size, bold, space)


def _same_name(a: str, b: str) -> bool:
    return compose(a).casefold().split() == compose(b).casefold().split()


def layout_ticket(slip: TicketSlip, paper: Paper) -> list[Block]:
    """The ticket, top to bottom: agency, title, number, service, wait, time, QR, footer."""
    gap = paper.gap
    blocks: list[Block] = []
    for line in slip.header_lines:
        blocks.append(_text(line, paper, paper.header))
    # The site name is often also the last header line: print it once.
    if slip.site_name and not any(_same_name(slip.site_name, h) for h in slip.header_lines):
        blocks.append(_text(slip.site_name, paper, paper.site, bold=True))
    blocks.append(RuleBlock(2, gap))
    blocks.append(_text(TITLE, paper, paper.title, bold=True, space=gap))
    number = compose(slip.number)
    size = fit_size(number, paper.content_width, paper.number)
    blocks.append(TextBlock((number,), size, bold=True, space_before=gap, tight=True))
    blocks.append(_text(slip.service_name, paper, paper.service, bold=True, space=2 * gap))
    if slip.priority:
        priority = priority_text(slip.priority)
        blocks.append(_text(priority, paper, paper.body, bold=True, space=gap // 2))
    blocks.append(RuleBlock(2, gap))
    if slip.people_ahead is not None:
        blocks.append(_text(people_ahead_text(slip.people_ahead), paper, paper.body, space=gap))
    if slip.estimated_wait_s is not None:
        blocks.append(_text(wait_text(slip.estimated_wait_s), paper, paper.body))
    blocks.append(_text(issued_text(slip.issued_at, slip.timezone), paper, paper.body))
    if slip.tracking_url:
        blocks.append(QrBlock(slip.tracking_url, qr_module(slip.tracking_url, paper), gap))
        blocks.append(_text(QR_CAPTION, paper, paper.caption))
    for index, line in enumerate(slip.footer):
        blocks.append(_text(line, paper, paper.footer, space=gap if index == 0 else 0))
    return blocks
