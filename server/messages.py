"""Vietnamese text for error codes and vocabularies (the catalog the API speaks from)."""

from __future__ import annotations

from typing import Any

# The priority groups' names live with the ticket slip that prints them (kiosk/ is the
# library both the server and a kiosk PC load); every page reads them from here.
from kiosk.ticket import PRIORITY_LABELS as PRIORITY_LABELS

ERRORS: dict[str, str] = {
    "site_not_found": "Không tìm thấy đơn vị “{site}”.",
    "service_not_found": "Không tìm thấy lĩnh vực “{service}”.",
    "counter_not_found": "Không tìm thấy quầy số {counter}.",
    "ticket_not_found": "Không tìm thấy phiếu số thứ tự này.",
    "service_inactive": "Lĩnh vực này hiện không tiếp nhận hồ sơ.",
    "service_closed": "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ.",
    "service_unserved": "Chưa có quầy phục vụ lĩnh vực này, nên chưa lấy số được.",
    "daily_cap_reached": "Đã hết số hôm nay.",
    "invalid_priority": "Đối tượng ưu tiên không hợp lệ.",
    "invalid_channel": "Kênh lấy số không hợp lệ.",
    "invalid_idempotency_key": "Khóa chống trùng (Idempotency-Key) không hợp lệ.",
    "idempotency_key_reused": "Khóa chống trùng đã được dùng cho một yêu cầu khác.",
    "queue_empty": "Không còn công dân nào đang chờ cho quầy này.",
    "counter_paused": "Quầy đang tạm dừng phục vụ.",
    "counter_already_paused": "Quầy đã tạm dừng phục vụ.",
    "counter_already_open": "Quầy đang phục vụ.",
    "counter_has_no_ticket": "Quầy chưa gọi số nào.",
    "ticket_at_other_counter": "Phiếu này đang được phục vụ ở quầy khác.",
    "ticket_expired": "Phiếu này thuộc ngày làm việc trước.",
    "invalid_transition": "Không thể thực hiện thao tác này với phiếu ở trạng thái hiện tại.",
    "invalid_dossier_code": "Mã hồ sơ không hợp lệ.",
    "invalid_position": "Vị trí trong hàng chờ không hợp lệ.",
    "transfer_ticket_required": "Cần chọn phiếu cần chuyển.",
    "transfer_target_required": "Cần chọn đúng một nơi chuyển đến: lĩnh vực hoặc quầy.",
    "validation_error": "Dữ liệu gửi lên không hợp lệ.",
    "invalid_json": "Nội dung yêu cầu phải là JSON hợp lệ.",
    "unsupported_media_type": "Nội dung yêu cầu phải có kiểu application/json.",
    "payload_too_large": "Nội dung yêu cầu quá lớn.",
    "bad_request": "Yêu cầu không hợp lệ.",
    "unauthorized": "Cần đăng nhập hoặc mã truy cập hợp lệ.",
    "forbidden": "Bạn không có quyền thực hiện thao tác này.",
    "not_found": "Không tìm thấy địa chỉ yêu cầu.",
    "method_not_allowed": "Phương thức không được hỗ trợ.",
    "internal_error": "Hệ thống gặp lỗi, vui lòng thử lại.",
    "invalid_text": "Dữ liệu gửi lên có ký tự không hợp lệ (ký tự NUL hoặc lỗi mã hóa).",
    "storage_unavailable": (
        "Hệ thống tạm thời không lưu được dữ liệu: {reason}. "
        "Vui lòng báo quản trị viên; thử lại sau ít phút."
    ),
    "hub_unauthorized": "Mã kết nối với trung tâm tỉnh không hợp lệ hoặc đã bị thu hồi.",
    "hub_wrong_site": "Mã kết nối này chỉ được gửi dữ liệu của chính đơn vị mình.",
    "hub_invalid_batch": "Dữ liệu đồng bộ không hợp lệ ở “{field}”: không lưu phần nào của lô này.",
    "hub_gap": "Dữ liệu đồng bộ bị thiếu: trung tâm tỉnh cần gửi tiếp từ số {expected}.",
    "hub_code_not_found": "Mã tham gia trung tâm tỉnh không đúng. Vui lòng kiểm tra lại mã.",
    "hub_code_expired": "Mã tham gia trung tâm tỉnh đã hết hạn. Vui lòng xin mã mới.",
    "hub_bad_site_code": "Mã đơn vị không hợp lệ (1 đến 40 ký tự).",
    "hub_bad_managed": "Nơi quản lý cấu hình phải là “local” (tại đơn vị) hoặc “hub” (tại tỉnh).",
    "hub_managed_at_hub": (
        "Cấu hình của đơn vị này do trung tâm tỉnh quản lý: hãy sửa tại trang quản trị của tỉnh."
    ),
    "remote_paused_offline": (
        "Tạm dừng lấy số từ xa: đơn vị đang mất kết nối với trung tâm tỉnh. "
        "Quý khách vui lòng đến lấy số trực tiếp tại máy lấy số của đơn vị."
    ),
    "invalid_role": "Vai trò “{role}” không hợp lệ.",
    "counter_only_for_clerk": "Chỉ mã truy cập của cán bộ hoặc máy đánh giá mới gắn với một quầy.",
    "csrf_invalid": "Phiên làm việc đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang.",
    "counter_sign_in_required": "Vui lòng chọn quầy làm việc trước khi thao tác.",
    "counter_taken": "Quầy số {counter} đang do cán bộ {clerk} làm việc.",
    "too_many_requests": "Thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại.",
    "not_staff_of_site": "Tài khoản này không làm việc tại đơn vị “{site}”.",
    "staff_login_required": "Thao tác này cần cán bộ đăng nhập trên trang quầy.",
    "take_over_not_allowed": "Chỉ quản lý mới được nhận thay quầy của cán bộ khác.",
    "socket_unauthorized": "Thiết bị chưa được cấp mã truy cập hợp lệ.",
    "pairing_code_not_found": "Mã kết nối không đúng. Vui lòng kiểm tra lại mã.",
    "pairing_code_used": "Mã kết nối này đã được sử dụng. Vui lòng xin mã mới.",
    "pairing_code_expired": "Mã kết nối đã hết hạn. Vui lòng xin mã mới.",
    "token_not_found": "Không tìm thấy mã truy cập số {token}.",
    "counter_required_for_tablet": "Mã truy cập của máy đánh giá phải gắn với một quầy.",
    "already_rated": "Phiếu này đã được đánh giá.",
    "rating_not_allowed": "Chỉ đánh giá được phiếu vừa được giải quyết xong tại quầy này.",
    "invalid_score": "Mức đánh giá phải từ 1 đến {scale}.",
    "invalid_rating_reason": "Lý do đánh giá không hợp lệ.",
    "reasons_need_low_score": "Chỉ chọn lý do khi chưa hài lòng.",
    "report_date_required": "Cần nhập ngày “{field}” theo dạng YYYY-MM-DD.",
    "report_bad_date": (
        "Ngày “{field}” không hợp lệ: “{value}” (cần dạng YYYY-MM-DD, ví dụ 2026-12-01)."
    ),
    "report_range_reversed": "Ngày bắt đầu (from) phải trước hoặc trùng ngày kết thúc (to).",
    "report_range_too_long": "Mỗi báo cáo chỉ tính tối đa {days} ngày.",
    "report_bad_group": (
        "Cách nhóm “{group}” không hợp lệ (service, counter, clerk, hour, day hoặc site)."
    ),
    "report_bad_format": "Định dạng “{format}” không hợp lệ (json, csv hoặc xlsx).",
    "report_bad_period": "Khoảng thời gian “{period}” không hợp lệ.",
    "report_unknown_parameter": "Tham số “{name}” không được hỗ trợ.",
    "phone_rating_off": "Đơn vị này chưa nhận đánh giá qua điện thoại.",
    "invalid_phone": "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).",
    "remote_disabled": "Lĩnh vực này không nhận lấy số từ xa.",
    "remote_share_reached": "Đã hết số lấy từ xa hôm nay. Vui lòng đến lấy số tại máy lấy số.",
    "phone_limit_reached": "Mỗi số điện thoại chỉ được lấy {limit} số mỗi ngày.",
    "invalid_check_in": "Mã xác nhận gồm 6 chữ số.",
    "check_in_not_found": "Không tìm thấy số lấy từ xa với mã này.",
    "already_checked_in": "Số {number} đã có trong hàng chờ, vui lòng chờ gọi số.",
}

