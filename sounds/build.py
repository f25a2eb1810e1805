"""Filling the cache: each clip of a vocabulary rendered once by a voice and stored.

A clip already in the voice's folder is kept (``force`` makes it again). A clip the voice cannot
make is reported as missing with the reason, and the build goes on; for the online voice, after
``give_up_after`` failures in a row (no network) the rest is reported missing without trying.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .audio import AudioError, prepare_clip
from .cache import SoundCache, write_atomic
from .chime import chime_wav
from .clips import clip_key
from .voices import Voice, VoiceError
from .voices.pack import PackVoice

log = logging.getLogger(__name__)

NO_RECORDING = "không có bản ghi"


@dataclass
class BuildReport:
    """What a build did: clips made, clips already there, clips missing with the reason."""

    voice: str
    made: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


def build_voice(
    cache: SoundCache,
    voice: Voice,
    keys: Iterable[str],
    *,
    force: bool = False,
    give_up_after: int = 2,
    on_clip: Callable[[str], None] | None = None,
) -> BuildReport:
    """Render every clip of ``keys`` missing from the voice's folder (see the module rule)."""
    report = BuildReport(voice.name)
    failures = 0
    for key in dict.fromkeys(clip_key(k) for k in keys):
        if failures >= give_up_after:
            report.missing[key] = f"bỏ qua sau {failures} lỗi liên tiếp"
        elif not force and cache.has(voice.name, key):
            report.kept.append(key)
        else:
            reason = make_clip(cache, voice, key)
            if reason is None:
                report.made.append(key)
                failures = 0
            elif reason == NO_RECORDING:
                report.missing[key] = reason
            else:
                log.warning("voice %s could not make the clip %r: %s", voice.name, key, reason)
                report.missing[key] = reason
                failures += not voice.offline
        if on_clip:
            on_clip(key)
    ensure_chime(cache, voice.chime() if isinstance(voice, PackVoice) else None)
    return report


def make_clip(cache: SoundCache, voice: Voice, key: str) -> str | None:
    """Render and store one clip; the reason it is missing, or None when it was made."""
    try:
        data = voice.render(key)
        if data is None:
            return NO_RECORDING
        cache.store(voice.name, key, prepare_clip(data))
    except (VoiceError, AudioError, OSError) as err:
        return str(err)
    return None


def ensure_chime(cache: SoundCache, recorded: bytes | None = None) -> None:
    """The chime in the cache: the given recording, else the generated one if none is there."""
    if recorded is not None:
        write_atomic(cache.chime_path, prepare_clip(recorded))
    elif not cache.chime_path.is_file():
        write_atomic(cache.chime_path, chime_wav())
