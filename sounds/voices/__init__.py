"""Voices: what turns a clip's text into audio, each filling its own folder of the cache.

- ``pack``: a folder of human recordings, one file per clip; wins over both others.
- ``gtts``: Google Translate's Vietnamese voice; online, so only used ahead of time.
- ``espeak``: espeak-ng's Vietnamese voice; offline, so a site without internet still speaks.

A voice renders the text of one clip to WAV or MP3 bytes (``None``: it has no such clip);
the cache brings them to its one format.
"""

from __future__ import annotations

from typing import Protocol


class VoiceError(RuntimeError):
    """A voice could not render a clip (no network, no program, a bad recording)."""


class Voice(Protocol):
    name: str  # the cache folder it fills
    offline: bool  # True: may render while a call waits (no network, quick)

    def render(self, text: str) -> bytes | None: ...


def voice_from_spec(spec: str) -> Voice:
    """The voice a command line names: ``gtts``, ``espeak`` or ``pack:PATH``."""
    # Here, not at the top: each voice module imports VoiceError from this package, and
    # gTTS (with requests) loads only when that voice is asked for.
    if spec == "gtts":
        from .gtts import GttsVoice

        return GttsVoice()
    if spec == "espeak":
        from .espeak import EspeakVoice

        return EspeakVoice()
    if spec.startswith("pack:") and spec[5:]:
        from .pack import PackVoice

        return PackVoice(spec[5:])
    raise ValueError(f"unknown voice {spec!r}: use gtts, espeak or pack:PATH")
