"""The admin pages (``/admin``): sites, services, counters, staff, devices, the audit log.

Admins manage every site, managers their own; clerks are refused. Each module
registers its views on ``bp``; the rules and the saving live in plain functions
beside them, one transaction per change.
"""

from flask import Blueprint, current_app
from flask_babel import gettext

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# The site's pages in the menu: (endpoint, label); an endpoint not registered is left out.
SITE_PAGES = (
    ("admin.site_settings", "Cài đặt"),
    ("admin.services", "Lĩnh vực"),
    ("admin.counters", "Quầy"),
    ("admin.devices", "Thiết bị"),
    ("admin.live_site", "Trực tiếp"),
)
GLOBAL_PAGES = (
    ("admin.index", "Đơn vị"),
    ("admin.users", "Cán bộ"),
    ("admin.reports_page", "Báo cáo"),
    ("admin.live_overview", "Trực tiếp"),
    ("admin.audit_log", "Nhật ký"),
)


@bp.app_context_processor
def _menus() -> dict[str, object]:
    def menu(pages: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
        return [(ep, gettext(label)) for ep, label in pages if ep in current_app.view_functions]

    return {"admin_site_pages": lambda: menu(SITE_PAGES), "admin_pages": lambda: menu(GLOBAL_PAGES)}


# What a site managed at the province hub (``xephang hub join --managed hub``) cannot
# change here: the hub's configuration owns these fields (server.sync.config).
HUB_MANAGED_ENDPOINTS = (
    "admin.site_settings",
    "admin.service_new",
    "admin.service_edit",
    "admin.counter_new",
    "admin.counter_edit",
)


@bp.before_request
def _managed_at_hub() -> object:
    from flask import flash, redirect, request
    from flask_babel import gettext

    if request.method != "POST" or request.endpoint not in HUB_MANAGED_ENDPOINTS:
        return None
    code = (request.view_args or {}).get("code")
    from sqlalchemy import select

    from ..models import HubLink, Site
    from ..runtime import runtime

    with runtime().db.reads() as session:
        managed = session.scalar(
            select(HubLink.managed).join(Site, Site.id == HubLink.site_id).where(Site.code == code)
        )
    if managed != "hub":
        return None
    flash(
        gettext(
            "Cấu hình của đơn vị này do trung tâm tỉnh quản lý: hãy sửa tại trang quản trị"
            " của tỉnh."
        ),
        "error",
    )
    return redirect(request.path, 303)


from . import (  # noqa: E402,F401  (each registers its views on bp)
    audit_log,
    counter_pages,
    devices,
    home,
    live_pages,
    people,
    report_pages,
    service_pages,
    sites,
)

__all__ = ["bp"]
