"""The demo commune center: open at all hours, no daily cap, counters 1-5."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import engine
from .accounts.services import create_user, generate_password, set_password
from .engine.errors import QueueError
from .engine.rules import STRICT
from .engine.unit_of_work import UnitOfWork
from .models import Counter, CounterService, Service, Site, User
from .timeutil import DEFAULT_TIMEZONE
from .tokens import create_token

DEMO_SITE = "demo"

# code, name, hint, prefix or (range start, end)
SERVICES: list[tuple[str, str, str, str | tuple[int, int]]] = [
    ("HT", "Hộ tịch", "Đăng ký khai sinh, kết hôn, khai tử", "A"),
    ("CT", "Chứng thực", "Chứng thực bản sao từ bản chính, chữ ký", "B"),
    # A prefix, not a number range: a range is a daily cap (3001-3999 = 999 tickets),
    # and the demo promises none.
    ("DD", "Đất đai", "Đăng ký biến động, cấp giấy chứng nhận", "C"),
    ("TP", "Tư pháp", "Lý lịch tư pháp, hòa giải, trợ giúp pháp lý", "D"),
    ("LD", "Lao động – Thương binh và Xã hội", "Bảo trợ xã hội, người có công", "E"),
    ("TKQ", "Trả kết quả", "Nhận kết quả hồ sơ đã nộp", "F"),
]

# counter number -> {service code: weight}; weight 10 = main duty, 1 = helps out
COUNTERS: dict[int, dict[str, int]] = {
    1: {"HT": 10, "CT": 1},
    2: {"CT": 10, "HT": 1},
    3: {"DD": 10, "TP": 1},
    4: {"TP": 10, "LD": 10},
    5: {"TKQ": 10, "HT": 1, "CT": 1, "DD": 1, "TP": 1, "LD": 1},
}


def seed_demo(session: Session) -> bool:
    """Add the demo site once; an existing one is left as it is. True when created."""
    if session.execute(select(Site.id).where(Site.code == DEMO_SITE)).first():
        return False
    site = Site(
        code=DEMO_SITE,
        name="UBND phường Hồng Hà",
        timezone=DEFAULT_TIMEZONE,
        header_lines=["UBND THÀNH PHỐ HÀ NỘI", "UBND PHƯỜNG HỒNG HÀ", "BỘ PHẬN MỘT CỬA"],
        priority_policy=STRICT,
        priority_every=3,
        # Numbers from home (checked in at the kiosk) and ratings from the phone, to try out.
        remote_enabled=True,
        phone_rating=True,
    )
    session.add(site)
    session.flush()
    services: dict[str, Service] = {}
    for order, (code, name, hint, numbering) in enumerate(SERVICES):
        service = Service(
            site_id=site.id,
            code=code,
            name=name,
            hint=hint,
            sort_order=order,
            remote_enabled=True,
        )
        if isinstance(numbering, tuple):
            service.range_start, service.range_end = numbering
        else:
            service.number_prefix = numbering
            service.number_width = 3
        session.add(service)
        services[code] = service
    session.flush()
    for number, weights in COUNTERS.items():
        counter = Counter(site_id=site.id, number=number, name=f"Quầy {number}")
        counter.service_links = [
            CounterService(service_id=services[code].id, weight=w) for code, w in weights.items()
        ]
        session.add(counter)
    session.commit()
    return True


# The demo kiosk shows the ticket it would print, QR and all, beside the number: a newcomer
# sees it with no printer, and no print dialog stops every tap (kiosk printer "preview").
DEMO_KIOSK_SETTINGS = {"printer": "preview"}


def demo_devices(session: Session) -> dict[str, str]:
    """A new token for each device of the demo: kiosk, counter 1's keypad, display, tablet."""

    return {
        "kiosk": create_token(
            session, DEMO_SITE, "kiosk", label="demo", settings=dict(DEMO_KIOSK_SETTINGS)
        ),
        "clerk": create_token(session, DEMO_SITE, "clerk", counter=1, label="demo"),
        "display": create_token(session, DEMO_SITE, "display", label="demo"),
        "tablet": create_token(session, DEMO_SITE, "tablet", counter=1, label="demo"),
    }


# Staff of the demo: username, full name, role. Their passwords are new on every demo run.
DEMO_STAFF: list[tuple[str, str, str]] = [
    ("quanly", "Trần Thị Quản Lý", "manager"),
    ("canbo1", "Nguyễn Văn An", "clerk"),
    ("canbo2", "Lê Thị Bình", "clerk"),
    ("canbo3", "Phạm Văn Cường", "clerk"),
    ("canbo4", "Hoàng Thị Dung", "clerk"),
    ("canbo5", "Võ Văn Em", "clerk"),
]


def demo_staff_passwords(session: Session, now: datetime) -> dict[str, str]:
    """Make (or keep) the demo's manager and clerks and give each a fresh password to print.

    There is no built-in password: the demo prints the ones it just set.
    """

    passwords: dict[str, str] = {}
    for username, full_name, role in DEMO_STAFF:
        password = generate_password(12)
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session,
                username,
                role,
                password,
                now,
                site_codes=(DEMO_SITE,),
                full_name=full_name,
            )
        else:
            set_password(session, username, password, now)
        passwords[username] = password
    session.commit()
    return passwords


def staff_demo_counters(reads: Callable[[], Session], uow: Callable[[], UnitOfWork]) -> list[int]:
    """Sign demo clerk ``canboN`` in at counter N where both are free; the counters signed.

    Wait estimates count only counters with a clerk signed in (``engine.estimates``): without
    this a newcomer would see "Chưa có quầy phục vụ" everywhere. Logging in as ``canboN``
    opens counter N's page; a counter someone already holds is left as it is.
    """
    with reads() as session:
        site = session.execute(select(Site).where(Site.code == DEMO_SITE)).scalar_one()
        free = [c.number for c in site.counters if c.active and c.clerk_id is None]
        clerks = dict(
            session.execute(
                select(User.username, User.id).where(
                    User.username.in_([f"canbo{n}" for n in free]), User.active.is_(True)
                )
            ).all()
        )
        busy = set(
            session.execute(select(Counter.clerk_id).where(Counter.clerk_id.is_not(None))).scalars()
        )
    signed = []
    for number in free:
        user_id = clerks.get(f"canbo{number}")
        if user_id is None or user_id in busy:
            continue
        try:
            engine.sign_in(uow(), DEMO_SITE, number, user_id, actor="demo")
        except QueueError:  # taken meanwhile: whoever took it stays
            continue
        signed.append(number)
    return signed
