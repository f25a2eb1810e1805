"""Setting up a center: sites, their settings, services and counters (no Flask here).

Each use case is one transaction: every field is checked first, then the change,
its audit entry and a ``site.updated`` event are saved together, so kiosks and
displays re-read the site at once and a refused change leaves nothing behind.
A refusal is a :class:`SetupError` naming each wrong field with its Vietnamese
message (the message id; ``%(name)s`` fields are filled in by the caller's
translation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sounds.announce import FIELDS, TemplateError, parse_template
from sounds.vietnamese import LETTER_NAMES

from .. import audit
from ..engine.events import SITE_UPDATED
from ..engine.ratings import SCALES
from ..engine.unit_of_work import UnitOfWork
from ..models import ApiToken, Counter, CounterService, Service, Site, Ticket

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
SITE_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
SERVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
MAX_HEADER_LINES = 5
MAX_HEADER_LINE = 60
MAX_FOOTER = 500
MAX_TEMPLATE = 300
MAX_SESSIONS = 10
REPEATS = (1, 2, 3)
READINGS = ("words", "digits")
ZERO_HUNDREDS = ("linh", "lẻ")
THOUSANDS = ("nghìn", "ngàn")
POLICIES = ("strict", "interleave")
MAX_PRIORITY_EVERY = 20
MAX_WIDTH = 6
MAX_NUMBER = 999_999
MAX_COUNTER = 999
WEIGHTS = range(1, 11)
MAX_SERVICE_MINUTES = 480
# ISO weekdays as printed on Vietnamese calendars.
WEEKDAYS = {1: "T2", 2: "T3", 3: "T4", 4: "T5", 5: "T6", 6: "T7", 7: "CN"}


@dataclass(frozen=True)
class Problem:
    """A message id with its values: ``str()`` gives the Vietnamese text."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


