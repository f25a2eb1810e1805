"""Every sentence the phone pages' scripts show: the Vietnamese is the message id.

The page is drawn in one language (``?lang=en`` switches, as on every page); its script gets
this table in that language, and fills in the ``{placeholders}`` itself.
"""

from __future__ import annotations

from flask_babel import gettext

from server.engine.rules import PRIORITY_REASONS
from server.messages import ERRORS, PRIORITY_LABELS

TEXTS: dict[str, str] = {
    "your_number": "Số thứ tự của bạn",
    "waiting": "Đang chờ đến lượt",
    "people_ahead": "Còn {n} người trước bạn",
    "next_up": "Bạn là người tiếp theo",
    "estimated_wait": "Thời gian chờ dự kiến: {duration}",
    "no_counter": "Chưa có quầy nào đang phục vụ lĩnh vực này",
    "soon": "Sắp đến lượt của bạn — vui lòng có mặt gần khu vực quầy",
    "waiting_here": "Đang chờ ở lĩnh vực này: {n} người",
    "called": "Mời bạn đến quầy {counter}",
    "recalled": "Gọi lại lần {n}",
    "serving": "Đang được phục vụ tại quầy {counter}",
    "done": "Đã giải quyết xong. Cảm ơn bạn!",
    "rate_question": "Bạn có hài lòng với việc giải quyết hồ sơ vừa rồi?",
    "reasons_question": "Điều gì làm bạn chưa hài lòng? (có thể chọn nhiều)",
    "send": "Gửi đánh giá",
    "rated": "Cảm ơn bạn đã đánh giá!",
    "rate_failed": "Chưa gửi được đánh giá, vui lòng thử lại.",
    "no_show": "Bạn đã vắng mặt: đến quầy {counter} để được gọi lại",
    "no_show_no_counter": "Bạn đã vắng mặt: đến quầy để được gọi lại",
    "requeued": "Số của bạn đã được đưa trở lại hàng chờ",
    "transferred_service": "Số của bạn đã được chuyển sang lĩnh vực {service}",
    "transferred_counter": "Số của bạn đã được chuyển đến quầy {counter}",
    "cancelled": "Số này đã bị hủy",
    "past_day": "Phiếu của ngày {day}, đã hết hiệu lực",
    "remote": "Số lấy từ xa: chưa vào hàng chờ",
    "check_in_how": "Khi đến nơi, quét mã QR này tại máy lấy số hoặc nhập mã xác nhận",
    "remote_queue": "Hiện có {n} người đang chờ",
    "remote_wait": "Nếu đến bây giờ: chờ {duration}",
    "checked_in": "Đã xác nhận bạn đã đến",
    "duration_under_minute": "dưới 1 phút",
    "duration_minutes": "khoảng {m} phút",
    "duration_hours": "khoảng {h} giờ",
    "duration_hours_minutes": "khoảng {h} giờ {m} phút",
    "priority": "Ưu tiên: {label}",
    "offline": "Mất kết nối — đang thử lại…",
    "polling": "Đang cập nhật định kỳ (kết nối trực tiếp bị chặn)",
    "notify_button": "Báo cho tôi khi đến lượt",
    "notify_on": "Sẽ báo khi đến lượt (giữ trang này mở)",
    "notify_denied": "Trình duyệt đã chặn thông báo",
    "notify_title": "Đến lượt số {number}",
    "sound_button": "Bật âm thanh khi đến lượt",
    "sound_on": "Đã bật âm thanh",
    "not_found": "Phiếu này không còn được theo dõi. Vui lòng hỏi cán bộ hướng dẫn.",
}


def page_texts() -> dict[str, str]:
    """The table in the page's language."""
    return {key: gettext(text) for key, text in TEXTS.items()}


def priority_labels() -> dict[str, str]:
    return {code: gettext(PRIORITY_LABELS.get(code, code)) for code in PRIORITY_REASONS}


def error_message(code: str, params: dict[str, object] | None = None) -> str:
    """A refusal of the engine in the page's language (server.messages.ERRORS are the ids)."""

    template = gettext(ERRORS.get(code, ERRORS["internal_error"]))
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError):
        return template
