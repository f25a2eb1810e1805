"""What a printed ticket says, in the words the citizen reads.

A ``TicketSlip`` is plain data: the kiosk, the reprint command and the PNG
preview all build one (``slip_from_views`` takes the API's ticket and site
dicts) and hand it to ``kiosk.render``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .tracking import tracking_url

TITLE = "PHIẾU SỐ THỨ TỰ"
DEFAULT_FOOTER = ("Vui lòng giữ phiếu và chờ gọi số.",)
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# Offices work a morning and an afternoon session; noon is the line between them.
AFTERNOON_FROM_HOUR = 12
# The priority groups' names, as the slip, the kiosk page, the phone and staff read them
# (the codes are server.engine.rules.PRIORITY_REASONS; server.messages gives them on).
PRIORITY_LABELS: dict[str, str] = {
    "elderly": "Người cao tuổi",
    "disabled": "Người khuyết tật",
    "pregnant": "Phụ nữ có thai",
    "young_child": "Người đi cùng trẻ em dưới 6 tuổi",
    "merit": "Người có công với cách mạng",
}


def local(moment: datetime, tz_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz_name))


@dataclass(frozen=True)
class TicketSlip:
    """Everything printed on one ticket; ``None`` leaves a line out."""

    number: str
    service_name: str
    issued_at: datetime
    timezone: str = DEFAULT_TIMEZONE
    site_name: str = ""
    header_lines: tuple[str, ...] = ()
    people_ahead: int | None = None
    estimated_wait_s: int | None = None
    priority: str | None = None
    tracking_url: str | None = None
    footer: tuple[str, ...] = DEFAULT_FOOTER


def session_name(moment: datetime, tz_name: str) -> str:
    """ "Sáng" before noon in the site's zone, "Chiều" from noon on."""
    return "Sáng" if local(moment, tz_name).hour < AFTERNOON_FROM_HOUR else "Chiều"


def issued_text(moment: datetime, tz_name: str) -> str:
    """dd/mm/yyyy HH:MM in the site's zone, with the session: "23/11/2026 09:00 (Sáng)"."""
    shown = local(moment, tz_name).strftime("%d/%m/%Y %H:%M")
    return f"Thời gian: {shown} ({session_name(moment, tz_name)})"


def people_ahead_text(count: int) -> str:
    return f"Số người chờ trước: {count}"


def duration_words(seconds: int) -> str:
    """A wait in minutes, rounded up ("khoảng 15 phút", "khoảng 1 giờ 5 phút")."""
    if seconds < 60:
        return "dưới 1 phút"
    minutes = -(-seconds // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"khoảng {hours} giờ {minutes} phút"
    if hours:
        return f"khoảng {hours} giờ"
    return f"khoảng {minutes} phút"


def wait_text(seconds: int) -> str:
    return f"Thời gian chờ dự kiến: {duration_words(seconds)}"


def priority_text(label: str) -> str:
    return f"Ưu tiên: {label}"


def footer_lines(footer: str | Sequence[str] | None) -> tuple[str, ...]:
    """A footer given as text (one paragraph per line) or lines; ``None`` is the default."""
    if footer is None:
        return DEFAULT_FOOTER
    lines = footer.splitlines() if isinstance(footer, str) else list(footer)
    return tuple(line.strip() for line in lines if line.strip())


def slip_from_views(
    ticket: Mapping[str, Any],
    site: Mapping[str, Any],
    *,
    base_url: str | None,
    footer: str | Sequence[str] | None = None,
) -> TicketSlip:
    """A slip from the API's ticket dict (with its tracking token) and the site's dict.

    Without a base URL or a tracking token the ticket is printed without a QR code.
    """
    token = ticket.get("tracking_token")
    priority = ticket.get("priority")
    wait = ticket.get("estimated_wait_s")
    return TicketSlip(
        number=str(ticket["number"]),
        service_name=str(ticket["service_name"]),
        issued_at=datetime.fromisoformat(ticket["issued_at"]),
        timezone=site.get("timezone") or DEFAULT_TIMEZONE,
        site_name=site.get("name") or "",
        header_lines=tuple(site.get("header_lines") or ()),
        people_ahead=ticket.get("people_ahead"),
        estimated_wait_s=None if wait is None else int(wait),
        priority=PRIORITY_LABELS.get(priority, priority) if priority else None,
        tracking_url=tracking_url(base_url, token) if base_url and token else None,
        footer=footer_lines(footer),
    )
