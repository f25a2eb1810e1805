"""What people read about a print: the citizen at the kiosk, and staff when it failed."""

from __future__ import annotations

# First sentence on the kiosk screen, by error code; the ticket is always kept.
SCREEN_PROBLEM = {
    "printer_out_of_paper": "Máy in đã hết giấy nên chưa in được phiếu.",
    "printer_offline": "Máy in chưa sẵn sàng nên chưa in được phiếu.",
}
SCREEN_PROBLEM_DEFAULT = "Máy in đang gặp sự cố nên chưa in được phiếu."
SCREEN_KEEP = (
    "Số thứ tự của bạn vẫn được giữ: vui lòng ghi nhớ số trên màn hình, "
    "cán bộ sẽ in lại phiếu khi cần."
)
QUEUED_TEXT = "Phiếu đang được in, vui lòng nhận phiếu ở khay máy in."
UNCONFIRMED_TEXT = (
    "Máy in chưa xác nhận đã in phiếu. Nếu không thấy phiếu ở khay, "
    "vui lòng ghi nhớ số thứ tự trên màn hình."
)
NO_PRINTER_TEXT = "Kiosk này không in phiếu: vui lòng ghi nhớ số thứ tự trên màn hình."

# What went wrong, for staff, when the kiosk agent sent only an error code.
STAFF_DETAIL = {
    "printer_offline": "Máy in không kết nối được (máy tắt, rút cáp hoặc mất mạng).",
    "printer_out_of_paper": "Máy in đã hết giấy.",
    "printer_write_failed": "Máy in gặp lỗi khi đang in.",
    "printer_driver_missing": "Máy tính kiosk thiếu thư viện điều khiển máy in.",
    "invalid_print_job": "Máy kiosk không đọc được lệnh in (phiên bản phần mềm khác nhau?).",
    "invalid_device_settings": "Cấu hình in của kiosk không hợp lệ.",
    "invalid_printer_url": "Địa chỉ máy in trong cấu hình của kiosk không hợp lệ.",
    "print_error": "Phần mềm gặp lỗi khi in (xem nhật ký của máy chủ hoặc kiosk agent).",
    "printer_no_answer": (
        "Máy in nhận kết nối nhưng không trả lời truy vấn trạng thái sau khi in: "
        "có thể phiếu chưa được in (máy treo, kẹt giấy hoặc không đọc dữ liệu)."
    ),
}
STAFF_REPRINT = "Có thể in lại bằng lệnh `xephang print-jobs --retry` hoặc `xephang print-ticket`."


def screen_text(code: str) -> str:
    """The kiosk screen's message when the ticket was issued but not printed."""
    return f"{SCREEN_PROBLEM.get(code, SCREEN_PROBLEM_DEFAULT)} {SCREEN_KEEP}"


def device_name(label: str | None, device_id: int) -> str:
    return f"“{label}”" if label else f"#{device_id}"


def staff_text(code: str, detail: str | None, *, device: str, number: str | None) -> str:
    """Staff's message: which kiosk, which ticket, what the printer said, how to reprint."""
    what = detail or STAFF_DETAIL.get(code) or f"Máy in báo lỗi “{code}”."
    ticket = f" phiếu {number}" if number else " phiếu"
    return f"Kiosk {device} chưa in được{ticket}. {what} {STAFF_REPRINT}"
