"""The rating tablet at a counter (issue 5): the citizen rates the service just received.

GET /rate/    the tablet's page (a paired ``tablet`` device; its token names its counter)
"""

from flask import Blueprint

bp = Blueprint("rate", __name__, url_prefix="/rate")

from . import routes  # noqa: E402,F401  (the views register on bp)

__all__ = ["bp"]
