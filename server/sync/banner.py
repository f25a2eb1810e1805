"""The staff pages' banner while the province hub cannot be reached from this site."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, jsonify
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from ..models import HubLink, Site
from ..runtime import runtime

bp = Blueprint("hub_link", __name__)


def offline_since() -> tuple[datetime, str] | None:
    """Since when (and that moment in the site's zone, HH:MM) the hub is unreachable."""
    rt = runtime()
    with rt.db.reads() as session:
        row = session.execute(
            select(HubLink.down_since, Site.timezone)
            .join(Site, Site.id == HubLink.site_id)
            .where(HubLink.down_since.is_not(None))
            .order_by(HubLink.down_since)
            .limit(1)
        ).first()
    if row is None:
        return None
    return row[0], row[0].astimezone(ZoneInfo(row[1])).strftime("%H:%M")


def offline_text() -> str | None:
    since = offline_since()
    if since is None:
        return None
    return _("Mất kết nối với trung tâm tỉnh từ %(time)s", time=since[1])


@bp.get("/hub-link/status")
@login_required
def status() -> Any:
    """The banner's text for the staff pages' script (None: the hub answers)."""
    return jsonify({"offline": offline_text()})


def init_banner(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["hub_offline_text"] = offline_text
