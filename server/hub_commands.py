"""`xephang hub …`: at the hub, join codes and revocation; at a site, join and status."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import click

from .engine.errors import QueueError
from .messages import error_text


@click.group(help="Trung tâm tỉnh (hub) và đơn vị cấp xã (site): tham gia, đồng bộ, trạng thái.")
def hub() -> None:
    pass


def _db():  # type: ignore[no-untyped-def]
    from .cli import _tokens_db

    return _tokens_db()


@hub.command(
    "code",
    help=("Tại trung tâm tỉnh: đăng ký đơn vị (nếu mới) và in mã tham gia dùng một lần."),
)
@click.option("--site", "site_code", required=True, help="Mã đơn vị, ví dụ xa-an-binh.")
@click.option("--name", default=None, help="Tên đơn vị (khi đăng ký mới).")
def hub_code(site_code: str, name: str | None) -> None:
    from .hub.credentials import JOIN_CODE_TTL, register_site

    rt = _db()
    now = rt.clock()
    try:
        with rt.db.writes() as session:
            site, code = register_site(session, site_code, name, now)
            tz_name = site.timezone
            session.commit()
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)
    click.echo(code)
    until = (now + JOIN_CODE_TTL).astimezone(ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M")
    click.echo(f"Hết hạn lúc {until}; chỉ dùng được một lần.", err=True)


@hub.command(
    "revoke",
    help=("Tại trung tâm tỉnh: thu hồi mã kết nối của một đơn vị (có hiệu lực ngay)."),
)
@click.option("--site", "site_code", required=True)
def hub_revoke(site_code: str) -> None:
    from .hub.credentials import revoke_site

    rt = _db()
    try:
        with rt.db.writes() as session:
            revoke_site(session, site_code, rt.clock())
            session.commit()
    except QueueError as err:
        click.echo(error_text(err.code, err.params), err=True)
        sys.exit(2)
    click.echo(f"Đã thu hồi mã kết nối của đơn vị {site_code}.")


@hub.command(
    "join",
    help=(
        "Tại đơn vị: tham gia trung tâm tỉnh bằng mã tỉnh cấp; sau đó `xephang serve` tự đồng bộ."
    ),
)
@click.option(
    "--hub", "hub_url", required=True, help="Địa chỉ trung tâm tỉnh, ví dụ https://tinh.gov.vn"
)
@click.option("--code", required=True, help="Mã tham gia do `xephang hub code` in ra.")
@click.option(
    "--managed",
    type=click.Choice(["local", "hub"]),
    default="local",
    show_default=True,
    help="Ai quản lý lĩnh vực, quầy, cài đặt: local (tại đơn vị) hoặc hub (tại tỉnh).",
)
def hub_join(hub_url: str, code: str, managed: str) -> None:
    from .sync.link import JoinError, join_hub

    rt = _db()
    try:
        with rt.db.writes() as session:
            link = join_hub(session, hub_url, code, managed, rt.clock())
            site_id = link.site_id
            session.commit()
    except JoinError as err:
        click.echo(str(err), err=True)
        sys.exit(2)
    from .models import Site

    with rt.db.reads() as session:
        site = session.get(Site, site_id)
        assert site is not None
        click.echo(f"Đơn vị {site.code} đã tham gia trung tâm tỉnh {hub_url.rstrip('/')}.")
    click.echo("Chạy `xephang serve`: máy chủ tự gửi dữ liệu lên tỉnh.")


@hub.command(
    "status",
    help=("Tại đơn vị: số cuối cùng trung tâm tỉnh đã nhận và số sự kiện còn chờ gửi."),
)
def hub_status() -> None:
    from .sync.link import link_status

    rt = _db()
    with rt.db.reads() as session:
        rows = link_status(session)
    if not rows:
        click.echo("Đơn vị chưa tham gia trung tâm tỉnh nào (`xephang hub join`).")
        return
    for row in rows:
        click.echo(f"đơn vị: {row.site_code}")
        click.echo(f"trung tâm tỉnh: {row.hub_url}")
        click.echo(f"quản lý cấu hình: {row.managed}")
        click.echo(f"đã nhận đến số: {row.acked_seq}")
        click.echo(f"còn chờ gửi: {row.backlog}")
        if row.down_since is not None:
            click.echo(f"mất kết nối từ: {row.down_since.isoformat()} ({row.last_error or ''})")
        elif row.last_ok_at is not None:
            click.echo(f"đồng bộ lần cuối: {row.last_ok_at.isoformat()}")
