"""A ``TicketSlip`` as JSON, for print jobs sent to the kiosk agent.

The server sends the slip's words, not pixels: the agent renders them with the
same code and bundled font for its own paper, and the message stays small.
``slip_from_data`` trusts nothing in what it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .ticket import TicketSlip

MAX_TEXT = 1000
MAX_LINES = 20
OPTIONAL_TEXT = ("priority", "tracking_url")
OPTIONAL_INT = ("people_ahead", "estimated_wait_s")


def slip_to_data(slip: TicketSlip) -> dict[str, Any]:
    """The slip as plain JSON values (``issued_at`` in ISO 8601 with its offset)."""
    return {
        "number": slip.number,
        "service_name": slip.service_name,
        "issued_at": slip.issued_at.isoformat(),
        "timezone": slip.timezone,
        "site_name": slip.site_name,
        "header_lines": list(slip.header_lines),
        "people_ahead": slip.people_ahead,
        "estimated_wait_s": slip.estimated_wait_s,
        "priority": slip.priority,
        "tracking_url": slip.tracking_url,
        "footer": list(slip.footer),
    }


def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key, None if required else "")
    if not isinstance(value, str) or len(value) > MAX_TEXT or (required and not value):
        raise ValueError(f"slip field {key!r} must be a non-empty string")
    return value


def _lines(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > MAX_LINES:
        raise ValueError(f"slip field {key!r} must be a list of strings")
    if not all(isinstance(line, str) and len(line) <= MAX_TEXT for line in value):
        raise ValueError(f"slip field {key!r} must be a list of strings")
    return tuple(value)


def slip_from_data(data: Any) -> TicketSlip:
    """Read a slip sent by the server; raise ``ValueError`` when anything is off."""
    if not isinstance(data, Mapping):
        raise ValueError("slip must be an object")
    issued = datetime.fromisoformat(_text(data, "issued_at"))
    if issued.tzinfo is None:
        raise ValueError("slip field 'issued_at' needs a time zone offset")
    timezone = _text(data, "timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValueError(f"slip time zone {timezone!r} is unknown") from None
    optional: dict[str, Any] = {}
    for key in OPTIONAL_TEXT:
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise ValueError(f"slip field {key!r} must be a string or null")
        optional[key] = value
    for key in OPTIONAL_INT:
        value = data.get(key)
        if value is not None and (type(value) is not int or value < 0):
            raise ValueError(f"slip field {key!r} must be a whole number or null")
        optional[key] = value
    return TicketSlip(
        number=_text(data, "number"),
        service_name=_text(data, "service_name"),
        issued_at=issued,
        timezone=timezone,
        site_name=_text(data, "site_name", required=False),
        header_lines=_lines(data, "header_lines"),
        footer=_lines(data, "footer"),
        **optional,
    )
