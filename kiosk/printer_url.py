"""A printer is named by one URL; this module reads it, or says in Vietnamese what is wrong.

    usb://VID:PID[?in_ep=0x82&out_ep=0x01&timeout=10&status=1]
    tcp://HOST[:9100][?timeout=10&status=1]
    serial:///dev/ttyUSB0[?baudrate=9600&timeout=10&status=1]
    file:///dev/usb/lp0            raw ESC/POS bytes written to any path
    cups://NAME                    a CUPS queue, sent raw
    browser                        the kiosk page prints through the browser
    none                           no printing

``timeout`` is in seconds; ``status=0`` skips the paper-status query for a
printer that never answers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from .errors import PrinterUrlError

# The --printer option's help, for `xephang print-ticket` and `xephang kiosk-agent`.
PRINTER_HELP = (
    "Máy in: usb://VID:PID, tcp://HOST:9100, serial:///dev/ttyUSB0?baudrate=9600, "
    "file:///dev/usb/lp0, cups://TÊN."
)

DEVICE_KINDS = ("usb", "tcp", "serial", "file", "cups")
WORD_KINDS = ("browser", "none")
DEFAULT_TCP_PORT = 9100
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 300.0
USB_IDS = re.compile(r"^(?:0x)?([0-9a-f]{1,4}):(?:0x)?([0-9a-f]{1,4})$", re.IGNORECASE)
CUPS_NAME = re.compile(r"^[^\s/\\'\"#]{1,127}$")  # CUPS: no space, slash, backslash, quote or #
HINT = "dùng usb://, tcp://, serial://, file://, cups://, browser hoặc none"


@dataclass(frozen=True)
class PrinterSpec:
    """A parsed printer URL: its kind and what that kind needs to open the printer."""

    kind: str
    url: str
    host: str | None = None
    port: int | None = None
    path: str | None = None
    name: str | None = None
    vendor_id: int | None = None
    product_id: int | None = None
    in_ep: int | None = None
    out_ep: int | None = None
    baudrate: int | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    query_status: bool = True

    @property
    def is_device(self) -> bool:
        """True when this library drives the printer (not ``browser``, not ``none``)."""
        return self.kind in DEVICE_KINDS


Query = dict[str, str]


def _query(url: str, raw: str, allowed: tuple[str, ...]) -> Query:
    try:
        values = parse_qs(raw, keep_blank_values=True, strict_parsing=bool(raw))
    except ValueError:
        raise PrinterUrlError(url, "phần tham số sau dấu ? không đúng dạng") from None
    query: Query = {}
    for key, items in values.items():
        if key not in allowed:
            raise PrinterUrlError(url, f"không hỗ trợ tham số “{key}”")
        if len(items) != 1:
            raise PrinterUrlError(url, f"tham số “{key}” bị lặp lại")
        query[key] = items[0]
    return query


def _timeout(url: str, query: Query) -> float:
    if "timeout" not in query:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(query["timeout"])
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_TIMEOUT_S:
        raise PrinterUrlError(
            url, f"timeout phải là số giây lớn hơn 0 và không quá {MAX_TIMEOUT_S:g}"
        )
    return value


def _flag(url: str, query: Query, key: str) -> bool:
    value = query.get(key, "1").lower()
    if value not in ("0", "1", "true", "false"):
        raise PrinterUrlError(url, f"tham số “{key}” phải là 0 hoặc 1")
    return value in ("1", "true")


def _byte(url: str, query: Query, key: str) -> int | None:
    if key not in query:
        return None
    try:
        value = int(query[key], 0)
    except ValueError:
        value = -1
    if not 0 <= value <= 0xFF:
        raise PrinterUrlError(url, f"{key} phải là số từ 0 đến 255 (ví dụ 0x81)")
    return value


def _no_path(url: str, path: str) -> None:
    if path not in ("", "/"):
        raise PrinterUrlError(url, "không cần đường dẫn sau địa chỉ máy in")


def _usb(url: str, parts: SplitResult) -> PrinterSpec:
    netloc, path, raw = parts.netloc, parts.path, parts.query
    match = USB_IDS.match(netloc)
    if match is None:
        raise PrinterUrlError(
            url, "cần mã hãng và mã sản phẩm dạng usb://VID:PID (số hex, ví dụ usb://0416:5011)"
        )
    _no_path(url, path)
    query = _query(url, raw, ("in_ep", "out_ep", "timeout", "status"))
    vendor, product = (int(group, 16) for group in match.groups())
    if vendor == 0 or product == 0:
        raise PrinterUrlError(url, "mã hãng và mã sản phẩm USB phải khác 0")
    return PrinterSpec(
        "usb",
        url,
        vendor_id=vendor,
        product_id=product,
        in_ep=_byte(url, query, "in_ep"),
        out_ep=_byte(url, query, "out_ep"),
        timeout=_timeout(url, query),
        query_status=_flag(url, query, "status"),
    )


def _tcp(url: str, parts: SplitResult) -> PrinterSpec:
    host = parts.hostname
    if not host:
        raise PrinterUrlError(
            url, "thiếu tên hoặc địa chỉ IP của máy in (ví dụ tcp://192.168.1.50:9100)"
        )
    if ":" in host:
        # python-escpos opens an IPv4 socket only.
        raise PrinterUrlError(url, "máy in mạng cần địa chỉ IPv4 hoặc tên máy, không dùng IPv6")
    try:
        port = DEFAULT_TCP_PORT if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise PrinterUrlError(url, "cổng phải là số từ 1 đến 65535")
    if parts.username or parts.password:
        raise PrinterUrlError(url, "máy in mạng không dùng tên đăng nhập")
    _no_path(url, parts.path)
    query = _query(url, parts.query, ("timeout", "status"))
    return PrinterSpec(
        "tcp",
        url,
        host=host,
        port=port,
        timeout=_timeout(url, query),
        query_status=_flag(url, query, "status"),
    )


def _serial(url: str, parts: SplitResult) -> PrinterSpec:
    netloc, path, raw = parts.netloc, parts.path, parts.query
    # serial:///dev/ttyUSB0 on Linux; serial://COM3 on Windows.
    device = unquote(path if not netloc else netloc + path)
    if not device or device == "/":
        raise PrinterUrlError(
            url, "thiếu cổng nối tiếp (ví dụ serial:///dev/ttyUSB0?baudrate=9600)"
        )
    query = _query(url, raw, ("baudrate", "timeout", "status"))
    try:
        baudrate = int(query.get("baudrate", "9600"))
    except ValueError:
        baudrate = 0
    if baudrate <= 0:
        raise PrinterUrlError(url, "baudrate phải là số nguyên dương (ví dụ 9600, 115200)")
    return PrinterSpec(
        "serial",
        url,
        path=device,
        baudrate=baudrate,
        timeout=_timeout(url, query),
        query_status=_flag(url, query, "status"),
    )


def _file(url: str, parts: SplitResult) -> PrinterSpec:
    netloc, path, raw = parts.netloc, parts.path, parts.query
    if netloc not in ("", "localhost") or not path.startswith("/") or path.endswith("/"):
        raise PrinterUrlError(
            url, "cần đường dẫn tuyệt đối tới một tệp (ví dụ file:///dev/usb/lp0)"
        )
    if raw:
        raise PrinterUrlError(url, "máy in file:// không có tham số")
    return PrinterSpec("file", url, path=unquote(path), query_status=False)


def _cups(url: str, parts: SplitResult) -> PrinterSpec:
    name = unquote(parts.netloc)
    if not CUPS_NAME.match(name):
        raise PrinterUrlError(url, "cần tên hàng in CUPS, không có dấu cách (ví dụ cups://XP-80)")
    _no_path(url, parts.path)
    if parts.query:
        raise PrinterUrlError(url, "máy in cups:// không có tham số")
    return PrinterSpec("cups", url, name=name, query_status=False)


PARSERS: dict[str, Callable[[str, SplitResult], PrinterSpec]] = {
    "usb": _usb,
    "tcp": _tcp,
    "serial": _serial,
    "file": _file,
    "cups": _cups,
}


def parse_printer_url(url: str) -> PrinterSpec:
    """Read a printer URL; raise ``PrinterUrlError`` (code ``invalid_printer_url``) if it is wrong.

    Everything is checked here, before any device is touched, so a typo in a
    kiosk's configuration is reported as such and not as an offline printer.
    """
    text = (url or "").strip()
    if text.lower() in WORD_KINDS:
        return PrinterSpec(text.lower(), text.lower(), query_status=False)
    if not text:
        raise PrinterUrlError(url, f"chưa có địa chỉ máy in; {HINT}")
    if "://" not in text:
        raise PrinterUrlError(url, f"thiếu loại máy in; {HINT}")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise PrinterUrlError(url, "địa chỉ không đúng dạng URL") from None
    parser = PARSERS.get(parts.scheme.lower())
    if parser is None:
        raise PrinterUrlError(url, f"không hỗ trợ loại máy in “{parts.scheme}”; {HINT}")
    if parts.fragment:
        raise PrinterUrlError(url, "địa chỉ máy in không có phần #")
    return parser(text, parts)
