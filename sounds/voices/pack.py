"""A recorded clip pack: a folder of human-voice recordings, one file per clip.

Naming scheme (what a vendor records): each file is named by the text of its clip, as the
announcement says it, with ``.wav`` (any rate, bit depth, channels) or ``.mp3``:

    mời công dân có số thứ tự.wav   đến quầy số.wav
    không.wav  một.wav  mốt.wav  ...  mười.wav  mươi.wav  lăm.wav  tư.wav  trăm.wav  linh.wav
    nghìn.wav  a.wav  bê.wav  xê.wav  ...  e lờ.wav
    chime.wav (or chuông.wav)       optional: the pack's own chime

Case, Unicode normalisation (NFC or NFD) and "_" for a space do not matter. Where file names
cannot carry Vietnamese letters, the ASCII clip id works too (``muoi-<8 hex>.wav``);
``xephang sounds clips`` lists every clip with both names. Subfolders are searched as well.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..clips import clip_id, clip_key

EXTENSIONS = (".wav", ".mp3")
CHIME_NAMES = ("chime", "chuông")


class PackVoice:
    """The recordings of one folder, found by the naming scheme above."""

    name = "pack"
    offline = True

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._files: dict[str, Path] | None = None

    @property
    def files(self) -> dict[str, Path]:
        """Each recording by its clip key (and by its ASCII clip id)."""
        if self._files is None:
            if not self.folder.is_dir():
                raise FileNotFoundError(f"no clip pack folder at {self.folder}")
            found: dict[str, Path] = {}
            for path in sorted(self.folder.rglob("*")):
                if path.suffix.lower() in EXTENSIONS and path.is_file():
                    found.setdefault(clip_key(path.stem.replace("_", " ")), path)
            self._files = found
        return self._files

    def find(self, text: str) -> Path | None:
        key = clip_key(text)
        return self.files.get(key) or self.files.get(clip_id(key))

    def render(self, text: str) -> bytes | None:
        path = self.find(text)
        return path.read_bytes() if path else None

    def chime(self) -> bytes | None:
        for name in CHIME_NAMES:
            path = self.files.get(name)
            if path:
                return path.read_bytes()
        return None


def pack_file_name(key: str) -> str:
    """The name a recording of this clip gets in a pack."""
    return f"{clip_key(key)}.wav"
