"""REST API under /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import report_routes, routes  # noqa: E402,F401  (registers the views on bp)
