"""The touch kiosk: its page, the ticket it prints through the browser, and its issue endpoint.

    GET  /kiosk/                         the page, for a paired kiosk device
    POST /kiosk/api/tickets              take a number (bearer = the kiosk's token)
    POST /kiosk/api/check-in             a number from home arrives (its QR code or code)
    GET  /kiosk/tickets/<id>/slip        the ticket as HTML, for browser printing
    GET  /kiosk/fonts/<file>             the bundled font (DejaVu Sans)

The views only adapt: queue rules stay in ``server.engine``, printing in
``server.kiosk_pages.dispatch``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import get_locale

from kiosk import fonts
from kiosk.browser_ticket import browser_ticket
from kiosk.device_settings import DEFAULT_PAPER, PrintSettings, print_settings
from kiosk.errors import PrintError
from kiosk.layout import paper_for
from kiosk.qr import qr_svg
from kiosk.tracking import tracking_url
from server import engine
from server.api.auth import current_principal
from server.api.problems import ApiProblem, answer_with_problems
from server.api.routes import parse
from server.api.schemas import DB_INT_MAX, CheckInIn, IssueTicketIn
from server.db import retried_with_key
from server.devices import device_token, paired
from server.engine.remote import check_in as check_in_number
from server.engine.rules import PRIORITY_REASONS
from server.models import ApiToken
from server.realtime.live import live_boot
from server.runtime import runtime
from server.tokens import Principal

from . import dispatch
from .lookup import requested_slip
from .notify import base_url
from .page_text import REFUSALS, all_texts, page_texts, priority_choices

log = logging.getLogger(__name__)

bp = Blueprint(
    "kiosk",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

answer_with_problems(bp)

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_MAX_AGE_S = 30 * 24 * 3600
# Seconds: how long the number stays on screen (longer when the printer failed,
# so the citizen can note it), how long a half-finished choice waits for a
# touch, and when the idle screen comes.
TIMEOUTS = {"ticket": 12, "ticket_unprinted": 25, "choice": 30, "idle": 90, "error": 8}


# --- where this kiosk prints (kiosk.device_settings) -------------------------------------


def kiosk_print_settings(principal: Principal) -> PrintSettings | None:
    """The kiosk's checked print settings; ``None`` when unusable (printing reports that)."""
    raw = principal.device_settings
    if raw is None:  # a principal not read from the token's row
        with runtime().db.reads() as session:
            token = session.get(ApiToken, principal.token_id)
            raw = token.settings if token is not None else None
    try:
        return print_settings(raw)
    except PrintError:
        return None


# The kiosk page itself prints the ticket (browser) or shows it on its screen (preview).
PAGE_PLACEMENTS = ("browser", "preview")


def prints_in_browser(settings: PrintSettings | None) -> bool:
    return settings is not None and settings.placement in PAGE_PLACEMENTS


def paper_mm(settings: PrintSettings | None) -> int:
    return settings.paper if settings is not None else DEFAULT_PAPER


# --- errors of the issue endpoint, as the REST API gives them ---------------------------


# --- the page ---------------------------------------------------------------------


def _no_store(response: Response) -> Response:
    # The page carries the device's token; the slip its tracking link.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@paired("kiosk")
def home(principal: Principal) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        state = engine.site_state(session, principal.site_code, rt.clock())
    language = str(get_locale() or "vi")
    page = {
        "token": device_token(),
        "language": language,
        "state": state,
        "texts": all_texts(),
        "priorities": list(PRIORITY_REASONS),
        "refusals": REFUSALS,
        "issue_url": url_for("kiosk.issue"),
        "timeouts": {**TIMEOUTS, **current_app.config.get("KIOSK_TIMEOUTS", {})},
        "live": live_boot(),
    }
    html = render_template(
        "kiosk/home.html",
        t=page_texts(language),
        site=state["site"],
        priorities=priority_choices(language),
        page=page,
    )
    return _no_store(Response(html, mimetype="text/html"))


@bp.get("/fonts/<name>")
def font(name: str) -> Response:
    """The bundled font, so Vietnamese looks the same with no font installed on the PC."""
    if name not in FONT_FILES:
        abort(404)
    return send_from_directory(
        fonts.FOLDER, name, mimetype="font/ttf", max_age=FONT_MAX_AGE_S, conditional=True
    )