class SetupError(Exception):
    """A refused change: the wrong fields, each with its message."""

    def __init__(self, errors: dict[str, Problem]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    """Who makes the change, for the audit log."""

    user_id: int | None
    remote_addr: str = ""


class _Checks:
    """Collects one message per field; ``done()`` raises when there is any."""

    def __init__(self) -> None:
        self.errors: dict[str, Problem] = {}

    def fail(self, name: str, message: str, **params: Any) -> None:
        self.errors.setdefault(name, Problem(message, params))

    def ok(self, name: str) -> bool:
        return name not in self.errors

    def text(self, name: str, value: str, *, limit: int, required: bool = True) -> None:
        if required and not value:
            self.fail(name, "Không được để trống.")
        elif len(value) > limit:
            self.fail(name, "Tối đa %(limit)d ký tự.", limit=limit)

    def whole(self, name: str, value: int | None, low: int, high: int) -> None:
        if value is not None and not low <= value <= high:
            self.fail(name, "Nhập một số từ %(low)d đến %(high)d.", low=low, high=high)

    def done(self) -> None:
        if self.errors:
            raise SetupError(self.errors)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _commit(uow: UnitOfWork, errors: dict[str, Problem]) -> None:
    """Commit; a unique constraint another request won meanwhile becomes a field message."""
    try:
        uow.commit()
    except IntegrityError as err:
        uow.rollback()
        raise SetupError(errors) from err


def _site(session: Session, code: str) -> Site:
    site = session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()
    if site is None:
        raise LookupError(code)
    return site


def timezone_names() -> list[str]:
    """The zones a site may use (Asia first: every site so far is in Việt Nam)."""
    names = sorted(available_timezones())
    return [n for n in names if n.startswith("Asia/")] + [
        n for n in names if not n.startswith("Asia/")
    ]


def _check_timezone(checks: _Checks, value: str) -> None:
    if not value:
        checks.fail("timezone", "Không được để trống.")
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        checks.fail("timezone", "Múi giờ không hợp lệ (ví dụ: Asia/Ho_Chi_Minh).")


# --- sites -----------------------------------------------------------------------------


@dataclass
class NewSite:
    code: str
    name: str
    timezone: str = DEFAULT_TIMEZONE


def create_site(uow: UnitOfWork, data: NewSite, actor: Actor) -> str:
    """Add a site (an admin's action); its code is its address and never changes. Returns it."""
    code, name, tz = _clean(data.code).lower(), _clean(data.name), _clean(data.timezone)
    with uow:
        checks = _Checks()
        if not code:
            checks.fail("code", "Không được để trống.")
        elif not SITE_CODE.fullmatch(code):
            checks.fail(
                "code",
                "Chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang (-), tối đa 40 ký tự.",
            )
        elif uow.session.execute(select(Site.id).where(Site.code == code)).first():
            checks.fail("code", "Mã đơn vị “%(code)s” đã được dùng.", code=code)
        checks.text("name", name, limit=200)
        _check_timezone(checks, tz)
        checks.done()
        site = Site(code=code, name=name, timezone=tz, header_lines=[], voice_options={})
        uow.session.add(site)
        uow.session.flush()
        audit.record(
            uow.session,
            "site.create",
            user_id=actor.user_id,
            site_id=site.id,
            target=code,
            detail={"name": name, "timezone": tz},
            remote_addr=actor.remote_addr,
        )
        uow.emit(site, SITE_UPDATED, {"changed": "site"})
        _commit(uow, {"code": Problem("Mã đơn vị “%(code)s” đã được dùng.", {"code": code})})
        return code


# --- site settings -----------------------------------------------------------------------


@dataclass
class SiteSettings:
    name: str
    timezone: str
    header_lines: list[str]
    ticket_footer: str
    announcement_template: str
    reading: str = "words"
    zero_hundred: str = "linh"
    thousand: str = "nghìn"
    repeat: int = 2
    priority_policy: str = "strict"
    priority_every: int = 3
    rating_scale: int = 4

    @classmethod
    def of(cls, site: Site) -> SiteSettings:
        voice = site.voice_options or {}
        repeat = voice.get("repeat")
        return cls(
            name=site.name,
            timezone=site.timezone,
            header_lines=list(site.header_lines or []),
            ticket_footer=site.ticket_footer or "",
            announcement_template=site.announcement_template or "",
            reading=str(voice.get("reading")) if voice.get("reading") in READINGS else "words",
            zero_hundred=voice.get("zero_hundred", "linh"),
            thousand=voice.get("thousand", "nghìn"),
            repeat=repeat if repeat in REPEATS else 2,
            priority_policy=site.priority_policy,
            priority_every=site.priority_every,
            rating_scale=site.rating_scale,
        )


def split_lines(text: str) -> list[str]:
    """A textarea's lines, trimmed, blank ones left out."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def save_settings(uow: UnitOfWork, site_code: str, data: SiteSettings, actor: Actor) -> None:
    """Save a site's settings; the template must parse the way the voice will read it."""
    name, tz = _clean(data.name), _clean(data.timezone)
    lines = [line.strip() for line in data.header_lines if line.strip()]
    footer, template = _clean(data.ticket_footer), _clean(data.announcement_template)
    checks = _Checks()
    checks.text("name", name, limit=200)
    _check_timezone(checks, tz)
    if len(lines) > MAX_HEADER_LINES:
        checks.fail("header_lines", "Tối đa %(n)d dòng.", n=MAX_HEADER_LINES)
    elif any(len(line) > MAX_HEADER_LINE for line in lines):
        checks.fail("header_lines", "Mỗi dòng tối đa %(limit)d ký tự.", limit=MAX_HEADER_LINE)
    checks.text("ticket_footer", footer, limit=MAX_FOOTER, required=False)
    if len(template) > MAX_TEMPLATE:
        checks.fail("announcement_template", "Tối đa %(limit)d ký tự.", limit=MAX_TEMPLATE)
    elif template:
        try:
            parse_template(template)
        except TemplateError:
            checks.fail(
                "announcement_template",
                "Câu đọc phải có {number}; chỉ được dùng {number} và {counter}.",
            )
    for name_, value, allowed in (
        ("reading", data.reading, READINGS),
        ("zero_hundred", data.zero_hundred, ZERO_HUNDREDS),
        ("thousand", data.thousand, THOUSANDS),
        ("priority_policy", data.priority_policy, POLICIES),
    ):
        if value not in allowed:
            checks.fail(name_, "Hãy chọn một trong các giá trị có sẵn.")
    if data.repeat not in REPEATS:
        checks.fail("repeat", "Nhập một số từ %(low)d đến %(high)d.", low=1, high=REPEATS[-1])
    checks.whole("priority_every", data.priority_every, 1, MAX_PRIORITY_EVERY)
    if data.rating_scale not in SCALES:
        checks.fail("rating_scale", "Thang đánh giá phải là 3, 4 hoặc 5 mức.")
    checks.done()
    with uow:
        site = _site(uow.session, site_code)
        before = asdict(SiteSettings.of(site))
        site.name, site.timezone, site.header_lines = name, tz, lines
        site.ticket_footer = footer or None
        site.announcement_template = template or None
        site.voice_options = {
            **(site.voice_options or {}),
            "reading": data.reading,
            "zero_hundred": data.zero_hundred,
            "thousand": data.thousand,
            "repeat": data.repeat,
        }
        site.priority_policy, site.priority_every = data.priority_policy, data.priority_every
        site.rating_scale = data.rating_scale
        changed = _changes(before, asdict(SiteSettings.of(site)))
        audit.record(
            uow.session,
            "site.settings",
            user_id=actor.user_id,
            site_id=site.id,
            target=site.code,
            detail=changed,
            remote_addr=actor.remote_addr,
        )
        uow.emit(site, SITE_UPDATED, {"changed": "settings"})
        uow.commit()


# --- services ------------------------------------------------------------------------------


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
        )


