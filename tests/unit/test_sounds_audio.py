"""The cache format: reading any WAV, resampling, trimming, the chime, clip names, the cache."""

from __future__ import annotations

import io
import struct
import unicodedata
import wave
from array import array
from pathlib import Path

import pytest

from sounds.announce import vocabulary
from sounds.audio import (
    RATE,
    AudioError,
    duration,
    is_mp3,
    join_wav,
    prepare_clip,
    read_wav,
    resample,
    wav_bytes,
)
from sounds.cache import SoundCache, default_sounds_dir
from sounds.chime import chime_wav
from sounds.clips import clip_id, clip_key
from sounds.vietnamese import LETTER_NAMES

from ..sounds_support import tone_wav


def _format(data: bytes) -> tuple[int, int, int]:
    with wave.open(io.BytesIO(data), "rb") as clip:
        return clip.getnchannels(), clip.getsampwidth(), clip.getframerate()


@pytest.mark.parametrize(
    ("rate", "channels", "width"),
    [(24_000, 1, 2), (22_050, 1, 2), (44_100, 2, 2), (48_000, 2, 3), (8_000, 1, 1), (16_000, 1, 4)],
)
def test_any_pcm_wav_becomes_the_cache_format(rate: int, channels: int, width: int) -> None:
    clip = prepare_clip(tone_wav(0.5, 440, rate=rate, channels=channels, width=width))
    assert _format(clip) == (1, 2, RATE)
    assert 0.5 <= duration(clip) <= 0.5 + 0.07  # the tone and its short pads


def _float_wav(samples: list[float], rate: int, extensible: bool) -> bytes:
    data = array("f", samples).tobytes()
    if extensible:
        guid = struct.pack("<H", 3) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, rate, rate * 4, 4, 32, 22, 32, 4) + guid
    else:
        fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("extensible", [False, True])
def test_float_and_extensible_wav(extensible: bool) -> None:
    rate, samples = read_wav(_float_wav([0.0, 0.5, -0.5, 0.25], 48_000, extensible))
    assert rate == 48_000
    assert samples == [0.0, 0.5, -0.5, 0.25]


def test_streamed_wav_without_a_data_size() -> None:
    data = bytearray(wav_bytes([0.5] * 100))
    data[40:44] = b"\x00\x00\x00\x00"  # as a streaming writer leaves it
    assert len(read_wav(bytes(data))[1]) == 100
    data[40:44] = b"\xff\xff\xff\x7f"
    assert len(read_wav(bytes(data))[1]) == 100


def test_not_audio() -> None:
    with pytest.raises(AudioError):
        read_wav(b"hello, this is not a wav file")
    with pytest.raises(AudioError, match="silent"):
        prepare_clip(wav_bytes([0.0] * 2400))


def test_silence_is_trimmed_to_a_short_pad() -> None:
    clip = prepare_clip(tone_wav(0.2, 440, lead=1.0))
    assert 0.2 <= duration(clip) <= 0.27


def test_level_is_the_same_for_loud_and_quiet_clips() -> None:
    def peak(data: bytes) -> float:
        return max(abs(v) for v in read_wav(data)[1])

    quiet = wav_bytes(v * 0.05 for v in read_wav(tone_wav(0.2))[1])
    assert peak(prepare_clip(quiet)) == pytest.approx(peak(prepare_clip(tone_wav(0.2))), rel=0.01)


def test_resample_keeps_the_length_in_seconds() -> None:
    assert len(resample([0.1] * 22_050, 22_050)) == RATE
    assert len(resample([0.1] * 48_000, 48_000)) == RATE
    assert resample([0.1] * 10, RATE) == [0.1] * 10


def test_mp3_is_recognised() -> None:
    assert is_mp3(b"ID3\x04rest")
    assert is_mp3(b"\xff\xf3\x44\xc4")
    assert not is_mp3(tone_wav(0.01))


def test_join_puts_clips_and_pauses_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    first.write_bytes(wav_bytes([0.5] * 2400))  # 0.1 s
    second.write_bytes(tone_wav(0.2, rate=48_000))  # another format: converted on the way
    joined = join_wav([(first, 0.25), (second, 0.0)])
    assert _format(joined) == (1, 2, RATE)
    samples = read_wav(joined)[1]
    assert len(samples) == pytest.approx(RATE * 0.55, abs=2)
    assert samples[0] == pytest.approx(0.5, abs=1e-3)
    assert samples[2400:8400] == [0.0] * 6000


def test_chime_is_two_tones_in_the_cache_format() -> None:
    chime = chime_wav()
    assert _format(chime) == (1, 2, RATE)
    assert 1.0 <= duration(chime) <= 2.0
    samples = read_wav(chime)[1]
    # the second note starts loud again after the first has decayed
    before = max(abs(v) for v in samples[int(0.50 * RATE) : int(0.55 * RATE)])
    after = max(abs(v) for v in samples[int(0.56 * RATE) : int(0.60 * RATE)])
    assert after > 2 * before


def test_clip_keys_are_canonical() -> None:
    assert clip_key("  Mời công dân,\n có số  thứ tự: ") == "mời công dân, có số thứ tự"
    decomposed = unicodedata.normalize("NFD", "Mười")  # as macOS names files
    assert decomposed != "Mười" and clip_key(decomposed) == "mười"


def test_clip_ids_are_ascii_and_unique() -> None:
    keys = vocabulary()
    ids = [clip_id(k) for k in keys]
    assert len(set(ids)) == len(keys)
    assert all(i.isascii() and "/" not in i for i in ids)
    assert clip_id("mười") != clip_id("mươi")
    assert clip_id("mười").startswith("muoi-")
    assert clip_id(LETTER_NAMES["Đ"]).startswith("de-")


def test_store_is_atomic_and_readable(tmp_path: Path) -> None:
    cache = SoundCache(tmp_path)
    path = cache.store("espeak", "Mười", wav_bytes([0.1] * 10))
    assert cache.has("espeak", "mười")
    assert path.stat().st_mode & 0o044 == 0o044
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert cache.clip_count("espeak") == 1 and cache.clip_count("gtts") == 0


def test_resolve_stays_inside_the_cache(tmp_path: Path) -> None:
    cache = SoundCache(tmp_path / "sounds")
    path = cache.store("espeak", "mười", wav_bytes([0.1] * 10))
    assert cache.resolve(cache.relative(path)) == path.resolve()
    (tmp_path / "secret.wav").write_bytes(b"x")
    for bad in ("../secret.wav", "/etc/passwd", "espeak/../../secret.wav"):
        with pytest.raises(FileNotFoundError):
            cache.resolve(bad)


def test_sounds_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XEPHANG_SOUNDS_DIR", raising=False)
    assert default_sounds_dir(tmp_path) == tmp_path / "sounds"
    with pytest.raises(ValueError):
        default_sounds_dir()
    monkeypatch.setenv("XEPHANG_SOUNDS_DIR", str(tmp_path / "elsewhere"))
    assert default_sounds_dir(tmp_path) == tmp_path / "elsewhere"
