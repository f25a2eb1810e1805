"""``xephang sounds``: build from a clip pack and from espeak-ng, status, say, clips."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import cli
from sounds.announce import vocabulary
from sounds.audio import RATE, read_wav
from sounds.cache import SoundCache
from sounds.clips import clip_id

from ..sounds_support import require_program, tone_wav


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sounds", *args], catch_exceptions=False)
    return result.exit_code, result.output


def _pack(folder: Path, keys: list[str]) -> None:
    """A vendor's pack in mixed spellings and formats."""
    folder.mkdir()
    for i, key in enumerate(keys):
        if i % 4 == 0:
            name = unicodedata.normalize("NFD", key) + ".wav"  # as macOS writes names
        elif i % 4 == 1:
            name = key.replace(" ", "_").upper() + ".WAV"
        elif i % 4 == 2:
            name = clip_id(key) + ".wav"
        else:
            name = key + ".wav"
        (folder / name).write_bytes(tone_wav(0.1, 300 + i, rate=44_100, channels=2))
    (folder / "chime.wav").write_bytes(tone_wav(0.5, 1000, rate=48_000))


def test_build_a_pack_and_report_what_it_lacks(tmp_path: Path) -> None:
    keys = vocabulary()
    _pack(tmp_path / "pack", [k for k in keys if k not in ("mốt", "e lờ")])
    code, output = run(
        "build", "--voice", f"pack:{tmp_path / 'pack'}", "--dir", str(tmp_path / "s")
    )
    assert code == 0, output
    assert f"Giọng pack: tạo mới {len(keys) - 2}, có sẵn 0, thiếu 2" in output
    assert "thiếu: mốt (tệp: mốt.wav)" in output
    assert "thiếu: e lờ (tệp: e lờ.wav)" in output
    cache = SoundCache(tmp_path / "s")
    assert cache.clip_count("pack") == len(keys) - 2
    rate, samples = read_wav(cache.chime_path.read_bytes())
    assert rate == RATE and 0.5 <= len(samples) / rate < 0.6  # the pack's chime, not the bell

    code, output = run("status", "--dir", str(tmp_path / "s"), "--json")
    report = json.loads(output)
    assert report["voices"]["pack"]["missing"] == ["mốt", "e lờ"]
    assert report["voice"] is None

    code, output = run(
        "build", "--voice", f"pack:{tmp_path / 'pack'}", "--dir", str(tmp_path / "s")
    )
    assert f"tạo mới 0, có sẵn {len(keys) - 2}, thiếu 2" in output


def test_build_a_missing_pack_folder_fails(tmp_path: Path) -> None:
    code, output = run("build", "--voice", f"pack:{tmp_path / 'none'}", "--dir", str(tmp_path))
    assert code != 0 and "no clip pack folder" in output


def test_unknown_voice(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sounds", "build", "--voice", "siri", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "unknown voice" in result.output


def test_build_espeak_then_say_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_program("espeak-ng", "espeak-ng")
    monkeypatch.setenv("XEPHANG_SOUNDS_DIR", str(tmp_path / "s"))
    code, output = run("build", "--voice", "espeak")
    assert code == 0, output
    assert f"Giọng espeak: tạo mới {len(vocabulary())}, có sẵn 0, thiếu 0" in output

    code, output = run("status")
    assert "Giọng sẽ đọc: espeak" in output and f"espeak: {len(vocabulary())}/" in output

    out = tmp_path / "call.wav"
    code, output = run("say", "A015", "3", "--out", str(out))
    assert code == 0, output
    assert "Mời công dân có số thứ tự a mười lăm đến quầy số ba" in output
    assert "Giọng: espeak" in output
    assert read_wav(out.read_bytes())[0] == RATE


def test_clips_lists_pack_names_and_ascii_names() -> None:
    code, output = run("clips", "--template", "Xin mời số {number} tới bàn {counter}")
    lines = output.splitlines()
    assert lines[0] == f"xin mời số.wav\t{clip_id('xin mời số')}.wav"
    assert f"mười.wav\t{clip_id('mười')}.wav" in lines
    assert len(lines) == len(vocabulary(["Xin mời số {number} tới bàn {counter}"]))


def test_bad_recordings_are_reported_and_the_build_goes_on(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("không", "một", "hai"):
        (pack / f"{name}.wav").write_bytes(b"not audio")
    (pack / "ba.wav").write_bytes(tone_wav(0.1))
    code, output = run("build", "--voice", f"pack:{pack}", "--dir", str(tmp_path / "s"))
    assert "tạo mới 1," in output
    assert "thiếu: không (tệp: không.wav) — not a WAV file" in output
    assert "thiếu: bốn (tệp: bốn.wav) — không có bản ghi" in output
