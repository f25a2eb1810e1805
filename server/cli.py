"""The `xephang` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import click
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from kiosk.device_settings import kiosk_settings
from kiosk.errors import PrintError

from . import reports
from .accounts.cli import echo_first_admin
from .config import Config
from .demo import demo_devices, demo_staff_passwords, seed_demo, staff_demo_counters
from .engine.errors import QueueError
from .engine.views import site_by_code
from .messages import error_text
from .pairing_codes import DEFAULT_TTL, create_pairing_code, list_tokens, revoke_token
from .realtime import subscribe_now
from .realtime.cutoff import token_room
from .runtime import runtime
from .storage import probe, reason_text, storage_fault
from .tokens import create_token

if TYPE_CHECKING:
    from .runtime import Runtime

NOT_INITIALIZED = "Cơ sở dữ liệu chưa được khởi tạo: chạy `xephang init` trước."
# Counter numbers are 32-bit integer columns.
COUNTER_NUMBER = click.IntRange(1, 2**31 - 1)


def _app(**overrides: object) -> object:
    # Here, not at the top: the app (every blueprint, the announcer) loads only for a
    # command that uses it, so `xephang --help` and the other commands start fast.
    from .app import create_app

    try:
        return create_app({"EVENTS_WRITE_ONLY": True, **overrides})
    except OSError as err:  # the instance folder (secret key, compiled catalogs) is not writable
        raise click.ClickException(
            f"Không ghi được vào {err.filename or 'thư mục dữ liệu'}: {err.strerror}. "
            "Kiểm tra quyền ghi và dung lượng ổ đĩa."
        ) from None


def storage_message(kind: str, detail: str | None = None) -> str:
    """What `init` and `serve` say, instead of a traceback, when the database takes no writes."""

    text = (
        f"Không ghi được cơ sở dữ liệu: {reason_text(kind)}. Kiểm tra quyền ghi của tệp và "
        "thư mục chứa nó (SQLite cần tạo tệp -wal và -shm bên cạnh), dung lượng ổ đĩa hoặc "
        "máy chủ cơ sở dữ liệu, rồi chạy lại."
    )
    return f"{text} Chi tiết: {detail}" if detail else text


def _storage_guard(command: Callable[..., None]) -> Callable[..., None]:
    """Run a command; a read-only, full or unreachable database ends it with a clear message."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except DBAPIError as err:
            kind = storage_fault(err)
            if kind is None:
                raise
            detail = str(err.orig).splitlines()[0] if err.orig else None
            raise click.ClickException(storage_message(kind, detail)) from None

    return run


@click.group(help="xephang — hệ thống xếp hàng lấy số thứ tự cho bộ phận một cửa.")
def cli() -> None:
    pass


@_storage_guard
def _init(demo: bool) -> None:
    from . import migrate  # Here: Alembic loads for `init` only.

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


@_storage_guard
def _serve(host: str, port: int) -> None:
    from .serving import NoDelayHandler  # Here: gevent's WSGI server, for `serve` only.

    app = _app(ASYNC_MODE="gevent", EVENTS_WRITE_ONLY=False)
    rt = runtime(app)  # type: ignore[arg-type]
    if not inspect(rt.db.engine).has_table("tickets"):
        raise click.ClickException(NOT_INITIALIZED)
    fault = probe(rt.db)  # a read-only file would answer every tap with 503: say so now
    if fault is not None:
        raise click.ClickException(storage_message(fault))
    socketio = app.extensions["socketio"]
    subscribe_now(socketio)
    start_purging(socketio, app)  # type: ignore[arg-type]  # phone hashes past their retention
    if app.config.get("ROLE") != "hub":
        from .sync.serving import start_syncing  # sends the outbox once `hub join` was run

        start_syncing(socketio, app)  # type: ignore[arg-type]
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
    _init(demo=True)
    rt = runtime(_app())  # type: ignore[arg-type]
    with rt.db.writes() as session:
        devices = demo_devices(session)
        passwords = demo_staff_passwords(session, rt.clock())
    staff_demo_counters(rt.db.reads, rt.uow)
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
            f"Lấy số từ xa trên điện thoại: {base}/s/demo "
            "(mã QR trên phiếu và trên máy lấy số mở trang theo dõi lượt)",
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
        "--printer",
        default=None,
        help="Chỉ cho kiosk: URL máy in, agent, browser, preview hoặc none.",
    )(command)
    return click.option("--label", default="")(command)


