"""espeak-ng, the offline voice, making real audio (required under CI=true)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sounds.audio import RATE, duration, prepare_clip, read_wav
from sounds.build import build_voice
from sounds.cache import SoundCache
from sounds.compose import announcement_ready
from sounds.status import SoundStatus
from sounds.voices.espeak import EspeakVoice

from ..sounds_support import require_program


@pytest.fixture(autouse=True)
def _espeak() -> None:
    require_program("espeak-ng", "espeak-ng")


def _rms(samples: list[float]) -> float:
    return math.sqrt(sum(v * v for v in samples) / len(samples))


def test_says_a_number_word_as_real_speech() -> None:
    raw = EspeakVoice().render("mười lăm")
    assert raw[:4] == b"RIFF"
    clip = prepare_clip(raw)
    rate, samples = read_wav(clip)
    assert rate == RATE
    assert 0.3 < duration(clip) < 2.0
    assert _rms(samples) > 0.05  # speech, not silence


def test_a_longer_text_lasts_longer() -> None:
    short = duration(prepare_clip(EspeakVoice().render("một")))
    long = duration(prepare_clip(EspeakVoice().render("mời công dân có số thứ tự")))
    assert long > 2 * short


def test_build_and_announce_offline(tmp_path: Path) -> None:
    cache = SoundCache(tmp_path)
    keys = ["mời công dân có số thứ tự", "a", "bảy", "đến quầy số", "hai"]
    report = build_voice(cache, EspeakVoice(), keys)
    assert report.made == keys and not report.missing
    announcement = announcement_ready("A007", 2, sounds_dir=tmp_path)
    assert announcement.voice == "espeak" and not announcement.missing
    assert announcement.joined is not None
    assert duration(announcement.joined.read_bytes()) > 2.0


def test_an_empty_cache_is_filled_on_the_spot(tmp_path: Path) -> None:
    from sounds.compose import compose

    announcement = compose(
        "B12", 3, cache=SoundCache(tmp_path), offline_voice=EspeakVoice(), status=SoundStatus()
    )
    assert announcement.voice == "espeak" and not announcement.fallback
    assert [c.key for c in announcement.clips] == [
        "mời công dân có số thứ tự",
        "bê",
        "mười",
        "hai",
        "đến quầy số",
        "ba",
    ]
