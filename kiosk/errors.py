"""Printing errors: a stable code for programs, a Vietnamese sentence for people.

``PrinterUnavailable`` (offline, unplugged, out of paper, no driver) is the
one a caller must expect on every print: the ticket is already issued, so the
caller shows the number on screen, tells staff, and lets them reprint later.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    "invalid_printer_url": "Địa chỉ máy in “{url}” không hợp lệ: {reason}.",
    "invalid_paper": "Khổ giấy phải là 58 hoặc 80 (mm).",
    "printer_offline": (
        "Không kết nối được máy in {printer} (máy tắt, rút cáp hoặc mất mạng). "
        "Số thứ tự vẫn được giữ, có thể in lại khi máy in hoạt động."
    ),
    "printer_out_of_paper": (
        "Máy in {printer} đã hết giấy. Số thứ tự vẫn được giữ, có thể in lại sau khi thay giấy."
    ),
    "printer_write_failed": (
        "Máy in {printer} gặp lỗi khi đang in. "
        "Số thứ tự vẫn được giữ, có thể in lại khi máy in hoạt động."
    ),
    "printer_driver_missing": (
        "Máy tính này thiếu thư viện để dùng máy in {printer}: cần cài {package}."
    ),
    "invalid_device_settings": "Cấu hình in của thiết bị không hợp lệ: {reason}.",
    "settings_only_for_kiosk": "Chỉ mã truy cập của kiosk mới có máy in và khổ giấy.",
}


class PrintError(Exception):
    """A printing problem with a stable ``code`` and a Vietnamese ``message``."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        template = MESSAGES[code]
        try:
            self.message = template.format(**params)
        except (KeyError, IndexError):
            self.message = template
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.params}


class PrinterUrlError(PrintError, ValueError):
    """The printer URL cannot name a printer: a configuration mistake, found before printing."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__("invalid_printer_url", url=url, reason=reason)


class DeviceSettingsError(PrintError, ValueError):
    """A device's stored print settings cannot be used (see ``kiosk.device_settings``)."""

    def __init__(self, reason: str) -> None:
        super().__init__("invalid_device_settings", reason=reason)


class PrinterUnavailable(PrintError):
    """The printer could not print this ticket now; the ticket itself is not lost."""
