"""`xephang kiosk-agent`: run the kiosk agent beside a kiosk's USB printer.

These commands need only the kiosk device library (kiosk/requirements.txt): on a kiosk
PC without the server's packages, ``xephang`` runs them without loading ``server``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from .errors import PrinterUnavailable, PrinterUrlError
from .printer_url import PRINTER_HELP, parse_printer_url
from .ticket import TicketSlip


def printer_options(command: Any) -> Any:
    """``--printer URL`` (required) and ``--paper 58|80`` (80), for a command that prints."""
    command = click.option(
        "--paper",
        type=click.Choice(["58", "80"]),
        default="80",
        show_default=True,
        help="Khổ giấy (mm).",
    )(command)
    return click.option("--printer", "printer_url", required=True, help=PRINTER_HELP)(command)


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(2)


def default_state_dir(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """``$STATE_DIRECTORY`` (systemd), else ``$XDG_STATE_HOME`` (~/.local/state)/xephang-agent."""
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "xephang-agent"


@click.command(
    "kiosk-agent",
    help=(
        "Chạy trên máy tính của kiosk có máy in USB: nhận lệnh in từ máy chủ qua Socket.IO, "
        "in phiếu và báo lại; tự kết nối lại khi mất mạng, không mất và không in trùng phiếu."
    ),
)
@click.option(
    "--server",
    "server_url",
    required=True,
    envvar="XEPHANG_AGENT_SERVER",
    help="Địa chỉ máy chủ, ví dụ http://192.168.1.10:8080 (hoặc biến XEPHANG_AGENT_SERVER).",
)
@click.option(
    "--token",
    required=True,
    envvar="XEPHANG_AGENT_TOKEN",
    help="Mã truy cập của kiosk (hoặc biến XEPHANG_AGENT_TOKEN, để mã không hiện trong ps).",
)
@click.option(
    "--printer",
    "printer_url",
    required=True,
    envvar="XEPHANG_AGENT_PRINTER",
    help=PRINTER_HELP,
)
@click.option(
    "--paper",
    type=click.Choice(["58", "80"]),
    default=None,
    help="Khổ giấy (mm); mặc định theo cấu hình của kiosk trên máy chủ (80).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Thư mục lưu nhật ký các lệnh đã in (mặc định $STATE_DIRECTORY của systemd, "
    "hoặc ~/.local/state/xephang-agent).",
)
@click.option(
    "--reconnect-max",
    type=click.FloatRange(0.1, 3600),
    default=30.0,
    show_default=True,
    help="Thời gian chờ tối đa giữa hai lần kết nối lại (giây).",
)
@click.option(
    "--sync-interval",
    type=click.FloatRange(1, 3600),
    default=60.0,
    show_default=True,
    help="Khi rảnh, bao lâu hỏi máy chủ một lần các lệnh in còn chờ (giây).",
)
@click.option("--verbose", is_flag=True, help="Ghi nhật ký chi tiết.")
def kiosk_agent(
    server_url: str,
    token: str,
    printer_url: str,
    paper: str | None,
    state_dir: Path | None,
    reconnect_max: float,
    sync_interval: float,
    verbose: bool,
) -> None:
    # Here, not at the top: the agent loads Socket.IO's client, which `--help` does not need.
    from .agent import KioskAgent
    from .journal import Journal, journal_path

    if not server_url.startswith(("http://", "https://")):
        _fail("Địa chỉ máy chủ phải bắt đầu bằng http:// hoặc https://.")
    token = token.strip()
    if not token:
        _fail("Thiếu mã truy cập của kiosk (--token).")
    try:
        spec = parse_printer_url(printer_url)
    except PrinterUrlError as err:
        _fail(err.message)
    if not spec.is_device:
        _fail("Kiosk agent cần một máy in thật (usb://, tcp://, serial://, file://, cups://).")
    directory = state_dir or default_state_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _fail(f"Không tạo được thư mục {directory}: {err.strerror}.")
    if not os.access(directory, os.W_OK):
        _fail(f"Không ghi được vào thư mục {directory}.")

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # python-escpos logs through the root logger, which sets it up first
    )
    agent = KioskAgent(
        server_url,
        token,
        spec,
        Journal(journal_path(directory, token)),
        paper=int(paper) if paper else None,
        reconnect_max=reconnect_max,
        sync_interval=sync_interval,
    )

    def _leave(_signum: int, _frame: Any) -> None:
        agent.stop()

    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGINT, _leave)
    click.echo(f"kiosk-agent: máy chủ {server_url}, máy in {spec.url}, nhật ký {directory}")
    runner = threading.Thread(target=agent.run, name="kiosk-agent")
    runner.start()
    while runner.is_alive():  # the main thread stays free for the signal handlers
        runner.join(0.5)


@click.command(
    "kiosk-print-test",
    help="In một phiếu mẫu ra máy in của kiosk để kiểm tra máy in (không cần máy chủ).",
)
@printer_options
def kiosk_print_test(printer_url: str, paper: str) -> None:
    # Here, not at the top: rendering loads Pillow and python-escpos, which `--help` does not need.
    from .printing import print_ticket

    try:
        spec = parse_printer_url(printer_url)
    except PrinterUrlError as err:
        _fail(err.message)
    if not spec.is_device:
        _fail("Cần một máy in thật (usb://, tcp://, serial://, file://, cups://).")
    slip = TicketSlip(
        number="A000",
        service_name="Phiếu in thử",
        issued_at=datetime.now(UTC),
        site_name="xephang",
        footer=("Máy in hoạt động tốt.",),
    )
    try:
        outcome = print_ticket(slip, spec, int(paper))
    except PrinterUnavailable as err:
        click.echo(err.message, err=True)
        sys.exit(1)
    click.echo(f"Đã in phiếu mẫu ra {outcome.printer}.")


# What `xephang` runs on a kiosk PC: these commands alone, without the server's.
DEVICE_COMMANDS = {"kiosk-agent": kiosk_agent, "kiosk-print-test": kiosk_print_test}
device_cli = click.Group("xephang", commands=DEVICE_COMMANDS)
