"""The chime before each call: a synthesized two-tone "ding-dong" in the cache format.

Two bell-like notes, E5 then C5 (a falling major third, the classic hall chime), each the
fundamental with two softer harmonics, a 5 ms attack and an exponential decay. It is made once
into the cache; a recorded clip pack may bring its own (see ``sounds.voices.pack``).
"""

from __future__ import annotations

import math

from .audio import PEAK, RATE, wav_bytes

NOTES = ((659.25, 0.0), (523.25, 0.55))  # (frequency in Hz, start in seconds)
PARTIALS = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12))  # (multiple of the note, amplitude)
LENGTH = 1.6
DECAY = 0.35
ATTACK = 0.005


def chime_samples(rate: int = RATE) -> list[float]:
    """The chime as float samples at ``rate``."""
    samples = [0.0] * int(LENGTH * rate)
    for frequency, start in NOTES:
        first = int(start * rate)
        for i in range(len(samples) - first):
            t = i / rate
            envelope = min(t / ATTACK, 1.0) * math.exp(-t / DECAY)
            phase = 2 * math.pi * frequency * t
            samples[first + i] += envelope * sum(
                amplitude * math.sin(multiple * phase) for multiple, amplitude in PARTIALS
            )
    peak = max(abs(v) for v in samples)
    return [v * PEAK / peak for v in samples]


def chime_wav() -> bytes:
    """The chime as a cache WAV."""
    return wav_bytes(chime_samples())