def _minutes(hhmm: str) -> int:
    hour, minute = hhmm.split(":")
    return int(hour) * 60 + int(minute)


def _check_sessions(checks: _Checks, sessions: list[OpeningSession]) -> None:
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


def _check_service(
    checks: _Checks, session: Session, site: Site, data: ServiceData, current: Service | None
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
    uses_range = data.range_start is not None or data.range_end is not None
    if len(data.number_prefix) > 4:
        checks.fail("number_prefix", "Tối đa 4 ký tự.")
    elif any(ch not in LETTER_NAMES for ch in data.number_prefix):
        checks.fail("number_prefix", "Chỉ dùng chữ cái (A, B, C…) để loa đọc được.")
    elif uses_range and data.number_prefix:
        checks.fail("number_prefix", "Dùng tiền tố hoặc dải số, không dùng cả hai.")
    elif not uses_range:
        same = [
            s
            for s in others
            if s.range_start is None and (s.number_prefix or "") == (data.number_prefix)
        ]
        if same:
            checks.fail(
                "number_prefix",
                "Tiền tố “%(prefix)s” đã dùng cho “%(other)s”: số sẽ bị trùng.",
                prefix=data.number_prefix,
                other=same[0].name,
            )
    checks.whole("number_width", data.number_width, 1, MAX_WIDTH)
    if uses_range:
        if data.range_start is None or data.range_end is None:
            checks.fail("range_start", "Nhập cả số đầu và số cuối của dải, hoặc để trống cả hai.")
        elif not 1 <= data.range_start <= data.range_end <= MAX_NUMBER:
            checks.fail(
                "range_start",
                "Dải số phải từ 1 đến %(high)d và số đầu không lớn hơn số cuối.",
                high=MAX_NUMBER,
            )
        else:
            for s in others:
                if (
                    s.range_start is not None
                    and s.range_end is not None
                    and (data.range_start <= s.range_end and s.range_start <= data.range_end)
                ):
                    checks.fail(
                        "range_start",
                        "Dải số trùng với lĩnh vực “%(other)s” (%(a)d–%(b)d).",
                        other=s.name,
                        a=s.range_start,
                        b=s.range_end,
                    )
                    break
    checks.whole("daily_cap", data.daily_cap, 1, MAX_NUMBER)
    checks.whole("sort_order", data.sort_order, 0, 9999)
    checks.whole("service_minutes", data.service_minutes, 1, MAX_SERVICE_MINUTES)
    _check_sessions(checks, data.sessions)


def _clean_service(data: ServiceData) -> ServiceData:
    data.code = _clean(data.code)
    data.name = _clean(data.name)
    data.hint = _clean(data.hint)
    data.number_prefix = _clean(data.number_prefix).upper()
    for row in data.sessions:
        row.start, row.end = _clean(row.start), _clean(row.end)
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


def _service_summary(service: Service) -> dict[str, Any]:
    summary = asdict(ServiceData.of(service))
    summary["sessions"] = service.sessions
    return summary


def save_service(
    uow: UnitOfWork, site_code: str, service_id: int | None, data: ServiceData, actor: Actor
) -> int:
    """Add a service (``service_id`` None) or change one; returns its id.

    A service is never deleted (its tickets refer to it): it is deactivated. Its
    code cannot change once tickets were issued, numbers must not collide with
    another service's, and opening sessions of a day must not overlap.
    """
    data = _clean_service(data)
    with uow:
        site = _site(uow.session, site_code)
        current = None
        if service_id is not None:
            current = uow.session.get(Service, service_id)
            if current is None or current.site_id != site.id:
                raise LookupError(service_id)
        checks = _Checks()
        _check_service(checks, uow.session, site, data, current)
        checks.done()
        before = _service_summary(current) if current else {}
        service = current or Service(site_id=site.id)
        _apply_service(service, data)
        uow.session.add(service)
        uow.session.flush()
        audit.record(
            uow.session,
            "service.update" if current else "service.create",
            user_id=actor.user_id,
            site_id=site.id,
            target=service.code,
            detail=_changes(before, _service_summary(service)),
            remote_addr=actor.remote_addr,
        )
        uow.emit(site, SITE_UPDATED, {"changed": "services", "service": service.code})
        new_id = service.id
        _commit(uow, {"code": Problem("Mã “%(code)s” đã được dùng.", {"code": data.code})})
        return new_id


# --- counters ------------------------------------------------------------------------------


@dataclass
class CounterData:
    number: int | None
    name: str = ""
    active: bool = True
    # service id -> weight (1-10); a service left out is not served here.
    weights: dict[int, int] = field(default_factory=dict)


def _bound_devices(session: Session, site_id: int, number: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(ApiToken)
            .where(
                ApiToken.site_id == site_id,
                ApiToken.counter_number == number,
                ApiToken.revoked_at.is_(None),
            )
        ).scalar_one()
    )


