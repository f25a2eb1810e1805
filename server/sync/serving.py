"""The sync worker as `xephang serve` runs it: a background task of the server."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from ..runtime import runtime
from .relay import RelayWorker
from .worker import BATCH, KEEP_DAYS, SyncWorker

log = logging.getLogger(__name__)


def cut_off_staff(rt: Any, user_ids: list[int]) -> None:
    """Accounts the hub's configuration took away (their sessions ended with the change):
    they leave the counter they hold, and their open pages lose their live link now."""
    from .. import engine
    from ..realtime.cutoff import user_room

    for user_id in user_ids:
        engine.sign_out(rt.uow(), user_id, actor="hub")
    rt.cut_off(*(user_room(user_id) for user_id in user_ids))


def start_syncing(socketio: Any, app: Flask) -> SyncWorker:
    """Start sending the outbox of every joined site (none joined: it only looks now and then)."""
    rt = runtime(app)
    worker = SyncWorker(
        rt.db,
        rt.clock,
        batch=int(app.config.get("SYNC_BATCH", BATCH)),
        backoff_max_s=float(app.config.get("SYNC_BACKOFF_MAX_S", 30.0)),
        timeout_s=float(app.config.get("SYNC_TIMEOUT_S", 30.0)),
        keep_days=float(app.config.get("SYNC_KEEP_DAYS", KEEP_DAYS)),
    )

    def changed(site_id: int) -> None:
        # The staff pages' banner: tell them to read the link's state again.
        from ..engine.events import SITE_UPDATED, Event

        try:
            from ..models import Site

            with rt.db.reads() as session:
                site = session.get(Site, site_id)
                code = site.code if site is not None else ""
            rt.publisher([Event(SITE_UPDATED, site_id, code, {"changed": "hub_link"})])
        except Exception:  # the banner follows on the next page load anyway
            log.exception("telling the pages of the hub link failed")

    worker.on_change = changed

    worker.on_staff_lost = lambda user_ids: cut_off_staff(rt, user_ids)
    worker.publisher = rt.publisher
    socketio.start_background_task(worker.run, socketio.sleep)
    # Citizens' phones that reach the center only through the hub (server.hub.relay).
    relay = RelayWorker(
        app,
        rt.db,
        timeout_s=float(app.config.get("SYNC_TIMEOUT_S", 30.0)),
        backoff_max_s=float(app.config.get("SYNC_BACKOFF_MAX_S", 30.0)),
    )
    socketio.start_background_task(relay.run, socketio.sleep)
    return worker
