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

from . import home, people, sites  # noqa: E402,F401  (register the views on bp)

__all__ = ["bp"]
