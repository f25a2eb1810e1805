"""The bundled ticket font (DejaVu Sans, see LICENSE): every ticket looks the same everywhere.

Tickets are printed as images, so the font is part of the project, not of the
machine: a kiosk PC without Vietnamese fonts still prints every diacritic.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

FOLDER = Path(__file__).resolve().parent
REGULAR = FOLDER / "DejaVuSans.ttf"
BOLD = FOLDER / "DejaVuSans-Bold.ttf"


def font_path(bold: bool = False) -> Path:
    return BOLD if bold else REGULAR


@cache
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The font at ``size`` pixels, with Pillow's basic layout.

    The basic layout (not libraqm) makes a ticket render to the same pixels on
    every machine; Vietnamese needs no shaping once text is NFC-composed.
    """
    return ImageFont.truetype(str(font_path(bold)), size=size, layout_engine=ImageFont.Layout.BASIC)


@cache
def _covered(bold: bool) -> frozenset[int]:
    with TTFont(font_path(bold), lazy=True) as font:
        cmap = font.getBestCmap()
    return frozenset(cmap)


def compose(text: str) -> str:
    """NFC: one precomposed character per Vietnamese letter (ế, not e + ◌̂ + ◌́)."""
    return unicodedata.normalize("NFC", text)


def missing_glyphs(text: str, bold: bool = False) -> set[str]:
    """The characters of ``text`` (as rendered: NFC, whitespace aside) the font has no glyph for."""
    covered = _covered(bold)
    return {ch for ch in compose(text) if not ch.isspace() and ord(ch) not in covered}
