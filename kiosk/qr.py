"""The ticket's QR code, drawn module by module so it stays sharp at any size."""

from __future__ import annotations

from functools import cache

import qrcode
from PIL import Image

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


@cache
def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of ``data`` (True = dark), quiet zone included; error correction M."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


def qr_image(data: str, module: int) -> Image.Image:
    """A 1-bit image of the code, ``module`` dots per module (white = 1, as in PIL)."""
    matrix = qr_matrix(data)
    side = len(matrix) * module
    image = Image.new("1", (side, side), 1)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image.paste(0, (x * module, y * module, (x + 1) * module, (y + 1) * module))
    return image


def qr_svg(data: str) -> dict[str, int | str]:
    """The code as one SVG path (one unit per module, quiet zone included), for a screen.

    ``{"size": modules per side, "path": "M…"}``: a page draws it in an ``<svg
    viewBox="0 0 size size">`` at any size, with no image to fetch and nothing inline to run.
    """
    matrix = qr_matrix(data)
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return {"size": len(matrix), "path": "".join(parts)}
