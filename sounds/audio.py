"""Audio in and out: every clip in the cache has one format, so clips join by concatenation.

The cache format is WAV, 16-bit signed PCM, mono, 24 kHz (the rate gTTS delivers, so its clips
are not resampled). Anything a voice or a recording gives (WAV of any rate, width, channel count,
integer or float; MP3 through an external decoder) is brought to that format once, when the
cache is built, never when a call is announced.

A clip is also trimmed to its speech (silence at both ends cut, a short pad kept, a few
milliseconds of fade against clicks) and its peak set to one level, so words from one voice
sound even when they are joined.
"""

from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import sys
import wave
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

RATE = 24_000
SAMPLE_WIDTH = 2
CHANNELS = 1
PEAK = 0.8
SILENCE_FRACTION = 0.04  # of the peak: quieter than this at either end counts as silence
PAD_SECONDS = 0.03
FADE_SECONDS = 0.005

_PCM = 0x0001
_FLOAT = 0x0003
_EXTENSIBLE = 0xFFFE


class AudioError(ValueError):
    """Audio that cannot be read, or a format this module does not handle."""


def is_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def mp3_decoder() -> str | None:
    """The MP3 decoder on this machine: mpg123 (Debian package mpg123) or ffmpeg."""
    for program in ("mpg123", "ffmpeg"):
        if shutil.which(program):
            return program
    return None


def decode_mp3(data: bytes) -> bytes:
    """MP3 bytes to WAV bytes, through mpg123 or ffmpeg."""
    program = mp3_decoder()
    if program is None:
        raise AudioError("decoding MP3 needs mpg123 or ffmpeg (apt-get install mpg123)")
    if program == "mpg123":
        command = ["mpg123", "-q", "-w", "-", "-"]
    else:
        command = ["ffmpeg", "-loglevel", "error", "-i", "pipe:0", "-f", "wav", "pipe:1"]
    done = subprocess.run(command, input=data, capture_output=True, timeout=60, check=False)
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise AudioError(f"{program} could not decode the MP3: {message}")
    return done.stdout


