"""`xephang print-jobs`: the tickets kiosks printed or failed to print, and reprinting them."""

from __future__ import annotations

import sys

import click
from sqlalchemy import inspect

from kiosk.print_messages import device_name
from server.engine.errors import QueueError
from server.engine.views import site_by_code
from server.messages import error_text
from server.runtime import runtime
from server.timeutil import local

from .jobs import list_jobs
from .retry import retry_job

STATUSES = (
    "pending",
    "printed",
    "failed",
)  # server.kiosk_pages.jobs' statuses, without importing the models
FAILED = "failed"


@click.command(
    "print-jobs",
    help=(
        "Liệt kê lệnh in phiếu của đơn vị (mới nhất trước); --retry in lại các lệnh in lỗi "
        "(ví dụ sau khi thay giấy). Mã thoát: 0 xong, 1 còn lệnh in lại không được, "
        "2 sai tham số."
    ),
)
@click.option("--site", "site_code", required=True, help="Mã đơn vị.")
@click.option(
    "--status", type=click.Choice(STATUSES), default=None, help="Chỉ lệnh in ở trạng thái này."
)
@click.option(
    "--job", "job_id", type=click.IntRange(1, 2**31 - 1), default=None, help="Chỉ một lệnh in."
)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--retry", is_flag=True, help="In lại các lệnh in lỗi (trạng thái failed).")
def print_jobs(
    site_code: str, status: str | None, job_id: int | None, limit: int, retry: bool
) -> None:
    # Here, not at the top: the app (every blueprint, the announcer) loads only for a
    # command that uses it, so `xephang --help` and the other commands start fast.
    from server.app import create_app

    app = create_app({"EVENTS_WRITE_ONLY": True})
    rt = runtime(app)
    try:
        if not inspect(rt.db.engine).has_table("print_jobs"):
            raise click.ClickException(
                "Cơ sở dữ liệu chưa được khởi tạo: chạy `xephang init` trước."
            )
        with rt.db.reads() as session:
            try:
                site = site_by_code(session, site_code)
            except QueueError as err:
                click.echo(error_text(err.code, err.params), err=True)
                sys.exit(2)
            wanted = FAILED if retry else status
            rows = list_jobs(session, site.id, status=wanted, job_id=job_id, limit=limit)
            zone = site.timezone
        if not retry:
            if not rows:
                click.echo("Không có lệnh in nào.")
            for row in rows:
                when = local(row.created_at, zone).strftime("%d/%m/%Y %H:%M")
                device = device_name(row.device_label, row.device_id)
                line = (
                    f"#{row.id}  phiếu {row.number} (mã {row.ticket_id})  kiosk {device}  "
                    f"{row.status}  {row.attempts} lần  {when}"
                )
                click.echo(line + (f"  {row.last_error}" if row.last_error else ""))
            return
        if not rows:
            click.echo("Không có lệnh in lỗi nào cần in lại.")
            return
        failed = 0
        with app.app_context():
            for row in reversed(rows):  # oldest first, as the citizens came
                outcome = retry_job(row.id)
                failed += outcome.status == FAILED
                click.echo(f"#{row.id} phiếu {row.number}: {outcome.message}")
        if failed:
            sys.exit(1)
    finally:
        rt.db.dispose()
