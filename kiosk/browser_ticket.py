"""The ticket as HTML for browser printing (printer URL ``browser``).

It is drawn from the very layout the thermal printer gets (``kiosk.layout``):
the same blocks, the same lines and the same bundled font, one printer dot
being 1/8 mm, so a ticket printed by the browser says and looks what an
ESC/POS ticket does, with text the browser keeps sharp.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from .layout import Paper, QrBlock, RuleBlock, TextBlock, layout_ticket
from .qr import qr_image
from .ticket import TicketSlip

# 203 dpi thermal heads: 384 dots on 48 mm (58 mm paper), 576 on 72 mm (80 mm paper).
DOTS_PER_MM = 8


def mm(dots: float) -> str:
    """A length in dots as CSS millimetres."""
    return f"{dots / DOTS_PER_MM:.3f}mm"


@dataclass(frozen=True)
class HtmlBlock:
    kind: str  # "text", "qr" or "rule"
    space_before: str
    lines: tuple[str, ...] = ()
    font_size: str = ""
    bold: bool = False
    tight: bool = False
    image: str = ""  # the QR code as a data: URL
    width: str = ""
    thickness: str = ""


def _png_data_url(data: str, module: int) -> tuple[str, int]:
    image = qr_image(data, module)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), image.width


def html_blocks(slip: TicketSlip, paper: Paper) -> list[HtmlBlock]:
    """The printed ticket's blocks, top to bottom, in CSS units."""
    blocks: list[HtmlBlock] = []
    for block in layout_ticket(slip, paper):
        space = mm(block.space_before)
        if isinstance(block, TextBlock):
            blocks.append(
                HtmlBlock(
                    "text",
                    space,
                    lines=block.lines,
                    font_size=mm(block.size),
                    bold=block.bold,
                    tight=block.tight,
                )
            )
        elif isinstance(block, QrBlock):
            data_url, side = _png_data_url(block.url, block.module)
            blocks.append(HtmlBlock("qr", space, image=data_url, width=mm(side)))
        elif isinstance(block, RuleBlock):
            blocks.append(HtmlBlock("rule", space, thickness=mm(block.thickness)))
    return blocks


@dataclass(frozen=True)
class BrowserTicket:
    paper_mm: int
    printable_width: str
    margin: str
    gap: str
    blocks: list[HtmlBlock]


def browser_ticket(slip: TicketSlip, paper: Paper) -> BrowserTicket:
    """What the ``kiosk/slip.html`` template needs to print ``slip`` on ``paper``."""
    return BrowserTicket(
        paper_mm=paper.mm,
        printable_width=mm(paper.dots),
        margin=mm(paper.margin),
        gap=mm(paper.gap),
        blocks=html_blocks(slip, paper),
    )
