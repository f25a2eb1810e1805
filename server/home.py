"""The start page `/`: what this server offers, and the signed-in person's own pages first."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, render_template
from flask_babel import gettext as _

from .accounts.security import current_staff


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    hint: str


def _links(role: str | None) -> list[Link]:
    counter = Link(
        "/counter/", _("Trang quầy của cán bộ"), _("Chọn quầy, gọi số, hoàn thành hồ sơ.")
    )
    admin = Link(
        "/admin/", _("Quản trị"), _("Đơn vị, lĩnh vực, quầy, tài khoản, thiết bị, nhật ký.")
    )
    devices = [
        Link("/kiosk/", _("Máy lấy số (kiosk)"), _("Cần kết nối thiết bị bằng mã kết nối.")),
        Link("/display/", _("Màn hình sảnh"), _("Cần kết nối thiết bị bằng mã kết nối.")),
        Link("/pair", _("Kết nối thiết bị"), _("Nhập mã kết nối do quản trị viên cấp.")),
    ]
    if role == "clerk":
        return [counter, *devices]
    return [admin, counter, *devices] if role else [counter, admin, *devices]


def home() -> str:
    staff = current_staff()
    return render_template("home.html", staff=staff, pages=_links(staff.role if staff else None))


def init_home(app: Flask) -> None:
    app.add_url_rule("/", "home", home)
