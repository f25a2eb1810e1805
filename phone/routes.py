"""The ticket's page on the citizen's phone: thin views over ``server.engine.tracking``."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from pydantic import Field, ValidationError

from kiosk.qr import qr_svg
from kiosk.settings import public_url
from kiosk.tracking import tracking_url
from server.api.schemas import Body, RatingReason
from server.engine.errors import QueueError
from server.engine.tracking import phone_view, rate_by_phone, ticket_by_token
from server.limits import limiter
from server.realtime.live import live_boot
from server.runtime import runtime
from server.tablet.routes import rating_levels, rating_reasons

from . import bp
from .texts import error_message, page_texts, priority_labels

# The page reads its snapshot this often when Socket.IO cannot get through (at most 15 s).
POLL_S = 15
# Through the hub the page only polls (no Socket.IO to the center): a call shows within this.
RELAYED_POLL_S = 5
# A phone rates once; this only stops a script hammering the endpoint.
RATING_ATTEMPTS = "10 per minute"


def poll_seconds() -> int:
    return min(POLL_S, int(current_app.config.get("PHONE_POLL_S", POLL_S)))


def _private(response: Response) -> Response:
    # The page is its ticket's only key: never kept by a shared cache, never sent elsewhere.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def not_found_page() -> Response:
    html = render_template("phone/not_found.html")
    return _private(Response(html, status=404, mimetype="text/html"))


def _view(token: str) -> dict[str, Any] | None:
    rt = runtime()
    with rt.db.reads() as session:
        ticket = ticket_by_token(session, token)
        return phone_view(session, ticket, rt.clock()) if ticket is not None else None


def _base_url() -> str:
    return public_url(current_app.config) or request.url_root


@bp.get("/t/", defaults={"rest": ""})
@bp.get("/t/<path:rest>")
def no_such_ticket(rest: str) -> Response:
    """Whatever else is under /t/ (a QR code read wrong, a link cut short): the page's 404."""
    return not_found_page()


@bp.get("/t/<token>")
def ticket_page(token: str) -> Response:
    view = _view(token)
    if view is None:
        return not_found_page()
    # The ticket's own link, as its QR code: the kiosk's scanner reads it off this screen.
    qr = qr_svg(tracking_url(_base_url(), token))
    # Through the province hub (server.sync.relay): no Socket.IO to the site, so poll.
    relayed = bool(request.environ.get("xephang.relayed"))
    boot = {
        "token": token,
        "view": view,
        "texts": page_texts(),
        "priorities": priority_labels(),
        "levels": rating_levels(view["rating"]["scale"]),
        "reasons": rating_reasons(),
        "live_url": url_for("phone.live", token=token),
        "rating_url": url_for("phone.rate", token=token),
        "poll_ms": (min(poll_seconds(), RELAYED_POLL_S) if relayed else poll_seconds()) * 1000,
        "worker_url": url_for("phone.worker"),
        "worker_scope": f"{request.script_root}/t/",
        "relayed": relayed,
        "csrf": generate_csrf(),
        "lang": str(get_locale() or "vi"),
        "live": live_boot(phone=True),
    }
    html = render_template("phone/ticket.html", boot=boot, view=view, qr=qr)
    return _private(Response(html, mimetype="text/html"))


@bp.get("/t/sw.js")
def worker() -> Response:
    """The service worker that lets Android show the call as a notification (scope /t/)."""
    response = send_from_directory(bp.static_folder or "", "phone/sw.js", max_age=3600)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response


@bp.get("/t/<token>/live")
def live(token: str) -> Response:
    """The snapshot the Socket.IO room starts with, for a phone that cannot connect to it."""
    view = _view(token)
    if view is None:
        return _problem(404, "ticket_not_found")
    return _private(jsonify(view))


class PhoneRatingIn(Body):
    score: int = Field(ge=1, le=5)
    reasons: list[RatingReason] = Field(default_factory=list, max_length=5)


def _problem(status: int, code: str, params: dict[str, Any] | None = None) -> Response:
    response = jsonify({"status": status, "code": code, "detail": error_message(code, params)})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return _private(response)


@bp.post("/t/<token>/rating")
@limiter.limit(RATING_ATTEMPTS)
def rate(token: str) -> Response:
    try:
        data = PhoneRatingIn.model_validate(request.get_json(silent=True))
    except ValidationError:
        return _problem(400, "validation_error")
    try:
        rating = rate_by_phone(runtime().uow(), token, data.score, reasons=data.reasons)
    except QueueError as err:
        status = {"not_found": 404, "invalid": 400}.get(err.kind, 409)
        return _problem(status, err.code, err.params)
    response = jsonify({"rating": {k: rating[k] for k in ("score", "scale", "reasons")}})
    response.status_code = 201
    return _private(response)
