"""Opening sessions of a service (e.g. 07:30-11:30 and 13:30-17:00), in the site's zone."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from ..timeutil import local


def _parse(hhmm: str) -> time:
    hour, minute = hhmm.split(":")
    return time(int(hour), int(minute))


def session_name(moment: datetime, tz_name: str) -> str:
    """ "Sáng" before noon, "Chiều" after, as printed on a ticket."""
    return "Sáng" if local(moment, tz_name).hour < 12 else "Chiều"


def is_open(sessions: list[Any], moment: datetime, tz_name: str) -> bool:
    """A service with no sessions is always open; otherwise ``start <= now < end``."""
    if not sessions:
        return True
    now = local(moment, tz_name)
    clock = now.time().replace(tzinfo=None)
    weekday = now.isoweekday()
    for entry in sessions:
        days = entry.get("days")
        if days and weekday not in days:
            continue
        if _parse(entry["start"]) <= clock < _parse(entry["end"]):
            return True
    return False
