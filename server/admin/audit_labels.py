"""What the audit log page says of an entry: its action and its detail, in words.

An entry keeps a stable code (``login.success``) and its detail as JSON; the page shows
"Đăng nhập thành công" and "Vai trò: Màn hình hiển thị; Quầy: 1", not the code and the JSON.
A code or a key this module does not know yet is shown as it is, never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from .people_forms import DEVICE_ROLE_LABELS, ROLE_LABELS
from .service_setup import weekday_names

ACTION_LABELS = {
    "login.success": _l("Đăng nhập thành công"),
    "login.failure": _l("Đăng nhập không thành công"),
    "login.lockout": _l("Tài khoản bị tạm khóa"),
    "logout": _l("Đăng xuất"),
    "user.create": _l("Tạo tài khoản"),
    "user.update": _l("Sửa tài khoản"),
    "user.activate": _l("Mở lại tài khoản"),
    "user.deactivate": _l("Khóa tài khoản"),
    "user.unlock": _l("Mở khóa đăng nhập"),
    "user.password_reset": _l("Đặt lại mật khẩu"),
    "site.create": _l("Tạo đơn vị"),
    "site.settings": _l("Sửa cài đặt đơn vị"),
    "service.create": _l("Thêm lĩnh vực"),
    "service.update": _l("Sửa lĩnh vực"),
    "counter.create": _l("Thêm quầy"),
    "counter.update": _l("Sửa quầy"),
    "counter.release": _l("Giải phóng quầy"),
    "device.code": _l("Tạo mã kết nối thiết bị"),
    "device.code_cancel": _l("Hủy mã kết nối thiết bị"),
    "device.revoke": _l("Thu hồi thiết bị"),
}

# Actions whose detail is {field: [before, after]}.
CHANGE_ACTIONS = frozenset(
    {
        "site.settings",
        "service.create",
        "service.update",
        "counter.create",
        "counter.update",
        "user.update",
    }
)

FIELD_LABELS = {
    "role": _l("Vai trò"),
    "sites": _l("Đơn vị"),
    "counter": _l("Quầy"),
    "label": _l("Tên gọi"),
    "settings": _l("Cài đặt"),
    "printer": _l("Máy in"),
    "paper": _l("Khổ giấy"),
    "code_id": _l("Mã kết nối số"),
    "reason": _l("Lý do"),
    "failures": _l("Số lần sai liên tiếp"),
    "full_name": _l("Họ và tên"),
    "photo_url": _l("Ảnh"),
    "active": _l("Đang dùng"),
    "name": _l("Tên"),
    "timezone": _l("Múi giờ"),
    "header_lines": _l("Dòng đầu phiếu"),
    "ticket_footer": _l("Dòng cuối phiếu"),
    "announcement_template": _l("Câu gọi số"),
    "reading": _l("Cách đọc số"),
    "zero_hundred": _l("Đọc số 0 hàng chục"),
    "thousand": _l("Đọc hàng nghìn"),
    "repeat": _l("Số lần đọc"),
    "priority_policy": _l("Thứ tự ưu tiên"),
    "priority_every": _l("Một phiếu ưu tiên sau mỗi"),
    "rating_scale": _l("Thang đánh giá"),
    "code": _l("Mã"),
    "hint": _l("Mô tả ngắn"),
    "number_prefix": _l("Chữ đầu số"),
    "number_width": _l("Số chữ số"),
    "range_start": _l("Số đầu"),
    "range_end": _l("Số cuối"),
    "daily_cap": _l("Số phiếu tối đa mỗi ngày"),
    "sessions": _l("Giờ tiếp nhận"),
    "sort_order": _l("Thứ tự"),
    "service_minutes": _l("Phút phục vụ một phiếu"),
    "number": _l("Số quầy"),
    "services": _l("Lĩnh vực (trọng số)"),
    "start": _l("Từ"),
    "end": _l("Đến"),
    "days": _l("Ngày"),
}

REASONS = {
    "unknown": _l("không có tài khoản này"),
    "locked": _l("tài khoản đang tạm khóa"),
    "password": _l("sai mật khẩu"),
}

EMPTY = "—"


def action_label(action: str) -> str:
    """The action in words; an action this page does not know yet, as its code."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def action_choices(actions: list[str]) -> list[tuple[str, str]]:
    """(code, words) for the filter, in the order of the words."""
    return sorted(((a, action_label(a)) for a in actions), key=lambda pair: pair[1].lower())


def _field(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key


def _value(action: str, key: str, value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return gettext("có") if value else gettext("không")
    if key == "role" and isinstance(value, str):
        roles = DEVICE_ROLE_LABELS if action.startswith("device.") else ROLE_LABELS
        return str(roles.get(value, value))
    if key == "reason" and isinstance(value, str):
        return str(REASONS.get(value, value))
    if key == "sessions" and isinstance(value, list):
        return "; ".join(_opening(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{_field(str(k))}: {_value(action, str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_value(action, key, item) for item in value)
    return str(value)


def _opening(session: Any) -> str:
    """An opening session as the service form shows it: "07:30–11:30 (T2, T3)"."""
    if not isinstance(session, Mapping):
        return str(session)
    days = session.get("days") or []
    named = weekday_names((d for d in days if isinstance(d, int)), gettext)
    return f"{session.get('start', '')}–{session.get('end', '')} ({named})"


def detail_items(action: str, detail: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, text) of an entry's detail; a change reads "before → after"."""
    items = []
    for key, value in detail.items():
        is_change = isinstance(value, list | tuple) and len(value) == 2
        if action in CHANGE_ACTIONS and is_change:
            before, after = value
            text = _value(action, key, after)
            if before is not None:
                text = f"{_value(action, key, before)} → {text}"
        else:
            text = _value(action, key, value)
        items.append((_field(key), text))
    return items
