"""Sending a ticket image to an ESC/POS printer through python-escpos.

One job, one connection: open, ask for the paper status where the printer can
answer, initialise, print the image as a raster (``GS v 0``), feed and cut,
ask again, close. Anything that goes wrong with the device becomes
``PrinterUnavailable`` with a stable code, so the caller keeps the ticket and
can reprint later.

"Printed" means the printer said so: its answer to the status query sent after
the job can only come once it has read every byte before it. Bytes that only
reached a socket buffer (a printer that accepts the connection and never
reads), a printer that cannot answer (``file://``, ``cups://``, ``status=0``)
or one that says nothing within ``STATUS_TIMEOUT_S`` give ``unknown``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from escpos import printer as escpos_printers
from escpos.constants import (
    RT_MASK_LOWPAPER,
    RT_MASK_NOPAPER,
    RT_MASK_ONLINE,
    RT_STATUS_ONLINE,
    RT_STATUS_PAPER,
)
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.exceptions import Error as EscposError
from PIL import Image

from .errors import PrinterUnavailable
from .layout import Paper, paper_for
from .print_outcome import CANNOT_ANSWER, NO_ANSWER, PrintOutcome
from .printer_url import PrinterSpec, parse_printer_url
from .render import render_ticket
from .ticket import TicketSlip

log = logging.getLogger(__name__)

# A printer that does not answer a status query within this many seconds is
# printed to anyway (the query before the job is a courtesy, not a gate), and
# the job's outcome is then unknown.
STATUS_TIMEOUT_S = 1.0
# Printers whose python-escpos class can read an answer back.
STATUS_KINDS = ("usb", "tcp", "serial")
DRIVER_PACKAGES = {"usb": "pyusb", "serial": "pyserial", "cups": "pycups"}


def _device_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, EscposError]
    try:  # pycups is optional; its errors are not OSErrors
        import cups

        errors += [cups.IPPError, cups.HTTPError]
    except ImportError:
        pass
    return tuple(errors)


def _require_driver(spec: PrinterSpec, cls: Any) -> None:
    if not cls.is_usable():
        raise PrinterUnavailable(
            "printer_driver_missing", printer=spec.url, package=DRIVER_PACKAGES[spec.kind]
        )


def escpos_printer(spec: PrinterSpec, paper: Paper) -> Escpos:
    """The python-escpos printer object for a device URL, not yet opened.

    Its profile is told the paper's width in dots, so python-escpos refuses an
    image wider than the roll instead of printing it cut off.
    """
    device: Escpos
    if spec.kind == "usb":
        _require_driver(spec, escpos_printers.Usb)
        endpoints = {"in_ep": spec.in_ep, "out_ep": spec.out_ep}
        device = escpos_printers.Usb(
            spec.vendor_id,
            spec.product_id,
            timeout=int(spec.timeout * 1000),
            **{k: v for k, v in endpoints.items() if v is not None},
        )
    elif spec.kind == "tcp":
        device = escpos_printers.Network(spec.host, port=spec.port, timeout=spec.timeout)
    elif spec.kind == "serial":
        _require_driver(spec, escpos_printers.Serial)
        device = escpos_printers.Serial(spec.path, baudrate=spec.baudrate, timeout=spec.timeout)
    elif spec.kind == "file":
        device = escpos_printers.File(spec.path)
    elif spec.kind == "cups":
        _require_driver(spec, escpos_printers.CupsPrinter)
        device = escpos_printers.CupsPrinter(spec.name)
    else:
        raise ValueError(f"{spec.kind!r} is not a printer this library drives")
    data = dict(device.profile.profile_data)
    data["media"] = {**data.get("media", {}), "width": {"mm": paper.mm, "pixels": paper.dots}}
    device.profile.profile_data = data  # this object's own copy, not the shared profile
    return device


def send_image(device: Escpos, image: Image.Image) -> None:
    """Initialise, print ``image`` as a raster bit image (``GS v 0``), feed and cut."""
    device.hw("INIT")
    device.image(image, impl="bitImageRaster")
    device.cut()


@contextmanager
def _short_reads(device: Escpos, spec: PrinterSpec) -> Iterator[None]:
    """Reads from the printer give up after ``STATUS_TIMEOUT_S``, not the job's timeout."""
    handle = device.device
    if spec.kind == "tcp":
        handle.settimeout(STATUS_TIMEOUT_S)
    elif spec.kind == "serial":
        handle.timeout = STATUS_TIMEOUT_S
    elif spec.kind == "usb" and hasattr(handle, "default_timeout"):
        handle.default_timeout = int(STATUS_TIMEOUT_S * 1000)
    try:
        yield
    finally:
        if spec.kind == "tcp":
            handle.settimeout(spec.timeout)
        elif spec.kind == "serial":
            handle.timeout = spec.timeout
        elif spec.kind == "usb" and hasattr(handle, "default_timeout"):
            handle.default_timeout = int(spec.timeout * 1000)


def can_answer(spec: PrinterSpec) -> bool:
    return spec.kind in STATUS_KINDS and spec.query_status


