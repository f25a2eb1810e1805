"""Vietnamese text for error codes and vocabularies (the catalog the API speaks from)."""

from __future__ import annotations

from typing import Any

ERRORS: dict[str, str] = {
    "site_not_found": "Không tìm thấy đơn vị “{site}”.",
    "service_not_found": "Không tìm thấy lĩnh vực “{service}”.",
    "counter_not_found": "Không tìm thấy quầy số {counter}.",
    "ticket_not_found": "Không tìm thấy phiếu số thứ tự này.",
    "service_inactive": "Lĩnh vực này hiện không tiếp nhận hồ sơ.",
    "service_closed": "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ.",
    "daily_cap_reached": "Đã hết số hôm nay.",
    "invalid_priority": "Đối tượng ưu tiên không hợp lệ.",
    "invalid_channel": "Kênh lấy số không hợp lệ.",
    "invalid_idempotency_key": "Khóa chống trùng (Idempotency-Key) không hợp lệ.",
    "idempotency_key_reused": "Khóa chống trùng đã được dùng cho một yêu cầu khác.",
    "queue_empty": "Không còn công dân nào đang chờ cho quầy này.",
    "counter_paused": "Quầy đang tạm ngừng phục vụ.",
    "counter_already_paused": "Quầy đã tạm ngừng phục vụ.",
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

PRIORITY_LABELS: dict[str, str] = {
    "elderly": "Người cao tuổi",
    "disabled": "Người khuyết tật",
    "pregnant": "Phụ nữ có thai",
    "young_child": "Người đi cùng trẻ em dưới 6 tuổi",
    "merit": "Người có công với cách mạng",
}

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