def _device_settings(role: str, printer: str | None, paper: str | None) -> dict[str, Any]:
    """A kiosk's printer settings, checked; a bad value ends the command (exit 2)."""

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
    rt = _tokens_db()
    try:
        with rt.db.writes() as session:
            revoke_token(session, token_id, rt.clock())
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)
    # Through Redis, every server process disconnects the device's open connections now.
    rt.cut_off(token_room(token_id))
    click.echo(f"Đã thu hồi mã truy cập số {token_id}.")
    if rt.socketio is None:
        click.echo(
            "Không có XEPHANG_REDIS_URL: kết nối trực tiếp đang mở của thiết bị bị ngắt"
            " khi nó hỏi lại trạng thái (màn hình: trong vòng 1 phút)."
        )


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


@cli.command(help="Báo cáo của một đơn vị (JSON, CSV hoặc XLSX), ví dụ cho việc chạy định kỳ.")
@click.option("--site", "site_code", required=True, help="Mã đơn vị.")
@click.option("--from", "from_text", required=True, help="Ngày đầu, YYYY-MM-DD.")
@click.option("--to", "to_text", required=True, help="Ngày cuối (tính cả ngày này), YYYY-MM-DD.")
@click.option(
    "--group", default="service", show_default=True, help="service, counter, clerk, hour, day."
)
@click.option("--format", "fmt", default="json", show_default=True, help="json, csv, xlsx.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp này.")
def report(
    site_code: str, from_text: str, to_text: str, group: str, fmt: str, output: str | None
) -> None:
    rt = _tokens_db()
    try:
        period = reports.parse_period(from_text, to_text)
        group = reports.parse_group(group)
        fmt = reports.parse_format(fmt)
        with rt.db.reads() as session:
            site_ids = [site_by_code(session, site_code).id]
            now = rt.clock()
            if fmt == "xlsx":
                body = reports.report_xlsx(
                    session, site_ids, period, now=now, first=group, store=rt.db.writes
                )
            else:
                data = reports.site_report(
                    session, site_ids, period, group, now=now, store=rt.db.writes
                )
                if fmt == "csv":
                    body = reports.report_csv(data)
                else:
                    body = (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)
    if output is None:
        if fmt == "xlsx" and sys.stdout.isatty():
            click.echo("Tệp XLSX cần --output TÊN_TỆP.xlsx (hoặc chuyển hướng ra tệp).", err=True)
            sys.exit(2)
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        with open(output, "wb") as out:
            out.write(body)
        click.echo(f"Đã ghi báo cáo vào {output}.", err=True)


__all__ = ["cli", "Config"]
from sounds.cli import sounds as _sounds_group  # noqa: E402

cli.add_command(_sounds_group)

from server.kiosk_pages.cli import print_ticket as _print_ticket  # noqa: E402

cli.add_command(_print_ticket)

from kiosk.agent_cli import kiosk_agent as _kiosk_agent  # noqa: E402
from kiosk.agent_cli import kiosk_print_test as _kiosk_print_test  # noqa: E402
from server.kiosk_pages.jobs_cli import print_jobs as _print_jobs  # noqa: E402

cli.add_command(_kiosk_agent)
cli.add_command(_kiosk_print_test)
cli.add_command(_print_jobs)

from .accounts.cli import user as _user_group  # noqa: E402

cli.add_command(_user_group)

from phone.purge import phones as _phones_group  # noqa: E402
from phone.purge import start_purging  # noqa: E402

cli.add_command(_phones_group)

from .hub_commands import hub as _hub_group  # noqa: E402

cli.add_command(_hub_group)