@bp.get(f"/tickets/<int(max={DB_INT_MAX}):ticket_id>/slip")
@paired("kiosk")
def slip(principal: Principal, ticket_id: int) -> Response:
    """The ticket as HTML sized to the paper; the page prints it with ``window.print()``
    (or, for a kiosk that previews, shows it as it is)."""
    try:
        paper = paper_for(request.args.get("paper") or paper_mm(kiosk_print_settings(principal)))
    except ValueError:
        abort(400)
    ticket = requested_slip(ticket_id, principal.site_id)
    html = render_template(
        "kiosk/slip.html",
        ticket=browser_ticket(ticket, paper),
        number=ticket.number,
        ticket_id=ticket_id,
    )
    return _no_store(Response(html, mimetype="text/html"))


# --- taking a number --------------------------------------------------------------


def _kiosk() -> Principal:
    """Only a kiosk's bearer token: a session cookie alone never issues (no CSRF to fear)."""
    principal = current_principal()
    if principal.role != "kiosk":
        raise ApiProblem(403, "forbidden")
    return principal


def _print_result(
    placement: str, status: str, error_code: str | None = None, message: str | None = None
) -> dict[str, Any]:
    return {
        "placement": placement,
        "status": status,
        "job_id": None,
        "error_code": error_code,
        "message": message,
    }


def print_new_ticket(principal: Principal, ticket_id: int, number: str) -> dict[str, Any]:
    """Hand the ticket to ``.dispatch``; whatever happens there, the ticket stands."""
    try:
        result = dispatch.print_issued_ticket(principal, ticket_id, number)
    except Exception:  # dispatch reports printer trouble itself; this is a bug, logged
        log.exception("printing ticket %s failed", ticket_id)
        return _print_result("none", "failed", "print_error")
    return {
        "placement": result.placement,
        "status": result.status,
        "job_id": result.job_id,
        "error_code": result.error_code,
        "message": result.message,
    }


def _replayed_print(settings: PrintSettings | None) -> dict[str, Any]:
    """A retry of a request the kiosk got no answer to: print nothing twice.

    A printer driven by the server or the kiosk agent already had the job; a
    kiosk that prints in the browser printed nothing yet, so it prints now.
    """
    if settings is not None and prints_in_browser(settings):
        return _print_result(settings.placement, settings.placement)
    placement = settings.placement if settings is not None else "none"
    return _print_result(placement, "skipped", "replayed")


def on_screen_tracking(tracking_token: str) -> dict[str, Any]:
    """The ticket's tracking link and its QR code for the kiosk's screen (as printed), so a
    citizen whose ticket did not print can still follow it on the phone."""

    url = tracking_url(base_url() or request.url_root, tracking_token)
    return {"url": url, "qr": qr_svg(url)}


@bp.post("/api/tickets")
@retried_with_key
def issue() -> tuple[Response, int]:
    """Issue a ticket on this kiosk (channel "kiosk") and print it.

    ``Idempotency-Key`` (one per tap, reused on retries) returns the first
    ticket again instead of a new one.
    """
    principal = _kiosk()
    data = parse(IssueTicketIn)
    issued = engine.issue_ticket(
        runtime().uow(),
        principal.site_code,
        data.service,
        priority=data.priority,
        channel="kiosk",
        idempotency_key=request.headers.get("Idempotency-Key"),
        actor=principal.actor,
    )
    ticket = {k: v for k, v in issued.ticket.items() if k != "tracking_token"}
    tracking = on_screen_tracking(issued.ticket["tracking_token"])
    settings = kiosk_print_settings(principal)
    if issued.replayed:
        printed = _replayed_print(settings)
    else:
        printed = print_new_ticket(principal, ticket["id"], ticket["number"])
    if printed["placement"] in PAGE_PLACEMENTS:
        printed["slip_url"] = url_for(
            "kiosk.slip", ticket_id=ticket["id"], paper=paper_mm(settings)
        )
    response = jsonify(
        {"ticket": ticket, "replayed": issued.replayed, "print": printed, "tracking": tracking}
    )
    response.headers["Cache-Control"] = "no-store"
    if issued.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        return response, 200
    return response, 201


@bp.post("/api/check-in")
def check_in() -> Response:
    """A number taken from home arrives: its QR code scanned at this kiosk (a scanner types
    the link), or its check-in code typed on the screen. It joins the calling order now."""
    principal = _kiosk()
    data = parse(CheckInIn)
    ticket = check_in_number(
        runtime().uow(),
        principal.site_code,
        tracking_token=data.tracking_token,
        code=data.code,
        actor=principal.actor,
    )
    tracking = on_screen_tracking(ticket.pop("tracking_token"))
    response = jsonify({"ticket": ticket, "tracking": tracking})
    response.headers["Cache-Control"] = "no-store"
    return response
