"""Deleting the phone numbers' hashes after each site's retention period (Decree 13/2023).

``xephang phones purge`` does it once (for a cron job); ``xephang serve`` also does it at
start and every hour, so an installation keeps no hash longer than its sites allow even
with no cron job at all.
"""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask

from server.engine.remote import purge_phone_hashes
from server.runtime import runtime

log = logging.getLogger(__name__)

EVERY_S = 3600


def purge_now(app: Flask) -> int:
    removed = purge_phone_hashes(runtime(app).uow())
    if removed:
        log.info("deleted %d phone hashes past their retention period", removed)
    return removed


def start_purging(socketio: Any, app: Flask, every_s: float = EVERY_S) -> None:
    """Purge now and then every ``every_s`` seconds, in the server's background."""

    def loop() -> None:
        while True:
            try:
                purge_now(app)
            except Exception:  # a database hiccup: the next round tries again
                log.exception("purging phone hashes failed")
            socketio.sleep(every_s)

    socketio.start_background_task(loop)


@click.group("phones", help="Số điện thoại của số lấy từ xa (chỉ lưu dạng mã hóa một chiều).")
def phones() -> None:
    pass


@phones.command("purge", help="Xóa mã hóa số điện thoại đã quá thời hạn lưu của từng đơn vị.")
def purge() -> None:
    from server.cli import _app  # Here: server.cli imports this module's commands.

    app = _app()
    removed = purge_now(app)  # type: ignore[arg-type]
    click.echo(f"Đã xóa {removed} bản ghi số điện thoại quá hạn lưu.")
