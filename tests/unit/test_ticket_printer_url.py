"""Printer URLs: each kind read into what opening it needs; mistakes refused with a reason."""

from __future__ import annotations

import pytest

from kiosk.errors import PrintError, PrinterUrlError
from kiosk.printer_url import DEFAULT_TIMEOUT_S, parse_printer_url


def test_usb() -> None:
    spec = parse_printer_url("usb://0416:5011")
    assert (spec.kind, spec.vendor_id, spec.product_id) == ("usb", 0x0416, 0x5011)
    assert (spec.in_ep, spec.out_ep, spec.timeout, spec.query_status) == (
        None,
        None,
        DEFAULT_TIMEOUT_S,
        True,
    )
    spec = parse_printer_url("USB://0x04B8:0x0E15?in_ep=0x81&out_ep=2&timeout=2.5&status=0")
    assert (spec.vendor_id, spec.product_id, spec.in_ep, spec.out_ep) == (0x04B8, 0x0E15, 0x81, 2)
    assert spec.timeout == 2.5 and spec.query_status is False
    assert spec.is_device


def test_tcp() -> None:
    spec = parse_printer_url("tcp://192.168.1.50:9100")
    assert (spec.kind, spec.host, spec.port) == ("tcp", "192.168.1.50", 9100)
    assert parse_printer_url("tcp://printer.local").port == 9100
    assert parse_printer_url("tcp://printer.local/").host == "printer.local"
    spec = parse_printer_url("tcp://PRINTER-2.local:9101?timeout=3")
    assert (spec.host, spec.port, spec.timeout) == ("printer-2.local", 9101, 3.0)


def test_serial() -> None:
    spec = parse_printer_url("serial:///dev/ttyUSB0?baudrate=9600")
    assert (spec.kind, spec.path, spec.baudrate) == ("serial", "/dev/ttyUSB0", 9600)
    assert parse_printer_url("serial:///dev/ttyS1").baudrate == 9600
    assert parse_printer_url("serial://COM3?baudrate=115200").path == "COM3"


def test_file() -> None:
    spec = parse_printer_url("file:///dev/usb/lp0")
    assert (spec.kind, spec.path, spec.query_status) == ("file", "/dev/usb/lp0", False)
    assert parse_printer_url("file://localhost/tmp/ticket%20out.bin").path == "/tmp/ticket out.bin"


def test_cups_browser_none() -> None:
    assert parse_printer_url("cups://XP-80C").name == "XP-80C"
    assert parse_printer_url("cups://Kiosk_Printer-2").name == "Kiosk_Printer-2"
    for word in ("browser", " Browser ", "none", "NONE"):
        spec = parse_printer_url(word)
        assert spec.kind == word.strip().lower() and not spec.is_device


BAD = [
    "",
    "   ",
    "lp0",
    "/dev/usb/lp0",
    "http://printer:9100",
    "usb://",
    "usb://0416",
    "usb://0416:",
    "usb://xyz:5011",
    "usb://04160:5011",
    "usb://0000:5011",
    "usb://0416:5011/x",
    "usb://0416:5011?in_ep=300",
    "usb://0416:5011?out_ep=abc",
    "usb://0416:5011?speed=fast",
    "usb://0416:5011?timeout=0",
    "usb://0416:5011?timeout=-1",
    "usb://0416:5011?timeout=forever",
    "usb://0416:5011?status=maybe",
    "tcp://",
    "tcp://:9100",
    "tcp://printer:0",
    "tcp://printer:70000",
    "tcp://printer:port",
    "tcp://user:pw@printer:9100",
    "tcp://printer:9100/queue",
    "tcp://printer:9100?timeout=1&timeout=2",
    "tcp://printer:9100#frag",
    "tcp://[fe80::1]:9100",
    "serial://",
    "serial:///",
    "serial:///dev/ttyUSB0?baudrate=fast",
    "serial:///dev/ttyUSB0?baudrate=0",
    "serial:///dev/ttyUSB0?parity=E",
    "file://",
    "file:///",
    "file://relative/path",
    "file:///dev/usb/",
    "file:///dev/usb/lp0?x=1",
    "cups://",
    "cups://name/extra",
    "cups://Kiosk%20Printer",
    "cups://name?x=1",
    "browser://",
]


@pytest.mark.parametrize("url", BAD)
def test_bad_urls_are_refused_with_a_stable_code_and_a_vietnamese_reason(url: str) -> None:
    with pytest.raises(PrinterUrlError) as info:
        parse_printer_url(url)
    err = info.value
    assert err.code == "invalid_printer_url"
    assert isinstance(err, PrintError) and isinstance(err, ValueError)
    assert err.message.startswith(f"Địa chỉ máy in “{url}” không hợp lệ: ")
    assert err.params["reason"] and any(ord(ch) > 127 for ch in err.params["reason"])
    assert err.as_dict()["code"] == "invalid_printer_url"