def _check_counter(
    checks: _Checks, session: Session, site: Site, data: CounterData, current: Counter | None
) -> None:
    others = [c for c in site.counters if current is None or c.id != current.id]
    if data.number is None:
        checks.fail("number", "Không được để trống.")
    elif not 1 <= data.number <= MAX_COUNTER:
        checks.fail("number", "Nhập một số từ %(low)d đến %(high)d.", low=1, high=MAX_COUNTER)
    elif any(c.number == data.number for c in others):
        checks.fail("number", "Quầy số %(n)d đã có.", n=data.number)
    elif current is not None and current.number != data.number:
        devices = _bound_devices(session, site.id, current.number)
        if devices:
            checks.fail(
                "number",
                "Có %(n)d thiết bị đang gắn với quầy số %(old)d: thu hồi chúng trước khi đổi số.",
                n=devices,
                old=current.number,
            )
    checks.text("name", data.name, limit=200, required=False)
    known = {s.id for s in site.services}
    for service_id, weight in data.weights.items():
        if service_id not in known:
            checks.fail("services", "Lĩnh vực không thuộc đơn vị này.")
        elif weight not in WEIGHTS:
            checks.fail(f"weight-{service_id}", "Trọng số từ 1 đến 10.")
    if current is not None and current.active and not data.active and current.current_ticket_id:
        # The ticket would stay "called" or "serving" at a counter nobody can open any more.
        checks.fail(
            "active",
            "Quầy đang gọi hoặc phục vụ một phiếu; hãy hoàn thành hoặc chuyển phiếu"
            " trước khi ngừng hoạt động.",
        )


