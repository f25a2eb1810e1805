"""Composing announcements from the cache: order, fallback per announcement, joined WAV, status."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sounds.announce import spoken, vocabulary
from sounds.audio import RATE, read_wav
from sounds.cache import SoundCache
from sounds.compose import (
    PAUSE_AFTER_CHIME,
    PAUSE_AFTER_GROUP,
    PAUSE_AFTER_WORD,
    announcement_ready,
    compose,
    prune_joined,
)
from sounds.status import SoundStatus, sound_status
from sounds.voices import VoiceError

from ..sounds_support import fill, tone_wav

KEYS = [s.key for s in spoken("A015", 3)]  # phrase, a, mười, lăm, phrase, ba


class ToneVoice:
    """An offline voice that says every clip as a tone and remembers what it was asked."""

    name = "espeak"
    offline = True

    def __init__(self, fail: bool = False) -> None:
        self.said: list[str] = []
        self.fail = fail

    def render(self, text: str) -> bytes:
        self.said.append(text)
        if self.fail:
            raise VoiceError("espeak-ng is not installed")
        return tone_wav(0.1, 300)


@pytest.fixture
def cache(tmp_path: Path) -> SoundCache:
    return SoundCache(tmp_path / "sounds")


@pytest.fixture
def status() -> SoundStatus:
    return SoundStatus()


def _voices(announcement: object) -> list[str]:
    return [clip.voice for clip in announcement.clips]  # type: ignore[attr-defined]


def test_a_complete_pack_wins(cache: SoundCache, status: SoundStatus) -> None:
    for voice in ("pack", "gtts", "espeak"):
        fill(cache, voice, KEYS)
    announcement = compose("A015", 3, cache=cache, status=status)
    assert announcement.voice == "pack" and _voices(announcement) == ["pack"] * 6
    assert not announcement.fallback and not announcement.passed_over
    assert [c.key for c in announcement.clips] == KEYS
    assert announcement.text == "Mời công dân có số thứ tự a mười lăm đến quầy số ba"


def test_one_missing_clip_moves_the_whole_announcement_to_the_next_voice(
    cache: SoundCache, status: SoundStatus, caplog: pytest.LogCaptureFixture
) -> None:
    fill(cache, "pack", [k for k in KEYS if k != "lăm"])
    fill(cache, "gtts", KEYS)
    fill(cache, "espeak", KEYS)
    with caplog.at_level(logging.WARNING, logger="sounds"):
        announcement = compose("A015", 3, cache=cache, status=status)
    assert announcement.voice == "gtts" and _voices(announcement) == ["gtts"] * 6
    assert announcement.passed_over == (("pack", ("lăm",)),)
    assert announcement.fallback
    assert "voice pack lacks 'lăm'; falling back to gtts" in caplog.text
    # a number the pack can say is said by the pack
    assert compose("A014", 3, cache=cache, status=status).voice == "pack"


def test_a_voice_not_installed_is_not_a_fallback(cache: SoundCache, status: SoundStatus) -> None:
    fill(cache, "gtts", KEYS)
    announcement = compose("A015", 3, cache=cache, status=status)
    assert announcement.voice == "gtts" and not announcement.fallback


def test_espeak_after_gtts(cache: SoundCache, status: SoundStatus) -> None:
    fill(cache, "gtts", KEYS[:3])
    fill(cache, "espeak", KEYS)
    announcement = compose("A015", 3, cache=cache, status=status)
    assert announcement.voice == "espeak"
    assert announcement.passed_over == (("gtts", ("lăm", "đến quầy số", "ba")),)


def test_the_offline_voice_fills_gaps_on_the_spot(cache: SoundCache, status: SoundStatus) -> None:
    fill(cache, "gtts", KEYS[:3])
    fill(cache, "espeak", KEYS[:4])
    voice = ToneVoice()
    announcement = compose("A015", 3, cache=cache, status=status, offline_voice=voice)
    assert voice.said == ["đến quầy số", "ba"]
    assert announcement.voice == "espeak" and _voices(announcement) == ["espeak"] * 6
    assert announcement.passed_over == (("gtts", ("lăm", "đến quầy số", "ba")),)
    assert all(cache.has("espeak", k) for k in KEYS)


def test_without_any_complete_voice_each_clip_comes_from_the_best_voice(
    cache: SoundCache, status: SoundStatus, caplog: pytest.LogCaptureFixture
) -> None:
    fill(cache, "pack", ["mời công dân có số thứ tự", "đến quầy số"])
    fill(cache, "gtts", ["a", "mười", "mời công dân có số thứ tự"])
    voice = ToneVoice(fail=True)
    with caplog.at_level(logging.WARNING, logger="sounds"):
        announcement = compose("A015", 3, cache=cache, status=status, offline_voice=voice)
    assert announcement.voice == "mixed" and announcement.fallback
    assert [(c.key, c.voice) for c in announcement.clips] == [
        ("mời công dân có số thứ tự", "pack"),
        ("a", "gtts"),
        ("mười", "gtts"),
        ("đến quầy số", "pack"),
    ]
    assert announcement.missing == ("lăm", "ba")
    assert len(voice.said) == 1  # the first failure ends the attempt
    assert "no voice has every clip" in caplog.text
    assert "left out: 'lăm', 'ba'" in caplog.text


def test_an_empty_cache_says_nothing_but_does_not_fail(
    cache: SoundCache, status: SoundStatus
) -> None:
    announcement = compose("A015", 3, cache=cache, status=status)
    assert announcement.voice == "" and announcement.clips == ()
    assert announcement.missing == tuple(KEYS)
    assert announcement.files() == [cache.chime_path]


def test_chime_first_then_clips_with_pauses(cache: SoundCache, status: SoundStatus) -> None:
    fill(cache, "gtts", KEYS)
    announcement = compose("A015", 3, cache=cache, status=status)
    parts = announcement.parts()
    assert parts[0] == (cache.chime_path, PAUSE_AFTER_CHIME) and cache.chime_path.is_file()
    assert [pause for _, pause in parts[1:]] == [
        PAUSE_AFTER_GROUP,  # phrase
        PAUSE_AFTER_WORD,  # a
        PAUSE_AFTER_WORD,  # mười
        PAUSE_AFTER_GROUP,  # lăm ends the number
        PAUSE_AFTER_GROUP,  # phrase
        PAUSE_AFTER_GROUP,  # ba
    ]
    assert [p for p, _ in parts[1:]] == [cache.clip_path("gtts", k) for k in KEYS]
    assert compose("A015", 3, cache=cache, status=status, chime=False).chime is None


def test_joined_wav_is_the_parts_in_order(cache: SoundCache, status: SoundStatus) -> None:
    fill(cache, "gtts", KEYS)
    announcement = compose("A015", 3, cache=cache, status=status, joined=True)
    assert announcement.joined is not None and announcement.joined.parent.name == "joined"
    expected = 0
    for path, pause in announcement.parts():
        expected += len(read_wav(path.read_bytes())[1]) + int(pause * RATE)
    assert len(read_wav(announcement.joined.read_bytes())[1]) == expected
    again = compose("A015", 3, cache=cache, status=status, joined=True)
    assert again.joined == announcement.joined
    # a rebuilt clip makes a new joined file, not a stale one
    fill(cache, "gtts", ["ba"], frequency=880)
    os.utime(cache.clip_path("gtts", "ba"), ns=(1, 1))
    assert compose("A015", 3, cache=cache, status=status, joined=True).joined != again.joined


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("no_network")
def test_warm_cache_announcement_is_ready_offline(cache: SoundCache) -> None:
    """Offline with a warm cache every announcement is composed (its speed: bench/)."""
    fill(cache, "gtts", vocabulary())
    for n in range(1, 12):
        announcement = announcement_ready(f"B{n * 97:04d}", n, sounds_dir=cache.root)
        assert announcement.voice == "gtts" and announcement.joined is not None


def test_the_call_path_imports_no_network_voice(cache: SoundCache) -> None:
    fill(cache, "gtts", vocabulary())
    program = (
        "import sys; from sounds.compose import announcement_ready; "
        f"a = announcement_ready('A015', 3, sounds_dir={str(cache.root)!r}); "
        "assert a.voice == 'gtts', a; "
        "bad = {'gtts', 'requests', 'urllib3'} & set(sys.modules); assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", program], check=True)


def test_status_counts_and_logs_a_fallback_once(
    cache: SoundCache, status: SoundStatus, caplog: pytest.LogCaptureFixture
) -> None:
    fill(cache, "pack", KEYS[:-1])
    fill(cache, "gtts", KEYS)
    with caplog.at_level(logging.INFO, logger="sounds"):
        for _ in range(3):
            compose("A015", 3, cache=cache, status=status)
        compose("A015", 15, cache=cache, status=status)
    assert caplog.text.count("voice pack lacks") == 1
    assert "announcements are said by the voice gtts" not in caplog.text
    assert "announcements are said by the voice pack" in caplog.text
    snapshot = status.snapshot()
    assert snapshot["announcements"] == 4 and snapshot["fallbacks"] == 3
    assert snapshot["last"]["voice"] == "pack" and not snapshot["last"]["fallback"]


def test_sound_status_for_the_admin_page(cache: SoundCache, status: SoundStatus) -> None:
    keys = vocabulary()
    fill(cache, "gtts", keys[:-1])
    fill(cache, "espeak", keys)
    compose("A015", 3, cache=cache, status=status)
    report = sound_status(cache, recorder=status)
    assert report["voice"] == "espeak"
    assert report["voices"]["pack"] == {"clips": 0, "needed": len(keys), "missing": keys}
    assert report["voices"]["gtts"]["missing"] == keys[-1:]
    assert report["voices"]["espeak"]["clips"] == len(keys)
    assert report["chime"] is True
    assert report["announcements"] == 1 and report["last"]["voice"] == "gtts"


def test_old_joined_files_are_pruned(cache: SoundCache, status: SoundStatus) -> None:
    fill(cache, "gtts", vocabulary())
    first = compose("1", 1, cache=cache, status=status, joined=True).joined
    assert first is not None
    os.utime(first, ns=(1, 1))
    for n in range(2, 7):
        compose(str(n), 1, cache=cache, status=status, joined=True)
    prune_joined(cache, keep=3, slack=2)
    left = sorted(p.name for p in first.parent.iterdir())
    assert len(left) == 3 and first.name not in left