def read_wav(data: bytes) -> tuple[int, list[float]]:
    """(rate, mono samples in -1..1) of a RIFF WAV: PCM 8/16/24/32-bit or float, any channels.

    A data size the writer could not know (0 or too large, as streaming writers such as
    ``espeak-ng --stdout`` leave it) is read as "to the end of the file".
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a WAV file")
    fmt: tuple[int, int, int, int] | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body_start = pos + 8
        if chunk == b"fmt ":
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body_start)
            if tag == _EXTENSIBLE and size >= 26:
                tag = struct.unpack_from("<H", data, body_start + 24)[0]
            fmt = (tag, channels, rate, bits)
        elif chunk == b"data":
            if fmt is None:
                raise AudioError("WAV data before its format")
            if size == 0 or body_start + size > len(data):
                size = len(data) - body_start
            return fmt[2], _samples(data[body_start : body_start + size], *fmt)
        pos = body_start + size + (size & 1)
    raise AudioError("WAV file without data")


def _samples(raw: bytes, tag: int, channels: int, rate: int, bits: int) -> list[float]:
    if channels < 1 or rate < 1:
        raise AudioError(f"bad WAV format: {channels} channels at {rate} Hz")
    width = bits // 8
    raw = raw[: len(raw) - len(raw) % (width * channels)]
    values: Sequence[float]
    if tag == _FLOAT and bits in (32, 64):
        values = _typed(raw, "f" if bits == 32 else "d")
    elif tag == _PCM and bits == 8:
        values = [(b - 128) / 128 for b in raw]
    elif tag == _PCM and bits == 16:
        values = [v / 32768 for v in _typed(raw, "h")]
    elif tag == _PCM and bits == 24:
        values = [
            int.from_bytes(raw[i : i + 3], "little", signed=True) / 8_388_608
            for i in range(0, len(raw), 3)
        ]
    elif tag == _PCM and bits == 32:
        values = [v / 2_147_483_648 for v in _typed(raw, "i")]
    else:
        raise AudioError(f"WAV format {tag:#06x} with {bits}-bit samples is not supported")
    if channels == 1:
        return list(values)
    return [sum(values[i : i + channels]) / channels for i in range(0, len(values), channels)]


def _typed(raw: bytes, code: str) -> array[float] | array[int]:
    values: array[float] | array[int] = array(code)
    values.frombytes(raw)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def resample(samples: list[float], rate: int, target: int = RATE) -> list[float]:
    """Linear interpolation to ``target``; going down, a moving average first against aliasing."""
    if rate == target or not samples:
        return samples
    step = rate / target
    if step > 1:
        samples = _moving_average(samples, math.ceil(step))
    count = int(len(samples) / step)
    last = len(samples) - 1
    out = []
    for i in range(count):
        position = i * step
        j = int(position)
        fraction = position - j
        nxt = samples[j + 1] if j < last else samples[j]
        out.append(samples[j] + (nxt - samples[j]) * fraction)
    return out


def _moving_average(samples: list[float], width: int) -> list[float]:
    out = []
    total = 0.0
    for i, value in enumerate(samples):
        total += value
        if i >= width:
            total -= samples[i - width]
        out.append(total / min(i + 1, width))
    return out


def trim_and_level(samples: list[float], rate: int = RATE) -> list[float]:
    """The speech of a clip: set to the common peak, silence cut at both ends, short fades."""
    peak = max((abs(v) for v in samples), default=0.0)
    if peak < 1e-3:
        raise AudioError("the clip is silent")
    gain = PEAK / peak
    threshold = PEAK * SILENCE_FRACTION
    leveled = [v * gain for v in samples]
    loud = [i for i, v in enumerate(leveled) if abs(v) >= threshold]
    pad = int(PAD_SECONDS * rate)
    start, end = max(loud[0] - pad, 0), min(loud[-1] + pad + 1, len(leveled))
    clip = leveled[start:end]
    fade = min(int(FADE_SECONDS * rate), len(clip) // 2)
    for i in range(fade):
        clip[i] *= i / fade
        clip[-1 - i] *= i / fade
    return clip


def wav_bytes(samples: Iterable[float], rate: int = RATE) -> bytes:
    """16-bit mono WAV bytes of float samples (clipped to -1..1)."""
    pcm = array("h", (int(max(-1.0, min(1.0, v)) * 32767) for v in samples))
    if sys.byteorder == "big":
        pcm.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def prepare_clip(data: bytes) -> bytes:
    """Any WAV or MP3 a voice or a recording gives, as a cache clip (see the module rule)."""
    if is_mp3(data):
        data = decode_mp3(data)
    rate, samples = read_wav(data)
    return wav_bytes(trim_and_level(resample(samples, rate)))


def silence(seconds: float) -> bytes:
    """Raw frames of silence in the cache format."""
    return b"\x00\x00" * int(seconds * RATE)


def cache_frames(path: Path) -> bytes:
    """The raw frames of a cache clip; a clip in another format is converted on the way."""
    with wave.open(str(path), "rb") as clip:
        if (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (
            CHANNELS,
            SAMPLE_WIDTH,
            RATE,
        ):
            return clip.readframes(clip.getnframes())
    rate, samples = read_wav(path.read_bytes())
    with wave.open(io.BytesIO(wav_bytes(resample(samples, rate))), "rb") as clip:
        return clip.readframes(clip.getnframes())


def join_wav(parts: Sequence[tuple[Path, float]]) -> bytes:
    """One WAV of the given clips in order, each followed by its pause in seconds."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(RATE)
        for path, pause in parts:
            out.writeframes(cache_frames(path))
            if pause > 0:
                out.writeframes(silence(pause))
    return buffer.getvalue()


def duration(data: bytes) -> float:
    """Seconds of audio in WAV bytes."""
    rate, samples = read_wav(data)
    return len(samples) / rate