def _ask(device: Escpos, spec: PrinterSpec, query: bytes) -> int | None:
    """One real-time status byte (DLE EOT n), or None when the printer said nothing in time.

    (python-escpos's own ``paper_status`` takes silence for "plenty of paper".)
    """
    no_answer: tuple[type[BaseException], ...] = (*_device_errors(), NotImplementedError)
    try:
        with _short_reads(device, spec):
            answer = device.query_status(query)
    except no_answer as err:
        log.debug("printer %s gave no status: %s", spec.url, err)
        return None
    return answer[-1] if answer else None


def _paper(status: int | None, spec: PrinterSpec) -> bool:
    """True when the paper runs low; raise when there is none (``status``: DLE EOT 4)."""
    if status is None:
        return False
    if status & RT_MASK_NOPAPER == RT_MASK_NOPAPER:
        raise PrinterUnavailable("printer_out_of_paper", printer=spec.url)
    return status & RT_MASK_LOWPAPER == RT_MASK_LOWPAPER


def paper_low(device: Escpos, spec: PrinterSpec) -> bool | None:
    """Ask the printer for its paper before a job: None when it cannot or did not answer,
    raise when it reports none, else whether it runs low.
    """
    if not can_answer(spec):
        return None
    status = _ask(device, spec, RT_STATUS_PAPER)
    return None if status is None else _paper(status, spec)


def confirm(device: Escpos, spec: PrinterSpec) -> bool:
    """Ask after the job: True when the printer answered, online and with paper.

    Its answer follows every byte of the job on the same channel, so it comes
    only once the printer has read them all; offline (cover open, an error)
    or out of paper raise.
    """
    online = _ask(device, spec, RT_STATUS_ONLINE)
    if online is None:
        return False
    paper = _ask(device, spec, RT_STATUS_PAPER)
    _paper(paper, spec)
    if online & RT_MASK_ONLINE:
        raise PrinterUnavailable("printer_offline", printer=spec.url)
    return True


def _open(device: Escpos, spec: PrinterSpec) -> None:
    try:
        device.open()
    except DeviceNotFoundError as err:
        raise PrinterUnavailable("printer_offline", printer=spec.url) from err
    except (RuntimeError, ValueError) as err:
        # python-escpos raises RuntimeError for a missing Python driver;
        # pyusb raises NoBackendError (a ValueError) when libusb is missing.
        package = "libusb-1.0" if spec.kind == "usb" else DRIVER_PACKAGES.get(spec.kind, "?")
        raise PrinterUnavailable(
            "printer_driver_missing", printer=spec.url, package=package
        ) from err


def _close_quietly(device: Escpos) -> None:
    try:
        device.close()
    except Exception as err:  # the job is over either way; closing must not mask it
        log.debug("closing printer failed: %s", err)


def print_image(printer: str | PrinterSpec, image: Image.Image, paper: Paper | int) -> PrintOutcome:
    """Print a ticket image on the printer a URL names.

    ``browser`` and ``none`` print nothing here (the outcome says so). Any
    device trouble raises ``PrinterUnavailable``: offline or unplugged
    (``printer_offline``), out of paper (``printer_out_of_paper``), a failure
    while sending (``printer_write_failed``), or a missing driver.
    """
    spec = printer if isinstance(printer, PrinterSpec) else parse_printer_url(printer)
    if not spec.is_device:
        return PrintOutcome(spec.url, spec.kind, printed=False)
    sheet = paper if isinstance(paper, Paper) else paper_for(paper)
    device = escpos_printer(spec, sheet)
    try:
        _open(device, spec)
        low = paper_low(device, spec)
        try:
            send_image(device, image)
            # Silent before the job: asking again would only wait as long once more.
            confirmed = low is not None and confirm(device, spec)
            device.close()  # a CUPS printer sends the job on close
        except _device_errors() as err:
            raise PrinterUnavailable("printer_write_failed", printer=spec.url) from err
    except PrinterUnavailable as err:
        log.warning("ticket not printed on %s: %s (%s)", spec.url, err.code, err.__cause__)
        raise
    finally:
        _close_quietly(device)
    if low:
        log.warning("printer %s is running out of paper", spec.url)
    if confirmed:
        return PrintOutcome(spec.url, spec.kind, printed=True, paper_low=bool(low), sent=True)
    why = NO_ANSWER if can_answer(spec) else CANNOT_ANSWER
    log.warning("ticket sent to %s, not confirmed (%s)", spec.url, why)
    return PrintOutcome(spec.url, spec.kind, printed=False, sent=True, unknown=why)


def print_ticket(slip: TicketSlip, printer: str | PrinterSpec, paper: int = 80) -> PrintOutcome:
    """Render ``slip`` for the paper and print it (see ``print_image`` for the errors)."""
    sheet = paper_for(paper)
    spec = printer if isinstance(printer, PrinterSpec) else parse_printer_url(printer)
    if not spec.is_device:
        return PrintOutcome(spec.url, spec.kind, printed=False)
    return print_image(spec, render_ticket(slip, sheet), sheet)
