"""Time helpers: everything is stored in aware UTC; business days are in the site's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# A site's zone unless it names another (every site so far is in Việt Nam). The kiosk device
# library, which imports nothing of the server, keeps its own: kiosk.ticket.DEFAULT_TIMEZONE.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime, tz_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz_name))


def business_day(moment: datetime, tz_name: str) -> date:
    """The site's calendar day for a moment: numbering restarts when it changes."""
    return local(moment, tz_name).date()
