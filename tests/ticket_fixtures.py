"""Sample tickets for the rendering and printing tests, and a QR reader."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import zxingcpp
from PIL import Image

from kiosk.ticket import TicketSlip

TRACKING = "https://xephang.example.vn/t/Zm9vYmFyLWJhei1xdXV4LTEy"
HEADER = ("UBND THÀNH PHỐ HẢI PHÒNG", "UBND PHƯỜNG HỒNG BÀNG", "BỘ PHẬN MỘT CỬA")

BIRTHS = "Đăng ký khai sinh, kết hôn, khai tử"
COPIES = "Chứng thực bản sao từ bản chính"
VERY_LONG = (
    "Đăng ký khai sinh, kết hôn, khai tử, nhận cha, mẹ, con, thay đổi, cải chính, "
    "bổ sung thông tin hộ tịch và xác nhận tình trạng hôn nhân cho công dân "
    "Việt Nam cư trú ở nước ngoài trở về nước làm thủ tục"
)
SERVICE_NAMES = [BIRTHS, COPIES, VERY_LONG, "Lao động – Thương binh và Xã hội", "Đất đai"]

SAMPLE = TicketSlip(
    number="A007",
    service_name=BIRTHS,
    issued_at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),  # 09:05 in Hà Nội
    site_name="UBND phường Hồng Bàng",
    header_lines=HEADER,
    people_ahead=12,
    estimated_wait_s=1830,
    priority="Người cao tuổi",
    tracking_url=TRACKING,
    footer=(
        "Vui lòng giữ phiếu và chờ gọi số.",
        "Đường dây nóng: 0225 3842 119 – ngoài giờ hành chính",
    ),
)


def slip(**changes: Any) -> TicketSlip:
    return replace(SAMPLE, **changes)


def read_qr(image: Image.Image) -> list[str]:
    """The texts of every QR code zxing-cpp finds in the image."""
    return [code.text for code in zxingcpp.read_barcodes(image.convert("L"))]


def is_blank(image: Image.Image) -> bool:
    """No black dot at all (mode "1": black is 0)."""
    return image.convert("L").getextrema()[0] == 255