def _counter_summary(counter: Counter) -> dict[str, Any]:
    return {
        "number": counter.number,
        "name": counter.name,
        "active": counter.active,
        "services": {link.service.code: link.weight for link in counter.service_links},
    }


def save_counter(
    uow: UnitOfWork, site_code: str, counter_id: int | None, data: CounterData, actor: Actor
) -> int:
    """Add a counter (``counter_id`` None) or change one; returns its id.

    Numbers are unique per site; a number devices are bound to keeps them working,
    so it changes only once they are revoked. A counter with a ticket called or
    being served there stays active until that ticket is finished or transferred.
    Weights: higher is served first.
    """
    data.name = _clean(data.name)
    with uow:
        site = _site(uow.session, site_code)
        current = None
        if counter_id is not None:
            # Locked as the engine locks it (see LOCK in engine.tickets): a call at this
            # counter waits for this change, or this change sees the ticket it called.
            current = uow.session.get(Counter, counter_id, with_for_update={"key_share": True})
            if current is None or current.site_id != site.id:
                raise LookupError(counter_id)
        checks = _Checks()
        _check_counter(checks, uow.session, site, data, current)
        checks.done()
        assert data.number is not None  # checked above
        before = _counter_summary(current) if current else {}
        counter = current or Counter(site_id=site.id)
        counter.number, counter.name, counter.active = data.number, data.name, data.active
        links = {link.service_id: link for link in counter.service_links}
        kept = []
        for service_id, weight in data.weights.items():
            link = links.get(service_id) or CounterService(service_id=service_id)
            link.weight = weight
            kept.append(link)
        counter.service_links = kept
        uow.session.add(counter)
        uow.session.flush()
        audit.record(
            uow.session,
            "counter.update" if current else "counter.create",
            user_id=actor.user_id,
            site_id=site.id,
            target=f"{site.code}/{counter.number}",
            detail=_changes(before, _counter_summary(counter)),
            remote_addr=actor.remote_addr,
        )
        uow.emit(site, SITE_UPDATED, {"changed": "counters", "counter": counter.number})
        new_id = counter.id
        _commit(uow, {"number": Problem("Quầy số %(n)d đã có.", {"n": data.number})})
        return new_id


def audited(uow: UnitOfWork, action: str, **entry: Any) -> UnitOfWork:
    """The unit of work, writing one audit entry in the transaction it commits.

    For engine calls that open their own ``with uow`` (``engine.release``): the
    entry is saved with the change or not at all.
    """
    uow.before_commit(lambda session: audit.record(session, action, at=uow.clock(), **entry))
    return uow


def weekday_names(days: Iterable[int], say: Callable[[str], str] = str) -> str:
    """ "T2, T3" for the days of a session, or "Hằng ngày"; ``say`` translates each word."""
    return ", ".join(say(WEEKDAYS[d]) for d in sorted(days) if d in WEEKDAYS) or say("Hằng ngày")


__all__ = [
    "FIELDS",
    "Actor",
    "CounterData",
    "NewSite",
    "OpeningSession",
    "Problem",
    "ServiceData",
    "SetupError",
    "SiteSettings",
    "audited",
    "create_site",
    "save_counter",
    "save_service",
    "save_settings",
]
