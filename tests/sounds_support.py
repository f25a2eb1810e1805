"""Helpers of the sound tests: required programs, synthetic clips."""

from __future__ import annotations

import io
import math
import shutil
import struct
import wave
from collections.abc import Iterable
from pathlib import Path

import pytest

from sounds.audio import RATE, prepare_clip
from sounds.cache import SoundCache

from .services import CI

DATA = Path(__file__).parent / "data"


def require_program(name: str, package: str) -> None:
    """Skip when a program is missing, except under CI=true, where that is a failure."""
    if shutil.which(name):
        return
    message = f"{name} is not installed (apt-get install {package})"
    if CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def tone_wav(
    seconds: float = 0.3,
    frequency: float = 440.0,
    *,
    rate: int = RATE,
    channels: int = 1,
    width: int = 2,
    lead: float = 0.0,
) -> bytes:
    """A sine tone as WAV bytes (``lead`` seconds of silence first), any rate, width, channels."""
    frames = bytearray()
    for i in range(int((lead + seconds) * rate)):
        t = i / rate
        value = 0.0 if t < lead else 0.5 * math.sin(2 * math.pi * frequency * t)
        for _ in range(channels):
            if width == 1:
                frames += bytes([int(128 + value * 127)])
            elif width == 2:
                frames += struct.pack("<h", int(value * 32767))
            else:
                frames += int(value * (2 ** (8 * width - 1) - 1)).to_bytes(
                    width, "little", signed=True
                )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def fill(cache: SoundCache, voice: str, keys: Iterable[str], frequency: float = 440.0) -> None:
    """Put a short tone in the cache as the clip of each key, as if the voice had said it."""
    clip = prepare_clip(tone_wav(0.1, frequency))
    for key in keys:
        cache.store(voice, key, clip)
