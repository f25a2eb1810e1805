"""Printing through python-escpos's own printer classes, read back from the bytes they send."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from escpos.printer import Dummy, File

from kiosk import printing
from kiosk.errors import PrintError, PrinterUnavailable
from kiosk.layout import paper_for
from kiosk.printer_url import parse_printer_url
from kiosk.printing import PrintOutcome, escpos_printer, print_image, print_ticket, send_image
from kiosk.render import render_ticket

from ..escpos_raster import decode
from ..print_support import ONLINE, STATUS_QUERY
from ..ticket_fixtures import TRACKING, VERY_LONG, read_qr, slip

PAPER_MM = [58, 80]
PAPER_OK, PAPER_LOW, PAPER_OUT = 0x12, 0x1E, 0x72  # DLE EOT 4 answers


@pytest.mark.parametrize(("mm", "dots"), [(58, 384), (80, 576)])
def test_the_raster_sent_is_the_rendered_ticket(mm: int, dots: int) -> None:
    image = render_ticket(slip(), mm)
    device = Dummy()
    send_image(device, image)
    printout = decode(device.output)
    assert printout.commands[0] == "init" and printout.commands[-1] == "cut"
    assert "raster" in printout.commands
    assert set(printout.densities) == {0}  # normal density: one dot per pixel both ways
    assert printout.image.size == (dots, image.height)
    assert printout.image.tobytes() == image.tobytes()
    assert read_qr(printout.image) == [TRACKING]


def test_a_tall_ticket_goes_in_several_raster_strips_that_join_up() -> None:
    footer = tuple(f"Dòng chân trang số {n}: Vui lòng giữ phiếu." for n in range(30))
    image = render_ticket(slip(service_name=VERY_LONG, footer=footer), 80)
    assert image.height > 960  # python-escpos splits images taller than this
    device = Dummy()
    send_image(device, image)
    printout = decode(device.output)
    assert len(printout.rasters) >= 2
    assert printout.image.tobytes() == image.tobytes()


@pytest.mark.parametrize("mm", PAPER_MM)
def test_a_file_printer_writes_real_escpos_bytes(tmp_path: Path, mm: int) -> None:
    target = tmp_path / "lp0"
    outcome = print_ticket(slip(), f"file://{target}", paper=mm)
    # A device file cannot answer: the bytes were written, nobody confirmed them.
    assert outcome == PrintOutcome(
        f"file://{target}", "file", printed=False, sent=True, unknown="printer_cannot_answer"
    )
    data = target.read_bytes()
    printout = decode(data)
    expected = render_ticket(slip(), mm)
    assert printout.image.width == paper_for(mm).dots
    assert printout.image.tobytes() == expected.tobytes()
    assert read_qr(printout.image) == [TRACKING]
    # No paper-status query on a file: nothing could answer it.
    assert not any(c.startswith("status") for c in printout.commands)


def test_escpos_is_told_the_paper_width(tmp_path: Path) -> None:
    spec = parse_printer_url(f"file://{tmp_path / 'out'}")
    device = escpos_printer(spec, paper_for(58))
    assert isinstance(device, File)
    assert device.profile.profile_data["media"]["width"]["pixels"] == 384
    # The shared default profile is left alone.
    assert Dummy().profile.profile_data["media"]["width"]["pixels"] == "Unknown"


def test_browser_and_none_print_nothing_here() -> None:
    image = render_ticket(slip(), 58)
    browser = print_image("browser", image, 58)
    assert (browser.printed, browser.by_browser) == (False, True)
    none = print_ticket(slip(), "none", 80)
    assert (none.printed, none.by_browser, none.kind) == (False, False, "none")


def test_a_bad_url_is_a_url_error_not_an_offline_printer() -> None:
    with pytest.raises(PrintError) as info:
        print_ticket(slip(), "tcp://printer:99999", 80)
    assert info.value.code == "invalid_printer_url"
    assert not isinstance(info.value, PrinterUnavailable)


# --- printers that cannot print ------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_network_printer_that_is_off_raises_printer_offline() -> None:
    url = f"tcp://127.0.0.1:{closed_port()}?timeout=2"
    with pytest.raises(PrinterUnavailable) as info:
        print_ticket(slip(), url, 80)
    assert info.value.code == "printer_offline"
    assert info.value.params["printer"] == url
    assert "có thể in lại" in info.value.message


def test_a_file_printer_at_a_path_that_cannot_be_opened_raises_printer_offline(
    tmp_path: Path,
) -> None:
    with pytest.raises(PrinterUnavailable) as info:
        print_ticket(slip(), f"file://{tmp_path}/unplugged/lp0", 58)
    assert info.value.code == "printer_offline"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux /dev/full")
def test_a_device_that_fails_while_printing_raises_printer_write_failed() -> None:
    with pytest.raises(PrinterUnavailable) as info:
        print_ticket(slip(), "file:///dev/full", 58)
    assert info.value.code == "printer_write_failed"
    assert isinstance(info.value.__cause__, OSError)


def test_a_usb_printer_that_is_not_there_is_unavailable() -> None:
    # No such device here; without libusb python-escpos cannot even look: both are "unavailable".
    with pytest.raises(PrinterUnavailable) as info:
        print_ticket(slip(), "usb://fffe:fffd?timeout=1", 58)
    assert info.value.code in ("printer_offline", "printer_driver_missing")


def test_a_serial_port_that_is_not_there_is_offline(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable) as info:
        print_ticket(slip(), f"serial://{tmp_path}/ttyUSB9?baudrate=9600", 58)
    assert info.value.code == "printer_offline"


# --- a network printer that answers the paper-status query -------------------------------


class FakeNetworkPrinter:
    """A TCP printer on localhost: keeps every byte; answers DLE EOT 4 with ``status``
    and DLE EOT 1 with "online" (``status=None``: answers nothing)."""

    def __init__(self, status: int | None) -> None:
        self.status = status
        self.received = bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}?timeout=5"

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        answered = 0
        with conn:
            while chunk := conn.recv(65536):
                self.received += chunk
                for query in STATUS_QUERY.finditer(self.received, answered):
                    if self.status is not None:  # DLE EOT 1: online; DLE EOT 4: the paper
                        conn.sendall(bytes([ONLINE if query[1] == b"\x01" else self.status]))
                    answered = query.end()

    def bytes_after_close(self) -> bytes:
        self.thread.join(timeout=5)
        self.server.close()
        return bytes(self.received)


def test_a_network_printer_with_paper_prints_the_ticket() -> None:
    printer = FakeNetworkPrinter(PAPER_OK)
    outcome = print_ticket(slip(), printer.url, 80)
    assert (outcome.printed, outcome.paper_low) == (True, False)
    printout = decode(printer.bytes_after_close())
    assert printout.commands[0] == "status 4"
    assert printout.image.tobytes() == render_ticket(slip(), 80).tobytes()
    assert read_qr(printout.image) == [TRACKING]


def test_a_network_printer_out_of_paper_gets_no_ticket() -> None:
    printer = FakeNetworkPrinter(PAPER_OUT)
    with pytest.raises(PrinterUnavailable) as info:
        print_ticket(slip(), printer.url, 80)
    assert info.value.code == "printer_out_of_paper"
    assert "hết giấy" in info.value.message
    assert decode(printer.bytes_after_close()).commands == ["status 4"]


def test_a_network_printer_low_on_paper_prints_and_says_so() -> None:
    printer = FakeNetworkPrinter(PAPER_LOW)
    outcome = print_ticket(slip(), printer.url, 58)
    assert (outcome.printed, outcome.paper_low) == (True, True)
    assert decode(printer.bytes_after_close()).image.width == 384


def test_a_network_printer_that_never_answers_is_printed_to_but_not_called_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(printing, "STATUS_TIMEOUT_S", 0.2)
    printer = FakeNetworkPrinter(None)
    outcome = print_ticket(slip(), printer.url, 58)
    assert (outcome.status, outcome.unknown) == ("unknown", "printer_no_answer")
    assert not outcome.printed and not outcome.paper_low
    printout = decode(printer.bytes_after_close())
    assert printout.image.tobytes() == render_ticket(slip(), 58).tobytes()


def test_status_0_skips_the_paper_query() -> None:
    printer = FakeNetworkPrinter(PAPER_OUT)
    outcome = print_ticket(slip(), printer.url + "&status=0", 58)
    assert (outcome.status, outcome.unknown) == ("unknown", "printer_cannot_answer")
    assert not any(c.startswith("status") for c in decode(printer.bytes_after_close()).commands)
