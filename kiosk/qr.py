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
