"""The live dashboard (``/admin/live/<site>``) and the province view (``/admin/live``).

The page connects to its site's Socket.IO room like the clerk's page (``connect.js``,
with the login session): every event there, and a timer (a wait passes the target
without any event), makes it read the snapshot again from ``…/live.json``, which is
``server.reports.dashboard.site_dashboard``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..kiosk_pages.notify import PRINTER_FAILED
from ..models import Site
from ..realtime.live import live_boot
from ..reports import dashboard
from ..runtime import runtime
from . import bp
from .access import manageable_sites, manager_page, me

# Seconds between two readings of the snapshot when no event comes (app config overrides).
REFRESH_S = 15


def _refresh_ms() -> int:
    return int(float(current_app.config.get("DASHBOARD_REFRESH_S", REFRESH_S)) * 1000)


def _site(session: Any, code: str) -> Site:
    """The site of the URL if this person may see it: 404 unknown, 403 not theirs."""
    staff = me()
    site = session.execute(select(Site).where(Site.code == code)).scalar_one_or_none()
    if site is None:
        abort(404)
    if staff.role != "admin" and site.id not in staff.site_ids:
        abort(403)
    return site


def texts() -> dict[str, str]:
    """What live.js writes, in the page's language."""
    return {
        "connected": _("Đã kết nối"),
        "offline": _("Mất kết nối — đang kết nối lại…"),
        "state_serving": _("Đang phục vụ"),
        "state_called": _("Đang gọi"),
        "state_idle": _("Đang rảnh"),
        "state_paused": _("Đang tạm dừng"),
        "state_off": _("Chưa có cán bộ"),
        "minutes": _("{n} phút"),
        "seconds": _("{n} giây"),
        "hours": _("{h} giờ {m} phút"),
        "none": "–",
        "alert_over_target": _(
            "{service}: {count} phiếu chờ quá {target} phút (lâu nhất {number}, {wait})"
        ),
        "alert_unserved": _(
            "{service}: {count} phiếu đang chờ nhưng không quầy nào đang mở phục vụ"
        ),
        "alert_printer": _("Máy in {device} gặp sự cố (số {number}): {error}"),
        "no_alerts": _("Không có cảnh báo."),
        "no_counters": _("Đơn vị chưa có quầy."),
    }


def _live() -> dict[str, Any]:
    """The site's room, and a kiosk's failed print (the dashboard's printer alert)."""
    live = live_boot()
    live["messages"] = [*live["messages"], PRINTER_FAILED]
    live["names"]["PRINTER_FAILED"] = PRINTER_FAILED
    return live


@bp.get("/live")
@manager_page
def live_overview() -> Any:
    """Every site this person may see, side by side, worst first."""
    rt = runtime()
    with rt.db.reads() as session:
        sites = manageable_sites(session, me())
        lines = dashboard.province_overview(session, [s.code for s in sites], rt.clock())
    boot = {
        "url": url_for("admin.live_overview_json"),
        "refresh_ms": _refresh_ms(),
        "texts": texts(),
    }
    return render_template("admin/province.html", lines=lines, boot=boot)


@bp.get("/live.json")
@manager_page
def live_overview_json() -> Any:
    rt = runtime()
    with rt.db.reads() as session:
        sites = manageable_sites(session, me())
        lines = dashboard.province_overview(session, [s.code for s in sites], rt.clock())
    for line in lines:
        line["url"] = url_for("admin.live_site", code=line["site"]["code"])
    response = jsonify(lines=lines)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/live/<code>")
@manager_page
def live_site(code: str) -> Any:
    rt = runtime()
    with rt.db.reads() as session:
        site = _site(session, code)
        snapshot = dashboard.site_dashboard(session, site.code, rt.clock())
    boot = {
        "site": site.code,
        "url": url_for("admin.live_site_json", code=site.code),
        "refresh_ms": _refresh_ms(),
        "texts": texts(),
        "snapshot": snapshot,
        "live": _live(),
    }
    return render_template("admin/live.html", live_site=site, snapshot=snapshot, boot=boot)


@bp.get("/live/<code>/live.json")
@manager_page
def live_site_json(code: str) -> Any:
    rt = runtime()
    with rt.db.reads() as session:
        site = _site(session, code)
        snapshot = dashboard.site_dashboard(session, site.code, rt.clock())
    response = jsonify(snapshot)
    response.headers["Cache-Control"] = "no-store"
    return response