# One field of a request body that failed validation (pydantic error types).
FIELD_ERRORS: dict[str, str] = {
    "missing": "Thiếu trường bắt buộc.",
    "extra_forbidden": "Trường này không được hỗ trợ.",
    "model_type": "Nội dung phải là một đối tượng JSON.",
    "string_type": "Phải là chuỗi ký tự.",
    "int_type": "Phải là số nguyên.",
    "string_too_short": "Cần ít nhất {min_length} ký tự.",
    "string_too_long": "Tối đa {max_length} ký tự.",
    "string_pattern_mismatch": "Có ký tự không được phép.",
    "greater_than_equal": "Phải lớn hơn hoặc bằng {ge}.",
    "less_than_equal": "Phải nhỏ hơn hoặc bằng {le}.",
    "literal_error": "Phải là một trong các giá trị: {expected}.",
}
FIELD_ERROR_DEFAULT = "Giá trị không hợp lệ."


# Why a citizen was not satisfied (codes in server.engine.ratings.REASONS).
RATING_REASONS: dict[str, str] = {
    "waited_long": "Chờ lâu",
    "unclear": "Hướng dẫn chưa rõ",
    "attitude": "Thái độ chưa tốt",
    "slow": "Giải quyết chậm",
    "other": "Khác",
}

# The levels of each rating scale, best first: score = scale for the first label, 1 for the last.
RATING_LEVELS: dict[int, tuple[str, ...]] = {
    3: ("Hài lòng", "Bình thường", "Không hài lòng"),
    4: ("Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"),
    5: ("Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"),
}


def error_text(code: str, params: dict[str, Any] | None = None) -> str:
    template = ERRORS.get(code, ERRORS["internal_error"])
    try:
        return template.format(**(params or {}))
    except (KeyError, IndexError):
        return template


def field_error_text(kind: str, context: dict[str, Any] | None = None) -> str:
    template = FIELD_ERRORS.get(kind, FIELD_ERROR_DEFAULT)
    try:
        return template.format(**(context or {}))
    except (KeyError, IndexError):
        return template
