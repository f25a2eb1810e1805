"""The admin pages (``/admin``): sites, services, counters, staff, devices, the audit log.

Admins manage every site, managers their own; clerks are refused. Each module
registers its views on ``bp``; the rules and the saving live in plain functions
beside them, one transaction per change.
"""

from flask import Blueprint

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
)
GLOBAL_PAGES = (
    ("admin.index", "Đơn vị"),
    ("admin.users", "Cán bộ"),
    ("admin.audit_log", "Nhật ký"),
)


@bp.app_context_processor
def _menus() -> dict[str, object]:
    from flask import current_app
    from flask_babel import gettext

    def menu(pages: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
        return [(ep, gettext(label)) for ep, label in pages if ep in current_app.view_functions]

    return {"admin_site_pages": lambda: menu(SITE_PAGES), "admin_pages": lambda: menu(GLOBAL_PAGES)}


from . import (  # noqa: E402,F401  (each registers its views on bp)
    audit_log,
    counter_pages,
    devices,
    home,
    people,
    service_pages,
    sites,
)

__all__ = ["bp"]
