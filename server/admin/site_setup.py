"""Setting up a center: its sites and their settings (no Flask here).

Each use case is one transaction (``setup_checks``): every field is checked first, then the
change, its audit entry and a ``site.updated`` message are saved together, so kiosks and
displays re-read the site at once. Services and counters: ``service_setup`` and
``counter_setup``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from zoneinfo import available_timezones

from sqlalchemy import select

from sounds.announce import TemplateError, parse_template
from sounds.voice_options import (
    DEFAULT_READING,
    DEFAULT_REPEAT,
    DEFAULT_THOUSAND,
    DEFAULT_ZERO_HUNDRED,
    READINGS,
    REPEATS,
    THOUSANDS,
    ZERO_HUNDREDS,
)

from ..engine.ratings import SCALES
from ..engine.rules import (
    ARRIVALS,
    CHECK_IN,
    PRIORITY_POLICIES,
    STRICT,
    UNSTARTED_NO_SHOW,
    UNSTARTED_ON_NEXT,
)
from ..engine.unit_of_work import UnitOfWork
from ..models import Site
from ..timeutil import DEFAULT_TIMEZONE
from . import setup_checks as setup
from .setup_checks import ChangeAuthor, Checks, Problem

SITE_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
MAX_HEADER_LINES = 5
MAX_HEADER_LINE = 60
MAX_FOOTER = 500
MAX_TEMPLATE = 300
MAX_PRIORITY_EVERY = 20
MAX_WAIT_TARGET_MIN = 240
MAX_SOON = 50
MAX_PER_PHONE = 20
MAX_RETENTION_DAYS = 365
MAX_TIMEZONE = 64


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_names() -> list[str]:
    """The zones a site may use (Asia first: every site so far is in Việt Nam)."""
    names = sorted(_zones())
    return [n for n in names if n.startswith("Asia/")] + [
        n for n in names if not n.startswith("Asia/")
    ]


def _check_timezone(checks: Checks, value: str) -> None:
    if not value:
        checks.fail("timezone", "Không được để trống.")
        return
    # A name of the zone database, not any path ZoneInfo would try to open: a long one
    # failed with OSError (file name too long), a 500.
    if len(value) > MAX_TIMEZONE or value not in _zones():
        checks.fail("timezone", "Múi giờ không hợp lệ (ví dụ: %(zone)s).", zone=DEFAULT_TIMEZONE)


# --- sites -----------------------------------------------------------------------------


@dataclass
class NewSite:
    code: str
    name: str
    timezone: str = DEFAULT_TIMEZONE


def create_site(uow: UnitOfWork, data: NewSite, author: ChangeAuthor) -> str:
    """Add a site (an admin's action); its code is its address and never changes. Returns it."""
    code, name, tz = (
        setup.clean(data.code).lower(),
        setup.clean(data.name),
        setup.clean(data.timezone),
    )
    with uow:
        checks = Checks()
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
        setup.record(
            uow,
            author,
            site,
            "site.create",
            target=code,
            detail={"name": name, "timezone": tz},
            message={"changed": "site"},
        )
        setup.commit_refusing(
            uow, {"code": Problem("Mã đơn vị “%(code)s” đã được dùng.", {"code": code})}
        )
        return code


# --- site settings -----------------------------------------------------------------------


@dataclass
class SiteSettings:
    name: str
    timezone: str
    header_lines: list[str]
    ticket_footer: str
    announcement_template: str
    reading: str = DEFAULT_READING
    zero_hundred: str = DEFAULT_ZERO_HUNDRED
    thousand: str = DEFAULT_THOUSAND
    repeat: int = DEFAULT_REPEAT
    priority_policy: str = STRICT
    priority_every: int = 3
    rating_scale: int = 4
    wait_target_min: int = 15
    # The citizen's phone and numbers from home.
    soon_threshold: int = 3
    phone_rating: bool = False
    remote_enabled: bool = False
    remote_arrival: str = CHECK_IN
    remote_per_phone: int = 2
    phone_retention_days: int = 30
    # Call-next on a ticket called but never started (engine.tickets._end_current).
    unstarted_on_next: str = UNSTARTED_NO_SHOW

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
            reading=str(voice.get("reading"))
            if voice.get("reading") in READINGS
            else DEFAULT_READING,
            zero_hundred=voice.get("zero_hundred", DEFAULT_ZERO_HUNDRED),
            thousand=voice.get("thousand", DEFAULT_THOUSAND),
            repeat=repeat if repeat in REPEATS else DEFAULT_REPEAT,
            priority_policy=site.priority_policy,
            priority_every=site.priority_every,
            rating_scale=site.rating_scale,
            wait_target_min=site.wait_target_min,
            soon_threshold=site.soon_threshold,
            phone_rating=site.phone_rating,
            remote_enabled=site.remote_enabled,
            remote_arrival=site.remote_arrival,
            remote_per_phone=site.remote_per_phone,
            phone_retention_days=site.phone_retention_days,
            unstarted_on_next=site.unstarted_on_next,
        )


def split_lines(text: str) -> list[str]:
    """A textarea's lines, trimmed, blank ones left out."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def save_settings(
    uow: UnitOfWork, site_code: str, data: SiteSettings, author: ChangeAuthor
) -> None:
    """Save a site's settings; the template must parse the way the voice will read it."""
    name, tz = setup.clean(data.name), setup.clean(data.timezone)
    lines = [line.strip() for line in data.header_lines if line.strip()]
    footer, template = setup.clean(data.ticket_footer), setup.clean(data.announcement_template)
    checks = Checks()
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
        ("priority_policy", data.priority_policy, PRIORITY_POLICIES),
        ("remote_arrival", data.remote_arrival, ARRIVALS),
        ("unstarted_on_next", data.unstarted_on_next, UNSTARTED_ON_NEXT),
    ):
        if value not in allowed:
            checks.fail(name_, "Hãy chọn một trong các giá trị có sẵn.")
    if data.repeat not in REPEATS:
        checks.fail(
            "repeat", "Nhập một số từ %(low)d đến %(high)d.", low=REPEATS[0], high=REPEATS[-1]
        )
    checks.whole("priority_every", data.priority_every, 1, MAX_PRIORITY_EVERY)
    checks.whole("soon_threshold", data.soon_threshold, 0, MAX_SOON)
    checks.whole("remote_per_phone", data.remote_per_phone, 1, MAX_PER_PHONE)
    checks.whole("phone_retention_days", data.phone_retention_days, 1, MAX_RETENTION_DAYS)
    if data.rating_scale not in SCALES:
        checks.fail("rating_scale", "Thang đánh giá phải là 3, 4 hoặc 5 mức.")
    checks.whole("wait_target_min", data.wait_target_min, 1, MAX_WAIT_TARGET_MIN)
    checks.done()
    with uow:
        site = setup.site_by_code(uow.session, site_code)
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
        site.wait_target_min = data.wait_target_min
        site.soon_threshold, site.phone_rating = data.soon_threshold, data.phone_rating
        site.remote_enabled, site.remote_arrival = data.remote_enabled, data.remote_arrival
        site.remote_per_phone = data.remote_per_phone
        site.phone_retention_days = data.phone_retention_days
        site.unstarted_on_next = data.unstarted_on_next
        changed = setup.changes(before, asdict(SiteSettings.of(site)))
        setup.record(
            uow,
            author,
            site,
            "site.settings",
            target=site.code,
            detail=changed,
            message={"changed": "settings"},
        )
        uow.commit()
