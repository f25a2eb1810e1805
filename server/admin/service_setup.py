"""Setting up a site's services: their numbers, opening sessions and what the kiosk shows.

A service is never deleted (its tickets refer to it): it is deactivated. Which numbers two
services may share is the engine's rule (``server.engine.number_formats``); the messages
are here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sounds.vietnamese import LETTER_NAMES

from ..engine import number_formats as numbers
from ..engine.number_formats import NumberFormat
from ..engine.unit_of_work import UnitOfWork
from ..models import Service, Site, Ticket
from . import setup_checks as setup
from .setup_checks import ChangeAuthor, Checks, Problem

SERVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
MAX_SESSIONS = 10
MAX_SERVICE_MINUTES = 480
# ISO weekdays as printed on Vietnamese calendars.
WEEKDAYS = {1: "T2", 2: "T3", 3: "T4", 4: "T5", 5: "T6", 6: "T7", 7: "CN"}


@dataclass
class OpeningSession:
    start: str
    end: str
    days: list[int] = field(default_factory=list)  # empty: every day

    def stored(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"start": self.start, "end": self.end}
        if self.days:
            entry["days"] = sorted(set(self.days))
        return entry


@dataclass
class ServiceData:
    code: str
    name: str
    hint: str = ""
    number_prefix: str = ""
    number_width: int = 3
    range_start: int | None = None
    range_end: int | None = None
    daily_cap: int | None = None
    sessions: list[OpeningSession] = field(default_factory=list)
    active: bool = True
    sort_order: int = 0
    service_minutes: int = 5
    remote_enabled: bool = False
    remote_share: int = 50

    @classmethod
    def of(cls, service: Service) -> ServiceData:
        return cls(
            code=service.code,
            name=service.name,
            hint=service.hint,
            number_prefix=service.number_prefix or "",
            number_width=service.number_width,
            range_start=service.range_start,
            range_end=service.range_end,
            daily_cap=service.daily_cap,
            sessions=[
                OpeningSession(s["start"], s["end"], list(s.get("days") or []))
                for s in service.sessions or []
            ],
            active=service.active,
            sort_order=service.sort_order,
            service_minutes=max(1, round(service.default_service_s / 60)),
            remote_enabled=service.remote_enabled,
            remote_share=service.remote_share,
        )


def _minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


def _check_sessions(checks: Checks, sessions: list[OpeningSession]) -> None:
    if len(sessions) > MAX_SESSIONS:
        checks.fail("sessions", "Tối đa %(n)d buổi.", n=MAX_SESSIONS)
        return
    for i, row in enumerate(sessions):
        key = f"sessions-{i}"
        if not HHMM.fullmatch(row.start) or not HHMM.fullmatch(row.end):
            checks.fail(key, "Giờ phải có dạng HH:MM, ví dụ 07:30.")
        elif _minutes(row.start) >= _minutes(row.end):
            checks.fail(key, "Giờ bắt đầu phải trước giờ kết thúc.")
        elif any(day not in WEEKDAYS for day in row.days):
            checks.fail(key, "Ngày trong tuần không hợp lệ.")
    if not all(checks.ok(f"sessions-{i}") for i in range(len(sessions))):
        return
    for i, row in enumerate(sessions):
        for other in sessions[:i]:
            days = set(row.days or WEEKDAYS) & set(other.days or WEEKDAYS)
            if (
                days
                and _minutes(row.start) < _minutes(other.end)
                and (_minutes(other.start) < _minutes(row.end))
            ):
                checks.fail(
                    f"sessions-{i}",
                    "Trùng giờ với buổi %(other)s–%(end)s.",
                    other=other.start,
                    end=other.end,
                )
                break


def _has_tickets(session: Session, service_id: int) -> bool:
    return bool(
        session.execute(
            select(Ticket.id)
            .where(or_(Ticket.issued_service_id == service_id, Ticket.service_id == service_id))
            .limit(1)
        ).first()
    )


def _number_format(service: Service) -> NumberFormat:
    return NumberFormat(
        service.name, service.number_prefix or "", service.range_start, service.range_end
    )


def _check_service(
    checks: Checks, session: Session, site: Site, data: ServiceData, current: Service | None
) -> None:
    others = [s for s in site.services if current is None or s.id != current.id]
    if not data.code:
        checks.fail("code", "Không được để trống.")
    elif not SERVICE_CODE.fullmatch(data.code):
        checks.fail("code", "Chỉ dùng chữ cái không dấu, chữ số, dấu gạch (-, _), tối đa 40 ký tự.")
    elif any(s.code.lower() == data.code.lower() for s in others):
        checks.fail("code", "Mã “%(code)s” đã được dùng cho lĩnh vực khác.", code=data.code)
    elif current is not None and current.code != data.code and _has_tickets(session, current.id):
        checks.fail(
            "code",
            "Lĩnh vực đã có phiếu nên không đổi được mã (đang là “%(code)s”).",
            code=current.code,
        )
    checks.text("name", data.name, limit=200)
    checks.text("hint", data.hint, limit=300, required=False)
    number = NumberFormat(data.name, data.number_prefix, data.range_start, data.range_end)
    taken = [_number_format(s) for s in others]
    if len(data.number_prefix) > numbers.MAX_PREFIX:
        checks.fail("number_prefix", "Tối đa %(limit)d ký tự.", limit=numbers.MAX_PREFIX)
    elif any(ch not in LETTER_NAMES for ch in data.number_prefix):
        checks.fail("number_prefix", "Chỉ dùng chữ cái (A, B, C…) để loa đọc được.")
    elif number.uses_range and data.number_prefix:
        checks.fail("number_prefix", "Dùng tiền tố hoặc dải số, không dùng cả hai.")
    elif not number.uses_range and (same := numbers.same_prefix(number, taken)):
        checks.fail(
            "number_prefix",
            "Tiền tố “%(prefix)s” đã dùng cho “%(other)s”: số sẽ bị trùng.",
            prefix=data.number_prefix,
            other=same.name,
        )
    checks.whole("number_width", data.number_width, 1, numbers.MAX_WIDTH)
    if not numbers.range_is_whole(data.range_start, data.range_end):
        checks.fail("range_start", "Nhập cả số đầu và số cuối của dải, hoặc để trống cả hai.")
    elif data.range_start is not None and data.range_end is not None:
        if not numbers.range_is_valid(data.range_start, data.range_end):
            checks.fail(
                "range_start",
                "Dải số phải từ 1 đến %(high)d và số đầu không lớn hơn số cuối.",
                high=numbers.MAX_NUMBER,
            )
        elif other := numbers.overlapping_range(number, taken):
            checks.fail(
                "range_start",
                "Dải số trùng với lĩnh vực “%(other)s” (%(a)d–%(b)d).",
                other=other.name,
                a=other.range_start,
                b=other.range_end,
            )
    checks.whole("daily_cap", data.daily_cap, 1, numbers.MAX_NUMBER)
    checks.whole("sort_order", data.sort_order, 0, 9999)
    checks.whole("service_minutes", data.service_minutes, 1, MAX_SERVICE_MINUTES)
    checks.whole("remote_share", data.remote_share, 0, 100)
    _check_sessions(checks, data.sessions)


def _clean_service(data: ServiceData) -> ServiceData:
    data.code = setup.clean(data.code)
    data.name = setup.clean(data.name)
    data.hint = setup.clean(data.hint)
    data.number_prefix = setup.clean(data.number_prefix).upper()
    for row in data.sessions:
        row.start, row.end = setup.clean(row.start), setup.clean(row.end)
    return data


def _apply_service(service: Service, data: ServiceData) -> None:
    service.code, service.name, service.hint = data.code, data.name, data.hint
    uses_range = data.range_start is not None
    service.number_prefix = None if uses_range else (data.number_prefix or None)
    service.number_width = data.number_width
    service.range_start, service.range_end = data.range_start, data.range_end
    service.daily_cap = data.daily_cap
    service.sessions = [row.stored() for row in data.sessions]
    service.active = data.active
    service.sort_order = data.sort_order
    service.default_service_s = data.service_minutes * 60
    service.remote_enabled, service.remote_share = data.remote_enabled, data.remote_share


def _service_summary(service: Service) -> dict[str, Any]:
    summary = asdict(ServiceData.of(service))
    summary["sessions"] = service.sessions
    return summary


def save_service(
    uow: UnitOfWork, site_code: str, service_id: int | None, data: ServiceData, author: ChangeAuthor
) -> int:
    """Add a service (``service_id`` None) or change one; returns its id.

    A service is never deleted (its tickets refer to it): it is deactivated. Its
    code cannot change once tickets were issued, numbers must not collide with
    another service's, and opening sessions of a day must not overlap.
    """
    data = _clean_service(data)
    with uow:
        site = setup.site_by_code(uow.session, site_code)
        current = None
        if service_id is not None:
            current = uow.session.get(Service, service_id)
            if current is None or current.site_id != site.id:
                raise LookupError(service_id)
        checks = Checks()
        _check_service(checks, uow.session, site, data, current)
        checks.done()
        before = _service_summary(current) if current else {}
        service = current or Service(site_id=site.id)
        _apply_service(service, data)
        uow.session.add(service)
        uow.session.flush()
        setup.record(
            uow,
            author,
            site,
            "service.update" if current else "service.create",
            target=service.code,
            detail=setup.changes(before, _service_summary(service)),
            message={"changed": "services", "service": service.code},
        )
        new_id = service.id
        setup.commit_refusing(
            uow, {"code": Problem("Mã “%(code)s” đã được dùng.", {"code": data.code})}
        )
        return new_id


def weekday_names(days: Iterable[int], say: Callable[[str], str] = str) -> str:
    """ "T2, T3" for the days of a session, or "Hằng ngày"; ``say`` translates each word."""
    return ", ".join(say(WEEKDAYS[d]) for d in sorted(days) if d in WEEKDAYS) or say("Hằng ngày")
