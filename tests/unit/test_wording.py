"""Words the pages must say one way: a reader should never wonder whether two are two things."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("server", "display", "kiosk", "sounds", "docs")
SUFFIXES = {".py", ".html", ".js", ".po", ".md", ".css"}


def _texts() -> dict[str, str]:
    files = [ROOT / "README.md"]
    for folder in SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in files}


def test_a_paused_counter_is_tam_dung_everywhere() -> None:
    """Issue 9: "Tạm dừng" on the clerk's button, "Tạm ngừng" on the displays and the API."""
    found = [name for name, text in _texts().items() if "tạm ngừng" in text.lower()]
    assert not found, f"“Tạm ngừng” where a paused counter is “Tạm dừng”: {found}"
    assert "Tạm dừng" in (ROOT / "display" / "routes.py").read_text(encoding="utf-8")
