"""The `xephang` command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import click
from sqlalchemy import inspect

from .config import Config
from .engine.errors import QueueError
from .messages import error_text

if TYPE_CHECKING:
    from .runtime import Runtime

NOT_INITIALIZED = "Cơ sở dữ liệu chưa được khởi tạo: chạy `xephang init` trước."
# Counter numbers are 32-bit integer columns.
COUNTER_NUMBER = click.IntRange(1, 2**31 - 1)


def _app(**overrides: object) -> object:
    from .app import create_app

    return create_app({"EVENTS_WRITE_ONLY": True, **overrides})


@click.group(help="xephang — hệ thống xếp hàng lấy số thứ tự cho bộ phận một cửa.")
def cli() -> None:
    pass


def _init(demo: bool) -> None:
    from . import migrate
    from .accounts.cli import echo_first_admin
    from .demo import seed_demo
    from .runtime import runtime

    app = _app()
    rt = runtime(app)  # type: ignore[arg-type]
    migrate.upgrade(rt.db.engine)
    click.echo(f"Cơ sở dữ liệu đã sẵn sàng: {rt.db.engine.url.render_as_string()}")
    echo_first_admin(rt)
    if demo:
        with rt.db.writes() as session:
            created = seed_demo(session)
        click.echo("Đã tạo đơn vị demo." if created else "Đơn vị demo đã có sẵn.")


@cli.command(help="Tạo hoặc nâng cấp cơ sở dữ liệu; --demo thêm đơn vị mẫu 'demo'.")
@click.option("--demo", is_flag=True, help="Thêm đơn vị demo với các lĩnh vực và quầy 1-5.")
def init(demo: bool) -> None:
    _init(demo)


def _serve(host: str, port: int) -> None:
    from .realtime import subscribe_now
    from .runtime import runtime
    from .serving import NoDelayHandler

    app = _app(ASYNC_MODE="gevent", EVENTS_WRITE_ONLY=False)
    rt = runtime(app)  # type: ignore[arg-type]
    if not inspect(rt.db.engine).has_table("tickets"):
        raise click.ClickException(NOT_INITIALIZED)
    socketio = app.extensions["socketio"]
    subscribe_now(socketio)
    # The mode actually in use, not the one asked for: tests and operators check it.
    click.echo(f"xephang đang chạy tại http://{host}:{port}/ ({socketio.async_mode})")
    socketio.run(app, host=host, port=port, log_output=False, handler_class=NoDelayHandler)


@cli.command(help="Chạy máy chủ (gevent, WebSocket).")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    _serve(host, port)


@cli.command(help="Khởi tạo đơn vị demo và chạy máy chủ.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    from .demo import DEMO_SITE, demo_staff_passwords
    from .runtime import runtime
    from .tokens import create_token

    _init(demo=True)
    rt = runtime(_app())  # type: ignore[arg-type]
    with rt.db.writes() as session:
        # The demo kiosk prints nothing: a browser print dialog would stop every tap.
        kiosk = create_token(
            session, DEMO_SITE, "kiosk", label="demo", settings={"printer": "none"}
        )
        clerk = create_token(session, DEMO_SITE, "clerk", counter=1, label="demo")
        display = create_token(session, DEMO_SITE, "display", label="demo")
        tablet = create_token(session, DEMO_SITE, "tablet", counter=1, label="demo")
        passwords = demo_staff_passwords(session, rt.clock())
    devices = {"kiosk": kiosk, "clerk": clerk, "display": display, "tablet": tablet}
    click.echo(_demo_guide(f"http://{host}:{port}", devices, passwords))
    _serve(host, port)


def _demo_guide(base: str, tokens: dict[str, str], passwords: dict[str, str]) -> str:
    """What to open and what to type to try the demo center."""

    def pair(token: str, page: str) -> str:
        return f"{base}/pair?" + urlencode({"token": token, "next": page})

    auth = "-H 'Authorization: Bearer {}'"
    clerk, kiosk = tokens["clerk"], tokens["kiosk"]
    return "\n".join(
        [
            "",
            "Đơn vị demo: UBND phường Hồng Hà (mã 'demo'), quầy 1-5.",
            "Mở mỗi màn hình trong một cửa sổ riêng (ẩn danh), vì mỗi trình duyệt là một thiết bị:",
            f"  Máy lấy số:      {pair(kiosk, '/kiosk/')}",
            f"  Màn hình sảnh:   {pair(tokens['display'], '/display/?speak=1')}",
            f"  Màn hình quầy 1: {pair(tokens['display'], '/display/counter/1')}",
            f"  Máy đánh giá quầy 1: {pair(tokens['tablet'], '/rate/')}",
            f"Trang cán bộ (chọn quầy, gọi số): {base}/counter/",
            f"Trang quản trị đơn vị: {base}/admin/",
            "Tài khoản demo (mật khẩu mới mỗi lần chạy demo):",
            *(f"  {user:<8} {password}" for user, password in passwords.items()),
            "Gọi số ở quầy 1 bằng API (bàn phím gọi số):",
            f"  curl -X POST {auth.format(clerk)} {base}/api/v1/sites/demo/counters/1/call-next",
            f"Lấy số qua API: curl {auth.format(kiosk)} -H 'Content-Type: application/json' "
            f'-d \'{{"service":"HT"}}\' {base}/api/v1/sites/demo/tickets',
            f"Tài liệu API:   {base}/api/v1/openapi.json",
            "",
        ]
    )


F = TypeVar("F", bound=Callable[..., Any])


def device_options(command: F) -> F:
    """The options every way of making a device takes: a label, and a kiosk's printer."""
    command = click.option(
        "--paper", type=click.Choice(["58", "80"]), default=None, help="Chỉ cho kiosk: khổ giấy."
    )(command)
    command = click.option(
        "--printer", default=None, help="Chỉ cho kiosk: URL máy in, agent, browser hoặc none."
    )(command)
    return click.option("--label", default="")(command)


