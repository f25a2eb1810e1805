"""The clerk workstation (``/counter``): sign in at a counter, call, serve, finish."""

from flask import Blueprint

bp = Blueprint(
    "counter",
    __name__,
    url_prefix="/counter",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from . import routes  # noqa: E402,F401  (registers the views on bp)

__all__ = ["bp"]
