"""The citizen's phone (issue 12): the page behind the ticket's QR code, and numbers from home.

GET  /t/<tracking token>            the ticket's page (live; the token is the only key)
GET  /t/<tracking token>/live       the same snapshot as JSON: the page polls it when
                                    Socket.IO cannot get through
POST /t/<tracking token>/rating     the citizen rates the finished ticket from the phone
GET  /s/<site>                      take a number from home: the services open for it
POST /s/<site>                      … take it (a phone number is asked), then its page
"""

from flask import Blueprint

bp = Blueprint(
    "phone",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/phone/static",
)

from . import remote, routes  # noqa: E402,F401  (the views register on bp)

__all__ = ["bp"]
