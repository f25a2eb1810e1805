"""The days a report covers, in a site's time zone, and the checks on what a caller asked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..engine.errors import invalid

# group=...: how the rows of a report are made (site: one row per site, for several sites).
GROUPS = ("service", "counter", "clerk", "hour", "day", "site")
FORMATS = ("json", "csv", "xlsx")
# A year and a day: a report over a longer range is refused (it would also be slow).
MAX_DAYS = 366
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Names of the ranges the report page offers (week: Monday to Sunday, as in Việt Nam).
NAMED_PERIODS = ("today", "yesterday", "this_week", "this_month", "last_month")


@dataclass(frozen=True)
class Period:
    """Business days ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def bounds(self, tz_name: str) -> tuple[datetime, datetime]:
        """The UTC moments of the first day's midnight and of the day after the last."""
        return day_start(self.start, tz_name), day_start(self.end + timedelta(days=1), tz_name)


def day_start(day: date, tz_name: str) -> datetime:
    """The aware UTC moment a business day begins in a site's zone."""
    return datetime.combine(day, time(0), ZoneInfo(tz_name)).astimezone(UTC)


def parse_day(text: str | None, field: str) -> date:
    """A ``YYYY-MM-DD`` date; anything else is refused with the field's name."""
    if text is None or text == "":
        raise invalid("report_date_required", field=field)
    if not ISO_DAY.fullmatch(text):
        raise invalid("report_bad_date", field=field, value=text[:40])
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid("report_bad_date", field=field, value=text) from None


def parse_period(from_text: str | None, to_text: str | None) -> Period:
    """``from`` and ``to`` as typed: both required, ``from`` ≤ ``to``, at most ``MAX_DAYS``."""
    start = parse_day(from_text, "from")
    end = parse_day(to_text, "to")
    if start > end:
        raise invalid("report_range_reversed")
    period = Period(start, end)
    if period.days > MAX_DAYS:
        raise invalid("report_range_too_long", days=MAX_DAYS)
    return period


def parse_group(text: str | None) -> str:
    """A grouping of ``GROUPS``; none given: by service."""
    if text is None or text == "":
        return "service"
    if text not in GROUPS:
        raise invalid("report_bad_group", group=text[:40])
    return text


def parse_format(text: str | None) -> str:
    if text is None or text == "":
        return "json"
    if text not in FORMATS:
        raise invalid("report_bad_format", format=text[:40])
    return text


def named_period(name: str, today: date) -> Period:
    """Today, yesterday, this week (from Monday), this month, last month."""
    if name == "today":
        return Period(today, today)
    if name == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1))
    if name == "this_week":
        return Period(today - timedelta(days=today.weekday()), today)
    if name == "this_month":
        return Period(today.replace(day=1), today)
    if name == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Period(last.replace(day=1), last)
    raise invalid("report_bad_period", period=name[:40])
