"""Where a kiosk prints, read from its token's settings (``ApiToken.settings``).

    {"printer": "<printer URL>" | "agent" | "browser" | "preview" | "none", "paper": 58 | 80}

A printer URL means the server drives that printer itself; ``agent`` sends
the ticket to the kiosk agent beside the kiosk's USB printer; ``browser`` lets
the kiosk page print; ``preview`` shows the ticket on the kiosk's screen as it
would print, and prints nothing (the demo, a kiosk tried without a printer);
``none`` prints nothing. Missing keys take the defaults (``browser``, 80 mm);
other keys belong to the kiosk page and are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import DeviceSettingsError, PrintError
from .layout import PAPERS
from .printer_url import PrinterSpec, parse_printer_url

DEFAULT_PRINTER = "browser"
DEFAULT_PAPER = 80
AGENT = "agent"
# The printer word or URL -> where the ticket is printed.
PREVIEW = "preview"
WORD_PLACEMENTS = {AGENT: "agent", "browser": "browser", PREVIEW: "preview", "none": "none"}


@dataclass(frozen=True)
class PrintSettings:
    """A device's printing, checked: ``placement`` is server, agent, browser, preview or none."""

    placement: str
    printer: str
    paper: int
    spec: PrinterSpec | None = None  # the printer the server drives (placement "server")


def _paper(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DeviceSettingsError("khổ giấy phải là 58 hoặc 80 (mm)")
    try:
        paper = int(value)
    except ValueError:
        paper = 0
    if paper not in PAPERS:
        raise DeviceSettingsError("khổ giấy phải là 58 hoặc 80 (mm)")
    return paper


def print_settings(raw: Any) -> PrintSettings:
    """Read a device's settings; raise a ``PrintError`` that says what is wrong.

    A bad printer URL raises ``PrinterUrlError`` (``invalid_printer_url``);
    anything else wrong raises ``DeviceSettingsError`` (``invalid_device_settings``).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise DeviceSettingsError("cấu hình phải là một đối tượng JSON")
    printer = raw.get("printer", DEFAULT_PRINTER)
    if not isinstance(printer, str) or not printer.strip():
        raise DeviceSettingsError(
            "“printer” phải là địa chỉ máy in, agent, browser, preview hoặc none"
        )
    paper = _paper(raw.get("paper", DEFAULT_PAPER))
    word = printer.strip().lower()
    if word in WORD_PLACEMENTS:
        return PrintSettings(WORD_PLACEMENTS[word], word, paper)
    spec = parse_printer_url(printer)
    return PrintSettings("server", spec.url, paper, spec)


def kiosk_settings(role: str, printer: str | None, paper: str | int | None) -> dict[str, Any]:
    """The settings ``xephang token create --printer … --paper …`` stores, checked.

    Raises ``PrintError`` for another role than kiosk or a bad value.
    """
    if printer is None and paper is None:
        return {}
    if role != "kiosk":
        raise PrintError("settings_only_for_kiosk")
    settings: dict[str, Any] = {}
    if printer is not None:
        settings["printer"] = print_settings({"printer": printer}).printer
    if paper is not None:
        settings["paper"] = _paper(paper)
    return settings
