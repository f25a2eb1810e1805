"""Every sentence the kiosk page shows, in Vietnamese (the message id) and from the catalog.

The page is rendered in the device's language, and it also carries this table
in both languages so the "English" button switches at once, without a page
load that could fail on a flaky network and leave a blank screen.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext

from server.engine.rules import PRIORITY_REASONS
from server.i18n import LANGUAGES
from server.messages import PRIORITY_LABELS

# key -> Vietnamese text (the catalog's message id); {name} placeholders are
# filled in by the page's script.
TEXTS: dict[str, str] = {
    "page_title": "Lấy số thứ tự",
    "choose_service": "Chạm vào lĩnh vực để lấy số thứ tự",
    "choose_service_priority": "Chọn lĩnh vực cần giải quyết",
    "language_button": "English",
    "priority_button": "Ưu tiên",
    "priority_hint": "Người cao tuổi, người khuyết tật, phụ nữ có thai, …",
    "priority_title": "Chọn đối tượng ưu tiên",
    "priority_selected": "Ưu tiên: {label}",
    "priority_cancel": "Bỏ ưu tiên",
    "back": "Quay lại",
    "waiting": "Đang chờ: {n}",
    "wait_estimate": "Chờ {duration}",
    "wait_none": "Không phải chờ",
    # No counter open with a clerk signed in now (a ticket is still taken and called later).
    "wait_no_counter": "Chưa có quầy phục vụ",
    "duration_under_minute": "dưới 1 phút",
    "duration_minutes": "khoảng {m} phút",
    "duration_hours": "khoảng {h} giờ",
    "duration_hours_minutes": "khoảng {h} giờ {m} phút",
    "service_closed": "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ",
    "service_full": "Đã hết số hôm nay",
    "service_inactive": "Lĩnh vực này hiện không tiếp nhận hồ sơ",
    # No active counter serves the service: no ticket is given (the button is disabled).
    "service_unserved": "Chưa có quầy phục vụ",
    "no_services": "Hiện chưa có lĩnh vực nào để lấy số.",
    "issuing": "Đang lấy số, vui lòng chờ…",
    "your_number": "Số thứ tự của bạn",
    "people_ahead": "Số người chờ trước: {n}",
    "estimated_wait": "Thời gian chờ dự kiến: {duration}",
    "keep_ticket": "Vui lòng giữ phiếu và chờ gọi số",
    "wait_for_call": "Vui lòng chờ gọi số",
    "take_ticket": "Vui lòng nhận phiếu ở khay máy in",
    "printing": "Đang in phiếu…",
    "remember_number": "Vui lòng ghi nhớ số của bạn",
    # printer "preview": the ticket is shown beside the number, not printed
    "preview": "Máy này chỉ hiện phiếu, không in: vui lòng ghi nhớ số của bạn",
    "preview_title": "Phiếu in ra sẽ như sau",
    "printer_failed": "Máy in đang gặp sự cố, vui lòng ghi nhớ số của bạn",
    "done": "Xong",
    "returning": "Tự động quay lại sau {n} giây",
    "issue_failed": "Chưa lấy được số. Vui lòng thử lại hoặc hỏi cán bộ hướng dẫn.",
    "not_paired": "Máy lấy số chưa được kết nối với hệ thống. Vui lòng báo cán bộ.",
    "offline": "Mất kết nối máy chủ. Đang kết nối lại…",
    # Numbers taken from home: checking in, and following a number on the phone.
    "check_in_button": "Đã lấy số từ xa? Xác nhận đã đến",
    "check_in_title": "Nhập mã xác nhận 6 chữ số trên điện thoại, hoặc đưa mã QR vào máy quét",
    "key_clear": "Xóa bớt",
    "key_ok": "Xác nhận",
    "checked_in": "Đã xác nhận bạn đã đến. Vui lòng chờ gọi số",
    "check_in_not_found": "Không tìm thấy số lấy từ xa với mã này.",
    "already_checked_in": "Số này đã có trong hàng chờ, vui lòng chờ gọi số.",
    "check_in_expired": "Số này thuộc ngày làm việc trước.",
    "follow_on_phone": "Quét mã để theo dõi lượt trên điện thoại",
    # The idle screen shows this in both languages at once.
    "idle_title": "Chạm vào màn hình để lấy số thứ tự",
}

# Refusals the page explains in its own words (in either language); any other
# problem shows ``issue_failed``.
REFUSALS: dict[str, str] = {
    "service_closed": "service_closed",
    "daily_cap_reached": "service_full",
    "service_inactive": "service_inactive",
    "service_unserved": "service_unserved",
    "service_not_found": "service_inactive",
    "check_in_not_found": "check_in_not_found",
    "invalid_check_in": "check_in_not_found",
    "ticket_not_found": "check_in_not_found",
    "already_checked_in": "already_checked_in",
    "ticket_expired": "check_in_expired",
    "unauthorized": "not_paired",
    "forbidden": "not_paired",
}


def page_texts(language: str) -> dict[str, str]:
    """The page's sentences in one language (Vietnamese is the text itself)."""
    with force_locale(language):
        return {key: gettext(text) for key, text in TEXTS.items()}


def priority_choices(language: str) -> list[dict[str, str]]:
    """The priority reasons of the engine, each with its label in ``language``."""
    with force_locale(language):
        return [
            {"code": code, "label": gettext(PRIORITY_LABELS.get(code, code))}
            for code in PRIORITY_REASONS
        ]


def all_texts() -> dict[str, Any]:
    """Both languages, for the page's script: ``{"vi": {...}, "en": {...}}``."""
    return {
        lang: {
            "text": page_texts(lang),
            "priorities": {p["code"]: p["label"] for p in priority_choices(lang)},
        }
        for lang in LANGUAGES
    }
