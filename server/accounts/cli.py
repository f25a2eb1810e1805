"""`xephang user ...`, and the first admin account that `xephang init` makes."""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy import inspect

from ..realtime.cutoff import user_room
from ..runtime import runtime
from .services import (
    FIRST_ADMIN,
    ROLES,
    AccountError,
    create_first_admin,
    create_user,
    generate_password,
    reset_password,
)

NOT_INITIALIZED = "Cơ sở dữ liệu chưa được khởi tạo: chạy `xephang init` trước."


def _runtime() -> Any:
    # Here, not at the top: the app (every blueprint, the announcer) loads only for a
    # command that uses it, so `xephang --help` and the other commands start fast.
    from ..app import create_app

    rt = runtime(create_app({"EVENTS_WRITE_ONLY": True}))
    if not inspect(rt.db.engine).has_table("users"):
        raise click.ClickException(NOT_INITIALIZED)
    return rt


def echo_first_admin(rt: Any) -> None:
    """After `init`: make the first admin when there is no account, and show its password once."""
    with rt.db.writes() as session, session.begin():
        password = create_first_admin(session, rt.clock())
    if password is not None:
        click.echo(f"Đã tạo tài khoản quản trị đầu tiên: {FIRST_ADMIN}")
        click.echo(f"Mật khẩu (chỉ hiện một lần, hãy ghi lại): {password}")


def _new_password(from_stdin: bool) -> tuple[str, bool]:
    """The password read from stdin, or a generated one (then it is printed)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return generate_password(), True


@click.group(help="Tài khoản cán bộ, người quản lý và quản trị viên.")
def user() -> None:
    pass


@user.command("create", help="Tạo tài khoản; in ra mật khẩu được sinh ngẫu nhiên.")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--site", "sites", multiple=True, help="Mã đơn vị (lặp lại cho nhiều đơn vị).")
@click.option("--full-name", default="", help="Họ và tên.")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ đầu vào chuẩn.")
def user_create(
    username: str, role: str, sites: tuple[str, ...], full_name: str, password_stdin: bool
) -> None:
    rt = _runtime()
    password, generated = _new_password(password_stdin)
    try:
        with rt.db.writes() as session, session.begin():
            created = create_user(
                session,
                username,
                role,
                password,
                rt.clock(),
                site_codes=sites,
                full_name=full_name,
            )
            name = created.username
    except AccountError as err:
        click.echo(err.message, err=True)
        sys.exit(2)
    click.echo(f"Đã tạo tài khoản {name} ({role}).")
    if generated:
        click.echo(f"Mật khẩu (chỉ hiện một lần): {password}")


@user.command("password", help="Đặt lại mật khẩu; in ra mật khẩu mới được sinh ngẫu nhiên.")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ đầu vào chuẩn.")
def user_password(username: str, password_stdin: bool) -> None:
    rt = _runtime()
    password, generated = _new_password(password_stdin)
    try:
        changed = reset_password(rt.uow(), username, password)
        name, user_id = changed.username, changed.id
    except AccountError as err:
        click.echo(err.message, err=True)
        sys.exit(2)
    rt.cut_off(user_room(user_id))  # the account's sessions ended with the old password
    click.echo(f"Đã đặt lại mật khẩu cho {name}.")
    if generated:
        click.echo(f"Mật khẩu mới (chỉ hiện một lần): {password}")