def _device_settings(role: str, printer: str | None, paper: str | None) -> dict[str, Any]:
    """A kiosk's printer settings, checked; a bad value ends the command (exit 2)."""
    from kiosk.device_settings import kiosk_settings
    from kiosk.errors import PrintError

    try:
        return kiosk_settings(role, printer, paper)
    except PrintError as err:
        click.echo(err.message, err=True)
        sys.exit(2)


@cli.group(help="Mã truy cập (bearer token) cho thiết bị và cán bộ.")
def token() -> None:
    pass


@token.command("create", help="In ra một mã truy cập mới.")
@click.option("--site", "site_code", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "manager", "clerk", "kiosk", "display", "tablet"]),
)
@click.option(
    "--counter",
    type=COUNTER_NUMBER,
    default=None,
    help="Cán bộ hoặc máy đánh giá (bắt buộc): gắn với quầy số N.",
)
@device_options
def token_create(
    site_code: str,
    role: str,
    counter: int | None,
    label: str,
    printer: str | None,
    paper: str | None,
) -> None:
    from .runtime import runtime
    from .tokens import create_token

    settings = _device_settings(role, printer, paper)
    rt = runtime(_app())  # type: ignore[arg-type]
    if not inspect(rt.db.engine).has_table("api_tokens"):
        raise click.ClickException(NOT_INITIALIZED)
    try:
        with rt.db.writes() as session:
            click.echo(create_token(session, site_code, role, counter, label, settings=settings))
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)


def _tokens_db() -> Runtime:
    from .runtime import runtime

    rt = runtime(_app())  # type: ignore[arg-type]
    if not inspect(rt.db.engine).has_table("pairing_codes"):
        raise click.ClickException(NOT_INITIALIZED)
    return rt


def _when(moment: datetime | None, tz_name: str) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M")


@token.command("list", help="Liệt kê các mã truy cập của một đơn vị (cả mã đã thu hồi).")
@click.option("--site", "site_code", required=True)
def token_list(site_code: str) -> None:
    from .engine.views import site_by_code
    from .pairing_codes import list_tokens

    rt = _tokens_db()
    try:
        with rt.db.reads() as session:
            tz_name = site_by_code(session, site_code).timezone
            rows = list_tokens(session, site_code)
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)
    click.echo("id\tvai trò\tquầy\tnhãn\ttạo lúc\tthu hồi lúc")
    for row in rows:
        counter = "-" if row.counter is None else str(row.counter)
        cells = [str(row.id), row.role, counter, row.label or "-"]
        cells += [_when(row.created_at, tz_name), _when(row.revoked_at, tz_name)]
        click.echo("\t".join(cells))


@token.command("revoke", help="Thu hồi một mã truy cập: thiết bị dùng mã đó bị ngắt ngay.")
@click.argument("token_id", type=click.IntRange(1, 2**63 - 1))
def token_revoke(token_id: int) -> None:
    from .pairing_codes import revoke_token

    rt = _tokens_db()
    try:
        with rt.db.writes() as session:
            revoke_token(session, token_id, rt.clock())
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)
    click.echo(f"Đã thu hồi mã truy cập số {token_id}.")


@cli.group(help="Thiết bị: mã kết nối dùng một lần cho máy lấy số, màn hình, máy đánh giá.")
def device() -> None:
    pass


@device.command("code", help="In ra một mã kết nối dùng một lần (hết hạn sau 24 giờ).")
@click.option("--site", "site_code", required=True)
@click.option("--role", required=True, type=click.Choice(["kiosk", "display", "tablet", "clerk"]))
@click.option(
    "--counter", type=COUNTER_NUMBER, default=None, help="Cán bộ hoặc máy đánh giá: quầy số N."
)
@device_options
def device_code(
    site_code: str,
    role: str,
    counter: int | None,
    label: str,
    printer: str | None,
    paper: str | None,
) -> None:
    from .engine.views import site_by_code
    from .pairing_codes import DEFAULT_TTL, create_pairing_code

    settings = _device_settings(role, printer, paper)
    rt = _tokens_db()
    now = rt.clock()
    try:
        with rt.db.writes() as session:
            code = create_pairing_code(
                session, site_code, role, counter=counter, label=label, settings=settings, now=now
            )
            tz_name = site_by_code(session, site_code).timezone
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)
    click.echo(code)
    click.echo(f"Hết hạn lúc {_when(now + DEFAULT_TTL, tz_name)}; chỉ dùng được một lần.")


__all__ = ["cli", "Config"]
from sounds.cli import sounds as _sounds_group  # noqa: E402

cli.add_command(_sounds_group)

from kiosk.cli import print_ticket as _print_ticket  # noqa: E402

cli.add_command(_print_ticket)

from kiosk.agent_cli import kiosk_agent as _kiosk_agent  # noqa: E402
from kiosk.jobs_cli import print_jobs as _print_jobs  # noqa: E402

cli.add_command(_kiosk_agent)
cli.add_command(_print_jobs)

from .accounts.cli import user as _user_group  # noqa: E402

cli.add_command(_user_group)
