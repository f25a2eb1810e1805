"""Lobby and counter displays (issue 4): server-rendered pages, small JS modules, the voice.

GET /display/                  the lobby display (query string: layout, see display.options)
GET /display/counter/<n>       the screen above counter n
GET /display/fonts/<file>      the bundled font (DejaVu Sans)
"""

from flask import Blueprint

bp = Blueprint(
    "display",
    __name__,
    url_prefix="/display",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from . import routes  # noqa: E402,F401  (the views register on bp)

__all__ = ["bp"]
