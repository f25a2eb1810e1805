"""The gTTS voice against a fake Google: the real gTTS and requests code runs, the HTTP is faked.

The fake replaces ``requests.adapters.HTTPAdapter.send``, the one place where requests puts
bytes on the wire, and answers like Google's ``batchexecute`` endpoint: an RPC reply carrying
the MP3 in base64. The MP3 is real (24 kHz mono, as Google sends), so decoding runs too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
from requests.adapters import HTTPAdapter

from sounds.audio import RATE, duration, read_wav
from sounds.build import build_voice
from sounds.cache import SoundCache
from sounds.voices import VoiceError
from sounds.voices.gtts import GttsVoice

from ..sounds_support import DATA, require_program

MP3 = (DATA / "speech_24k_mono.mp3").read_bytes()


class FakeGoogle:
    """Answers gTTS's requests; ``script`` gives, per request, an exception or a status to send."""

    def __init__(self, script: list[Exception | int] | None = None) -> None:
        self.script = list(script or [])
        self.requests: list[requests.PreparedRequest] = []

    def send(
        self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: object
    ) -> requests.Response:
        self.requests.append(request)
        status = 200
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            status = step
        audio = json.dumps([base64.b64encode(MP3).decode()])
        reply = json.dumps([["wrb.fr", "jQ1olc", audio, None, "generic"]], separators=(",", ":"))
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status == 200 else "Server Error"
        response.url = request.url or ""
        response.request = request
        response._content = f")]}}'\n\n{len(reply)}\n{reply}\n".encode()
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    def said(self) -> list[list[str]]:
        """(text, language) of each request, read from its RPC body."""
        out = []
        for request in self.requests:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            rpc = json.loads(parse_qs(body or "")["f.req"][0])
            text, language, *_ = json.loads(rpc[0][0][1])
            out.append([text, language])
        return out


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> FakeGoogle:
    fake = FakeGoogle()

    def send(
        adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: object
    ) -> requests.Response:
        return fake.send(adapter, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return fake


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _voice(clock: Clock, **options: float) -> GttsVoice:
    return GttsVoice(sleep=clock.sleep, clock=clock, **options)  # type: ignore[arg-type]


def test_asks_google_for_vietnamese_and_gets_the_mp3(google: FakeGoogle) -> None:
    mp3 = _voice(Clock()).render("mười lăm")
    assert mp3 == MP3
    assert google.said() == [["mười lăm", "vi"]]
    assert google.requests[0].url == (
        "https://translate.google.com/_/TranslateWebserverUi/data/batchexecute"
    )


def test_requests_are_throttled(google: FakeGoogle) -> None:
    clock = Clock()
    voice = _voice(clock, min_interval=1.5)
    voice.render("một")
    clock.now += 0.5
    voice.render("hai")
    clock.now += 5
    voice.render("ba")
    assert clock.sleeps == [1.0]
    assert [t for t, _ in google.said()] == ["một", "hai", "ba"]


def test_failures_are_retried_with_a_doubling_back_off(google: FakeGoogle) -> None:
    google.script = [requests.ConnectionError("no route"), 500]
    clock = Clock()
    assert _voice(clock, min_interval=0, backoff=2).render("tư") == MP3
    assert clock.sleeps == [2.0, 4.0]
    assert len(google.requests) == 3


def test_gives_up_after_its_attempts(google: FakeGoogle) -> None:
    google.script = [503, requests.Timeout("slow"), 503]
    clock = Clock()
    with pytest.raises(VoiceError, match="after 3 attempts"):
        _voice(clock, min_interval=0, attempts=3).render("lăm")
    assert len(google.requests) == 3


def test_build_fills_the_cache_with_decoded_clips(google: FakeGoogle, tmp_path: Path) -> None:
    require_program("mpg123", "mpg123")
    cache = SoundCache(tmp_path)
    report = build_voice(cache, _voice(Clock(), min_interval=0), ["mười", "lăm"])
    assert report.made == ["mười", "lăm"] and not report.missing
    for key in ("mười", "lăm"):
        data = cache.clip_path("gtts", key).read_bytes()
        rate, samples = read_wav(data)
        assert rate == RATE and 0.3 < duration(data) < 2.0
        assert max(abs(v) for v in samples) > 0.5
    # a second build asks Google nothing
    again = build_voice(cache, _voice(Clock(), min_interval=0), ["mười", "lăm"])
    assert again.kept == ["mười", "lăm"] and len(google.requests) == 2


def test_build_without_network_stops_trying_and_reports(google: FakeGoogle, tmp_path: Path) -> None:
    google.script = [requests.ConnectionError("offline")] * 100
    voice = _voice(Clock(), min_interval=0, attempts=2)
    report = build_voice(SoundCache(tmp_path), voice, ["một", "hai", "ba", "bốn", "năm"])
    assert not report.made
    assert list(report.missing) == ["một", "hai", "ba", "bốn", "năm"]
    assert "bỏ qua" in report.missing["năm"]
    assert len(google.requests) == 2 * 2  # two clips tried, twice each, then it gave up
