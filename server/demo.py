"""The demo commune center: open at all hours, no daily cap, counters 1-5."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Counter, CounterService, Service, Site, User

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
        timezone="Asia/Ho_Chi_Minh",
        header_lines=["UBND THÀNH PHỐ HÀ NỘI", "UBND PHƯỜNG HỒNG HÀ", "BỘ PHẬN MỘT CỬA"],
        priority_policy="strict",
        priority_every=3,
    )
    session.add(site)
    session.flush()
    services: dict[str, Service] = {}
    for order, (code, name, hint, numbering) in enumerate(SERVICES):
        service = Service(site_id=site.id, code=code, name=name, hint=hint, sort_order=order)
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


# Staff of the demo: username, full name, role. Their passwords are new on every demo run.
DEMO_STAFF: list[tuple[str, str, str]] = [
    ("quanly", "Trần Thị Quản Lý", "manager"),
    ("canbo1", "Nguyễn Văn An", "clerk"),
    ("canbo2", "Lê Thị Bình", "clerk"),
]


def demo_staff_passwords(session: Session, now: datetime) -> dict[str, str]:
    """Make (or keep) the demo's manager and clerks and give each a fresh password to print.

    There is no built-in password: the demo prints the ones it just set.
    """
    from .accounts.services import create_user, generate_password, reset_password

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
            reset_password(session, username, password, now)
        passwords[username] = password
    session.commit()
    return passwords
