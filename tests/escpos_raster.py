"""Reading ESC/POS bytes back into what a printer would do: raster images and commands.

Only the commands xephang sends are known; anything else is an error, so a
test notices when the byte stream changes shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10
# ESC/POS raster: bit 1 = a printed (black) dot; PIL mode "1": bit 1 = white.
INVERT = bytes(255 - b for b in range(256))


@dataclass
class Printout:
    commands: list[str] = field(default_factory=list)
    rasters: list[Image.Image] = field(default_factory=list)
    densities: list[int] = field(default_factory=list)

    @property
    def image(self) -> Image.Image:
        """The raster images one under the other, as the paper comes out."""
        assert self.rasters, "no raster image in the bytes"
        width = self.rasters[0].width
        assert all(r.width == width for r in self.rasters), "raster widths differ"
        sheet = Image.new("1", (width, sum(r.height for r in self.rasters)), 1)
        top = 0
        for raster in self.rasters:
            sheet.paste(raster, (0, top))
            top += raster.height
        return sheet


def _raster(data: bytes, at: int, out: Printout) -> int:
    """GS v 0 m xL xH yL yH d1...dk: k = (xL + 256 xH) bytes per row times (yL + 256 yH) rows."""
    if at + 8 > len(data):
        raise ValueError(f"truncated GS v 0 header at {at}")
    m, xl, xh, yl, yh = data[at + 3 : at + 8]
    row_bytes, rows = xl + 256 * xh, yl + 256 * yh
    body = data[at + 8 : at + 8 + row_bytes * rows]
    if len(body) != row_bytes * rows:
        raise ValueError(f"GS v 0 at {at}: {len(body)} of {row_bytes * rows} data bytes")
    out.rasters.append(Image.frombytes("1", (row_bytes * 8, rows), body.translate(INVERT)))
    out.densities.append(m)
    out.commands.append("raster")
    return at + 8 + row_bytes * rows


def decode(data: bytes) -> Printout:
    """Walk the bytes command by command (init, status query, raster, feed, cut)."""
    out = Printout()
    at = 0
    while at < len(data):
        two = data[at : at + 2]
        if two == bytes([ESC, ord("@")]):
            out.commands.append("init")
            at += 2
        elif two == bytes([ESC, ord("d")]):
            out.commands.append(f"feed {data[at + 2]}")
            at += 3
        elif two == bytes([DLE, 0x04]):
            out.commands.append(f"status {data[at + 2]}")
            at += 3
        elif data[at : at + 3] == bytes([GS, ord("v"), ord("0")]):
            at = _raster(data, at, out)
        elif two == bytes([GS, ord("V")]):
            mode = data[at + 2]
            out.commands.append("cut")
            at += 4 if mode in (65, 66, 97, 98, 103, 104) else 3
        else:
            raise ValueError(f"unexpected byte {data[at]:#04x} at offset {at}")
    return out
