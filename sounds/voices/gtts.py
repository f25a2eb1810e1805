"""Google Translate's Vietnamese voice through gTTS: online, so only ever used ahead of time.

It fills the cache from ``xephang sounds build``; nothing on the path of a call imports this
module. Requests are throttled (at least ``min_interval`` seconds apart, so a build of a few
dozen clips does not get the address blocked) and retried with a doubling back-off. gTTS gives
MP3, which the cache decodes once (``sounds.audio.decode_mp3``).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable

import requests
from gtts import gTTS, gTTSError

from . import VoiceError

log = logging.getLogger(__name__)


class GttsVoice:
    """gTTS, language ``vi``, throttled and retried."""

    name = "gtts"
    offline = False

    def __init__(
        self,
        *,
        language: str = "vi",
        tld: str = "com",
        min_interval: float = 1.0,
        attempts: int = 4,
        backoff: float = 2.0,
        timeout: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.language = language
        self.tld = tld
        self.min_interval = min_interval
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None

    def render(self, text: str) -> bytes:
        """MP3 bytes of ``text``; :class:`VoiceError` once every attempt has failed."""
        error: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                delay = self.backoff * 2 ** (attempt - 1)
                log.info("gTTS failed for %r (%s); retrying in %.1f s", text, error, delay)
                self._sleep(delay)
            self._throttle()
            try:
                buffer = io.BytesIO()
                gTTS(text, lang=self.language, tld=self.tld, timeout=self.timeout).write_to_fp(
                    buffer
                )
            except (gTTSError, requests.RequestException) as err:
                error = err
                continue
            if buffer.getvalue():
                return buffer.getvalue()
            error = VoiceError("empty answer")
        raise VoiceError(f"gTTS could not say {text!r} after {self.attempts} attempts: {error}")

    def _throttle(self) -> None:
        now = self._clock()
        if self._last_request is not None:
            wait = self._last_request + self.min_interval - now
            if wait > 0:
                self._sleep(wait)
                now += wait
        self._last_request = now
