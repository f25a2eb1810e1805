"""A display's layout options: from its URL, else from its token's settings, else the defaults.

Each screen of a hall is set up by the address it opens, kept through pairing::

    /display/?counters=1,2,3&services=HT,CT&columns=3&theme=dark&speak=1&repeat=2&notice=…

The same keys may be kept with the display's token (``ApiToken.settings``, e.g.
``{"speak": true, "notice": "…"}``) and, for the notice and the logo, for the whole
installation (``DISPLAY_NOTICE``/``XEPHANG_DISPLAY_NOTICE``, ``DISPLAY_LOGO``/
``XEPHANG_DISPLAY_LOGO``). A value that does not parse is ignored, never an error: a TV has no
one to read an error page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sounds.voice_options import REPEATS

THEMES = ("dark", "light", "contrast")
COLOUR = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
SERVICE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
VIDEO_SUFFIXES = (".mp4", ".webm", ".ogv", ".m4v")
TRUE = ("1", "true", "yes", "on", "có")
FALSE = ("0", "false", "no", "off", "không")
MAX_NOTICE = 1000
MAX_MEDIA = 20


@dataclass(frozen=True)
class Media:
    url: str
    video: bool


@dataclass(frozen=True)
class DisplayOptions:
    """What a display shows and whether it speaks (see the module docstring)."""

    counters: tuple[int, ...] | None = None  # None: every counter
    services: tuple[str, ...] | None = None  # None: every service
    columns: int | None = None  # None: chosen from the number of counters
    theme: str = "dark"
    accent: str | None = None
    background: str | None = None
    foreground: str | None = None
    speak: bool = False
    repeat: int | None = None  # None: the site's (voice_options.repeat, else DEFAULT_REPEAT)
    notice: str = ""
    logo: str | None = None
    media: tuple[Media, ...] = field(default_factory=tuple)
    media_seconds: int = 10
    media_sound: bool = False
    recent: int = 6
    flash_seconds: int = 6

    def for_script(self) -> dict[str, Any]:
        """The options as the page scripts read them (JSON)."""
        data = asdict(self)
        data["media"] = [asdict(m) for m in self.media]
        return data

    def colours(self) -> dict[str, str]:
        """CSS variables the options override."""
        names = {"--accent": self.accent, "--bg": self.background, "--fg": self.foreground}
        return {name: value for name, value in names.items() if value}


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None


def _int(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


def _items(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _counters(value: Any) -> tuple[int, ...] | None:
    numbers = [n for n in (_int(v, 1, 2**31 - 1) for v in _items(value)) if n is not None]
    return tuple(dict.fromkeys(numbers)) or None


def _services(value: Any) -> tuple[str, ...] | None:
    codes = [v for v in _items(value) if SERVICE_CODE.match(v)]
    return tuple(dict.fromkeys(codes)) or None


def _colour(value: Any) -> str | None:
    match = COLOUR.match(str(value).strip())
    return f"#{match[1]}" if match else None


def safe_url(value: Any) -> str | None:
    """An http(s) URL or a path on this server; nothing a page could run."""
    text = str(value or "").strip()
    if not text or any(ch.isspace() or ch in "\"'<>\\" for ch in text):
        return None
    if text.startswith("/") and not text.startswith("//"):
        return text
    if re.match(r"^https?://[^/]", text, re.IGNORECASE):
        return text
    return None


def _media(values: list[str]) -> tuple[Media, ...]:
    found: list[Media] = []
    for value in values:
        for part in value.split():
            url = safe_url(part)
            if url:
                path = url.split("?", 1)[0].lower()
                found.append(Media(url, path.endswith(VIDEO_SUFFIXES)))
    return tuple(found[:MAX_MEDIA])


def parse_options(
    query: Mapping[str, Any],
    device: Mapping[str, Any] | None = None,
    installation: Mapping[str, Any] | None = None,
    env: Mapping[str, str] = os.environ,
) -> DisplayOptions:
    """The display's options: the URL's ``query`` first, then ``device`` settings, then defaults.

    ``query`` may be a Werkzeug ``MultiDict`` (``media`` may be given several times).
    """
    device = device or {}
    installation = installation or {}

    def pick(name: str) -> Any:
        value = query.get(name)
        if value is None or value == "":
            value = device.get(name)
        return value

    kwargs: dict[str, Any] = {}
    if (value := pick("counters")) is not None:
        kwargs["counters"] = _counters(value)
    if (value := pick("services")) is not None:
        kwargs["services"] = _services(value)
    if (value := pick("columns")) is not None:
        kwargs["columns"] = _int(value, 1, 8)
    if (value := pick("theme")) is not None and str(value) in THEMES:
        kwargs["theme"] = str(value)
    for name, key in (("accent", "accent"), ("bg", "background"), ("fg", "foreground")):
        if (value := pick(name)) is not None:
            kwargs[key] = _colour(value)
    for name, key in (("speak", "speak"), ("media_sound", "media_sound")):
        if (value := pick(name)) is not None and (flag := _flag(value)) is not None:
            kwargs[key] = flag
    if (value := pick("repeat")) is not None:
        kwargs["repeat"] = _int(value, REPEATS[0], REPEATS[-1])
    for name, key, low, high in (
        ("media_seconds", "media_seconds", 3, 3600),
        ("recent", "recent", 0, 12),
        ("flash", "flash_seconds", 0, 60),
    ):
        if (value := pick(name)) is not None and (number := _int(value, low, high)) is not None:
            kwargs[key] = number
    notice = pick("notice")
    if notice is None:
        notice = installation.get("DISPLAY_NOTICE") or env.get("XEPHANG_DISPLAY_NOTICE")
    kwargs["notice"] = " ".join(str(notice or "").split())[:MAX_NOTICE]
    logo = pick("logo")
    if logo is None:
        logo = installation.get("DISPLAY_LOGO") or env.get("XEPHANG_DISPLAY_LOGO")
    kwargs["logo"] = safe_url(logo)
    getlist = getattr(query, "getlist", None)
    media = [v for v in getlist("media") if v] if getlist else _items(query.get("media") or "")
    if not media:
        configured = device.get("media") or installation.get("DISPLAY_MEDIA")
        media = _items(configured) if configured else []
    kwargs["media"] = _media(media)
    return DisplayOptions(**kwargs)
