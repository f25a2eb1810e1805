"""The clip cache on disk: one folder per voice, one WAV per clip, all in one format.

Layout under the sounds folder::

    chime.wav                 the chime (generated, or the clip pack's own)
    pack/<clip id>.wav        a recorded clip pack, brought to the cache format
    gtts/<clip id>.wav        Google Translate's voice, made ahead of time
    espeak/<clip id>.wav      espeak-ng's voice, made ahead of time or on demand (offline)
    joined/<sha1>.wav         whole announcements, joined on demand and kept

The sounds folder is, first found: the folder given in code or on the command line, the
``XEPHANG_SOUNDS_DIR`` environment variable, ``sounds/`` in the Flask instance folder.
A file is written under a temporary name and renamed, so a reader never sees half a clip.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .clips import clip_id, clip_key

VOICE_ORDER = ("pack", "gtts", "espeak")
ENV_VAR = "XEPHANG_SOUNDS_DIR"


def default_sounds_dir(instance_path: str | os.PathLike[str] | None = None) -> Path:
    """``XEPHANG_SOUNDS_DIR`` if set, else ``sounds/`` in the instance folder given."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    if instance_path is None:
        raise ValueError(f"no sounds folder: set {ENV_VAR} or give the instance folder")
    return Path(instance_path) / "sounds"


class SoundCache:
    """The clips of every voice under one folder (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def clip_path(self, voice: str, key: str) -> Path:
        return self.root / voice / f"{clip_id(clip_key(key))}.wav"

    def has(self, voice: str, key: str) -> bool:
        return self.clip_path(voice, key).is_file()

    def store(self, voice: str, key: str, wav: bytes) -> Path:
        path = self.clip_path(voice, key)
        write_atomic(path, wav)
        return path

    @property
    def chime_path(self) -> Path:
        return self.root / "chime.wav"

    def joined_path(self, digest: str) -> Path:
        return self.root / "joined" / f"{digest}.wav"

    def clip_count(self, voice: str) -> int:
        folder = self.root / voice
        if not folder.is_dir():
            return 0
        return sum(
            1 for e in os.scandir(folder) if e.name.endswith(".wav") and not e.name.startswith(".")
        )

    def relative(self, path: Path) -> str:
        """A cache file's path relative to the root, with "/": what a URL under /sounds/ ends in."""
        return path.relative_to(self.root).as_posix()

    def resolve(self, relative: str) -> Path:
        """The file a relative path names, refusing any path that leaves the cache folder."""
        root = self.root.resolve()
        path = (root / relative).resolve()
        if root not in path.parents or path.suffix != ".wav":
            raise FileNotFoundError(relative)
        return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wav")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; the web server may be another user
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
