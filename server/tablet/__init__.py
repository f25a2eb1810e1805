"""The rating tablet at a counter (issue 5): the citizen rates the service just received.

GET /rate/    the tablet's page (a paired ``tablet`` device; its token names its counter)

Everything of the tablet is named ``tablet`` (this package, the blueprint, ``templates/tablet``,
``static/tablet``, the device role); only its address stays ``/rate/``, the one paired tablets
were given.
"""

from flask import Blueprint

bp = Blueprint("tablet", __name__, url_prefix="/rate")

from . import routes  # noqa: E402,F401  (the views register on bp)

__all__ = ["bp"]
