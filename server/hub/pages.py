"""The province dashboard at the hub: every site, worst first (``server.hub.dashboard``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from ..runtime import runtime
from .dashboard import site_rows

bp = Blueprint(
    "province",
    __name__,
    url_prefix="/province",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
PROVINCE_ROLES = ("admin", "manager")


@bp.before_request
def _hub_only() -> None:
    if current_app.config.get("ROLE") != "hub":
        abort(404)


@bp.get("/")
@login_required
def dashboard() -> Any:
    if getattr(current_user, "role", None) not in PROVINCE_ROLES:
        abort(403)
    rt = runtime()
    now = rt.clock()
    with rt.db.reads() as session:
        rows = site_rows(session, now)
    return render_template("province/dashboard.html", rows=rows, now=now)
