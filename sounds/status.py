"""What the admin page shows about the voice: the cache, and how the last calls were said.

Every composed announcement is recorded here. A fallback (a voice earlier in the order passed
over, clips said by several voices, clips left out) is logged as a warning when it differs from
the previous announcement's, so a missing clip is reported once, not on every call, and the
return to the first voice is logged too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .announce import DEFAULT_TEMPLATE, vocabulary
from .audio import mp3_decoder
from .cache import VOICE_ORDER, SoundCache
from .voices.espeak import espeak_available

if TYPE_CHECKING:
    from .compose import Announcement

log = logging.getLogger(__name__)


class SoundStatus:
    """The outcome of the announcements made in this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, Any] | None = None
        self._last_outcome: tuple[Any, ...] | None = None
        self.announcements = 0
        self.fallbacks = 0

    def record(self, announcement: Announcement) -> None:
        outcome = (announcement.voice, announcement.passed_over, announcement.missing)
        with self._lock:
            self.announcements += 1
            self.fallbacks += announcement.fallback
            changed = outcome != self._last_outcome
            self._last_outcome = outcome
            self._last = {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "text": announcement.text,
                "voice": announcement.voice,
                "fallback": announcement.fallback,
                "passed_over": {name: list(keys) for name, keys in announcement.passed_over},
                "missing": list(announcement.missing),
            }
        if changed:
            _log_outcome(announcement)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "announcements": self.announcements,
                "fallbacks": self.fallbacks,
                "last": dict(self._last) if self._last else None,
            }


def _log_outcome(announcement: Announcement) -> None:
    if not announcement.fallback:
        log.info("announcements are said by the voice %s", announcement.voice or "-")
        return
    lacking = "; ".join(
        f"{name} lacks {', '.join(repr(k) for k in keys)}"
        for name, keys in announcement.passed_over
    )
    if announcement.missing or announcement.voice == "mixed":
        log.warning(
            "no voice has every clip of %r (%s): each clip from the first voice that has it%s",
            announcement.text,
            lacking,
            f", left out: {', '.join(repr(k) for k in announcement.missing)}"
            if announcement.missing
            else "",
        )
    else:
        log.warning("voice %s; falling back to %s", lacking, announcement.voice)


STATUS = SoundStatus()


def sound_status(
    cache: SoundCache,
    *,
    templates: Iterable[str] = (DEFAULT_TEMPLATE,),
    order: Sequence[str] = VOICE_ORDER,
    recorder: SoundStatus = STATUS,
) -> dict[str, Any]:
    """The voice's state for the admin page and ``xephang sounds status``.

    ``voice`` is the first voice of the order that has every clip the templates need (the one
    that will speak), ``voices`` tells per voice how many clips it has and which it lacks.
    """
    keys = vocabulary(templates)
    voices: dict[str, Any] = {}
    for name in order:
        lacking = [k for k in keys if not cache.has(name, k)]
        voices[name] = {
            "clips": len(keys) - len(lacking),
            "needed": len(keys),
            "missing": lacking,
        }
    complete = [name for name in order if not voices[name]["missing"]]
    return {
        "dir": str(cache.root),
        "voice": complete[0] if complete else None,
        "voices": voices,
        "chime": cache.chime_path.is_file(),
        "espeak_ng": espeak_available(),
        "mp3_decoder": mp3_decoder(),
        **recorder.snapshot(),
    }
