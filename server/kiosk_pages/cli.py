"""`xephang print-ticket`: reprint any ticket, e.g. after the printer ran out of paper."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy import inspect

from kiosk.agent_cli import printer_options
from kiosk.errors import PrinterUnavailable, PrinterUrlError
from kiosk.printer_url import parse_printer_url
from kiosk.settings import public_url, ticket_footer
from server.engine.errors import QueueError
from server.messages import error_text
from server.runtime import runtime

from .dispatch import print_ticket as print_slip
from .lookup import ticket_slip


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


@click.command(
    "print-ticket",
    help=(
        "In lại phiếu số thứ tự TICKET_ID (mã phiếu trong cơ sở dữ liệu). "
        "Mã thoát: 0 đã in, 1 máy in không in được, 2 sai tham số hoặc không có phiếu."
    ),
)
@click.argument("ticket_id", type=click.IntRange(1, 2**31 - 1))  # a 32-bit id column
@printer_options
@click.option(
    "--base-url",
    default=None,
    help="Địa chỉ công khai của máy chủ cho mã QR (mặc định: biến XEPHANG_PUBLIC_URL).",
)
def print_ticket(ticket_id: int, printer_url: str, paper: str, base_url: str | None) -> None:
    # Here, not at the top: the app (every blueprint, the announcer) loads only for a
    # command that uses it, so `xephang --help` and the other commands start fast.
    from server.app import create_app

    try:
        spec = parse_printer_url(printer_url)
    except PrinterUrlError as err:
        _fail(err.message, 2)
    if spec.kind == "browser":
        _fail("Máy in “browser” do trang kiosk in qua trình duyệt; hãy chọn máy in khác.", 2)
    if spec.kind == "none":
        click.echo("Máy in “none”: không in gì.")
        return

    app = create_app({"EVENTS_WRITE_ONLY": True})
    rt = runtime(app)
    try:
        if not inspect(rt.db.engine).has_table("tickets"):
            _fail("Cơ sở dữ liệu chưa được khởi tạo: chạy `xephang init` trước.", 2)
        base = base_url or public_url(app.config)
        if not base:
            click.echo(
                "Chưa đặt địa chỉ công khai (--base-url hoặc XEPHANG_PUBLIC_URL): "
                "phiếu được in không có mã QR.",
                err=True,
            )
        try:
            with rt.db.reads() as session:
                slip = ticket_slip(
                    session, ticket_id, rt.clock(), base_url=base, footer=ticket_footer(app.config)
                )
        except QueueError as err:
            _fail(error_text(err.code, err.params), 2)
    finally:
        rt.db.dispose()

    try:
        outcome = print_slip(slip, spec, int(paper))
    except PrinterUnavailable as err:
        _fail(err.message, 1)
    if not outcome.printed:
        click.echo(
            f"Đã gửi phiếu {slip.number} ({slip.service_name}) tới máy in {spec.url}, "
            "nhưng máy in chưa xác nhận đã in: hãy xem khay máy in."
        )
    else:
        click.echo(f"Đã in lại phiếu {slip.number} ({slip.service_name}) trên máy in {spec.url}.")
    if outcome.paper_low:
        click.echo("Máy in sắp hết giấy: hãy thay cuộn giấy mới.", err=True)
