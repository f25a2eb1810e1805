"""Composing a call's announcement from cached clips, with the voice fallback.

Fallback is decided per announcement, so one sentence is never said by two voices: the first
voice of the order (pack, gtts, espeak) whose folder has every clip of the announcement says
all of it. When none has them all, the offline voice (espeak-ng) renders what it lacks on the
spot (no network, tens of milliseconds a clip) and says all of it. Only when that fails too is
each clip taken from the first voice that has it, and a clip no voice has is left out (the
number is still on the screen). Each outcome is logged and kept for the admin status
(``sounds.status``).

With a warm cache composing is a few file look-ups and, for the joined file, one small write:
no network, milliseconds.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .announce import DEFAULT_TEMPLATE, announcement_text, spoken
from .audio import join_wav
from .build import ensure_chime, make_clip
from .cache import VOICE_ORDER, SoundCache, write_atomic
from .status import STATUS, SoundStatus
from .vietnamese import ReadingOptions
from .voices import Voice
from .voices.espeak import EspeakVoice

PAUSE_AFTER_CHIME = 0.4  # seconds
PAUSE_AFTER_GROUP = 0.2  # after a phrase or a whole number
PAUSE_AFTER_WORD = 0.05  # between the words of one number
MIXED = "mixed"
# Joined files kept (a call is a few hundred kB); the oldest go once there are PRUNE_SLACK more.
KEEP_JOINED = 200
PRUNE_SLACK = 50


@dataclass(frozen=True)
class Clip:
    key: str
    voice: str
    path: Path
    pause: float  # seconds of silence after it


@dataclass(frozen=True)
class Announcement:
    """A call's announcement, ready to play: the chime, then its clips in order.

    ``voice`` is the voice that says it (``"mixed"`` when no one voice could, ``""`` when no
    clip was found); ``passed_over`` names each voice earlier in the order that was there but
    lacked clips, with the clips it lacked; ``missing`` are clips no voice had (left out).
    """

    text: str
    clips: tuple[Clip, ...]
    chime: Path | None
    voice: str
    passed_over: tuple[tuple[str, tuple[str, ...]], ...] = ()
    missing: tuple[str, ...] = ()
    joined: Path | None = None

    @property
    def fallback(self) -> bool:
        return bool(self.passed_over or self.missing) or self.voice == MIXED

    def parts(self) -> list[tuple[Path, float]]:
        """Each file with the pause after it, chime first."""
        head = [(self.chime, PAUSE_AFTER_CHIME)] if self.chime else []
        return head + [(clip.path, clip.pause) for clip in self.clips]

    def files(self) -> list[Path]:
        return [path for path, _ in self.parts()]


def compose(
    number: str,
    counter: str | int,
    *,
    cache: SoundCache,
    template: str = DEFAULT_TEMPLATE,
    options: ReadingOptions | None = None,
    order: Sequence[str] = VOICE_ORDER,
    chime: bool = True,
    offline_voice: Voice | None = None,
    joined: bool = False,
    status: SoundStatus = STATUS,
) -> Announcement:
    """The announcement of ticket ``number`` at ``counter`` from the cache (see the module rule).

    ``joined`` also writes the whole announcement as one WAV (kept under ``joined/``).
    """
    items = spoken(number, counter, template, options)
    keys = list(dict.fromkeys(item.key for item in items))
    voice, paths, passed_over, missing = _choose(cache, keys, order, offline_voice)
    clips = tuple(
        Clip(item.key, paths[item.key][0], paths[item.key][1], _pause(item.ends_group))
        for item in items
        if item.key in paths
    )
    if chime:
        ensure_chime(cache)
    announcement = Announcement(
        text=announcement_text(number, counter, template, options),
        clips=clips,
        chime=cache.chime_path if chime else None,
        voice=voice,
        passed_over=passed_over,
        missing=tuple(missing),
    )
    if joined:
        announcement = replace(announcement, joined=join(announcement, cache))
    status.record(announcement)
    return announcement


def _pause(ends_group: bool) -> float:
    return PAUSE_AFTER_GROUP if ends_group else PAUSE_AFTER_WORD


def _choose(
    cache: SoundCache, keys: list[str], order: Sequence[str], offline_voice: Voice | None
) -> tuple[str, dict[str, tuple[str, Path]], tuple[tuple[str, tuple[str, ...]], ...], list[str]]:
    passed_over: list[tuple[str, tuple[str, ...]]] = []
    for name in order:
        lacking = tuple(k for k in keys if not cache.has(name, k))
        if not lacking:
            return name, _paths(cache, name, keys), tuple(passed_over), []
        if (cache.root / name).is_dir():
            passed_over.append((name, lacking))
    if offline_voice is not None and offline_voice.offline and offline_voice.name in order:
        name = offline_voice.name
        # The first failure (espeak-ng not installed, say) ends the attempt for this call.
        gaps = [k for k in keys if not cache.has(name, k)]
        if all(make_clip(cache, offline_voice, key) is None for key in gaps):
            skipped = tuple(p for p in passed_over if p[0] != name)
            return name, _paths(cache, name, keys), skipped, []
    found: dict[str, tuple[str, Path]] = {}
    for key in keys:
        for name in order:
            if cache.has(name, key):
                found[key] = (name, cache.clip_path(name, key))
                break
    missing = [k for k in keys if k not in found]
    voices = {name for name, _ in found.values()}
    voice = "" if not voices else voices.pop() if len(voices) == 1 else MIXED
    return voice, found, tuple(passed_over), missing


def _paths(cache: SoundCache, voice: str, keys: list[str]) -> dict[str, tuple[str, Path]]:
    return {key: (voice, cache.clip_path(voice, key)) for key in keys}


def join(announcement: Announcement, cache: SoundCache) -> Path:
    """The announcement as one WAV under ``joined/``, named by its files and their versions.

    A file made before is reused; only the newest ``KEEP_JOINED`` are kept.
    """
    digest = hashlib.sha1()
    for path, pause in announcement.parts():
        stat = path.stat()
        line = f"{cache.relative(path)}|{stat.st_mtime_ns}|{stat.st_size}|{pause}\n"
        digest.update(line.encode())
    target = cache.joined_path(digest.hexdigest())
    if target.is_file():
        os.utime(target)  # recently used: kept by the pruning
        return target
    write_atomic(target, join_wav(announcement.parts()))
    prune_joined(cache)
    return target


def prune_joined(cache: SoundCache, keep: int = KEEP_JOINED, slack: int = PRUNE_SLACK) -> None:
    """Delete the least recently used joined files once there are ``keep + slack``."""
    folder = cache.joined_path("x").parent
    entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    if len(entries) < keep + slack:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for entry in entries[: len(entries) - keep]:
        Path(entry.path).unlink(missing_ok=True)


def announcement_ready(
    number: str,
    counter: str | int,
    *,
    sounds_dir: str | Path,
    template: str = DEFAULT_TEMPLATE,
    options: ReadingOptions | None = None,
) -> Announcement:
    """A call's announcement composed and joined into one WAV, ready to play.

    This is what the benchmark times ("call-next to audio ready, warm cache, offline"): it reads
    only the cache (espeak-ng, offline, fills a gap) and never touches the network.
    """
    return compose(
        number,
        counter,
        cache=SoundCache(sounds_dir),
        template=template,
        options=options,
        offline_voice=EspeakVoice(),
        joined=True,
    )
