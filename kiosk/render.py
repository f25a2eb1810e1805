"""A ticket as a 1-bit image exactly as wide as the paper's printable dots.

Printers get this image (ESC/POS code pages do not carry Vietnamese
reliably), and the PNG preview shows the same pixels.
"""

from __future__ import annotations

import io
from math import ceil, floor

from PIL import Image, ImageDraw

from .fonts import load_font
from .layout import (
    LINE_PROBE,
    LINE_SPACING,
    Block,
    Paper,
    QrBlock,
    RuleBlock,
    TextBlock,
    ink_extent,
    layout_ticket,
    paper_for,
)
from .qr import qr_image
from .ticket import TicketSlip

WHITE, BLACK = 1, 0


def _line_metrics(block: TextBlock) -> tuple[int, int, int]:
    """Above the baseline, below it, and the spacing between lines of this block."""
    font = load_font(block.size, block.bold)
    probe = block.lines[0] if block.tight and block.lines else LINE_PROBE
    _, top, _, bottom = font.getbbox(probe, anchor="ls")
    return -floor(top), ceil(bottom), round(block.size * LINE_SPACING)


def block_height(block: Block) -> int:
    if isinstance(block, RuleBlock):
        return block.thickness
    if isinstance(block, QrBlock):
        return qr_image(block.url, block.module).height
    if not block.lines:
        return 0
    above, below, spacing = _line_metrics(block)
    return len(block.lines) * (above + below) + (len(block.lines) - 1) * spacing


def _draw_text(image: Image.Image, block: TextBlock, top: int, paper: Paper) -> None:
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # hard-edged glyphs: a thermal head prints no grey
    font = load_font(block.size, block.bold)
    above, below, spacing = _line_metrics(block)
    baseline = top + above
    for line in block.lines:
        left, right = ink_extent(font, line)
        x = (paper.dots - (right - left)) // 2 - left
        draw.text((x, baseline), line, font=font, fill=BLACK, anchor="ls")
        baseline += above + below + spacing


def _draw(image: Image.Image, block: Block, top: int, paper: Paper) -> None:
    if isinstance(block, RuleBlock):
        image.paste(BLACK, (paper.margin, top, paper.dots - paper.margin, top + block.thickness))
    elif isinstance(block, QrBlock):
        code = qr_image(block.url, block.module)
        image.paste(code, ((paper.dots - code.width) // 2, top))
    else:
        _draw_text(image, block, top, paper)


def render_ticket(slip: TicketSlip, paper: Paper | int = 80) -> Image.Image:
    """The ticket as a mode "1" image, ``paper.dots`` wide and as tall as its content."""
    spec = paper if isinstance(paper, Paper) else paper_for(paper)
    blocks = layout_ticket(slip, spec)
    height = spec.gap + sum(b.space_before + block_height(b) for b in blocks) + spec.gap
    image = Image.new("1", (spec.dots, height), WHITE)
    top = spec.gap
    for block in blocks:
        top += block.space_before
        _draw(image, block, top, spec)
        top += block_height(block)
    return image


def render_png(slip: TicketSlip, paper: Paper | int = 80) -> bytes:
    """The ticket image as PNG bytes (the preview the API serves)."""
    buffer = io.BytesIO()
    render_ticket(slip, paper).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
