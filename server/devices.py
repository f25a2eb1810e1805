"""Pairing a kiosk or display screen with the server, once, by its access token.

Whoever sets up the screen types the one-time pairing code an admin made into the
form at ``/pair`` (or opens ``/pair?code=…``, or ``/pair?token=…`` with a token);
the token is kept in the browser's signed session cookie, and the device's pages
give it to their scripts for the API and Socket.IO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from .accounts.security import current_staff
from .engine.errors import QueueError
from .limits import PAIRING_ATTEMPTS, limiter
from .messages import error_text
from .models import ApiToken
from .pairing_codes import redeem_pairing_code
from .runtime import runtime
from .safe_redirect import local_path
from .tokens import Principal, cached_principal, resolve_token, token_cache_seconds

bp = Blueprint("devices", __name__)

F = TypeVar("F", bound=Callable[..., Any])
SESSION_KEY = "device_token"
DEVICE_ROLES = ("kiosk", "display", "tablet", "clerk", "manager", "admin")
# Where each role lands after pairing (endpoints of the packages' blueprints).
HOME_ENDPOINTS = {"kiosk": "kiosk.home", "display": "display.lobby", "tablet": "tablet.home"}


def device_token() -> str | None:
    token = session.get(SESSION_KEY)
    return token if isinstance(token, str) else None


def device_settings(principal: Principal) -> Mapping[str, Any]:
    """What an admin set for this device (its token's settings), ``{}`` when none."""
    with runtime().db.reads() as session:
        token = session.get(ApiToken, principal.token_id)
        settings = token.settings if token is not None else None
    return settings if isinstance(settings, Mapping) else {}


def device_principal() -> Principal | None:
    """The paired device, if its token is still valid (a revoked token unpairs it)."""
    token = device_token()
    if token is None:
        return None
    ttl = token_cache_seconds(current_app.config)
    return cached_principal(runtime().db.reads, token, ttl)


def paired(*roles: str) -> Callable[[F], F]:
    """Page views for a paired device of these roles; others are sent to pair first."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = device_principal()
            if principal is None or principal.role not in roles:
                return redirect(url_for("devices.pair", next=request.full_path.rstrip("?")))
            return view(principal, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _home(principal: Principal) -> str:
    endpoint = HOME_ENDPOINTS.get(principal.role)
    try:
        return url_for(endpoint) if endpoint else "/"
    except Exception:  # that page's package is not installed in this app
        return "/"


@bp.route("/pair", methods=["GET", "POST"])
@limiter.limit(PAIRING_ATTEMPTS, methods=["POST"])
def pair() -> Response | str | tuple[str, int]:
    token = (request.values.get("token") or "").strip()
    code = (request.values.get("code") or "").strip()
    next_path = local_path(request.values.get("next"))
    staff = current_staff()
    if staff is not None:
        # A screen the public sees must not keep a staff login, and a pairing link opened
        # in a staff member's browser must not log them out: say so, spend nothing.
        page = render_template(
            "devices/pair_staff.html", staff=staff, again=local_path(request.full_path)
        )
        return page, 409
    if request.method == "GET" and code:
        # A one-time code is spent by the form's POST only: a link preview fetching the
        # URL must not use it up.
        return render_template("devices/pair.html", next=next_path, error=None, code=code)
    if not token and not code:
        return render_template("devices/pair.html", next=next_path, error=None)
    if code and not token:
        rt = runtime()
        try:
            with rt.db.writes() as db_session:
                token = redeem_pairing_code(db_session, code, rt.clock())
        except QueueError as err:
            error = _(error_text(err.code, err.params))
            return render_template("devices/pair.html", next=next_path, error=error), 400
    with runtime().db.reads() as db_session:
        principal = resolve_token(db_session, token)
    if principal is None or principal.role not in DEVICE_ROLES:
        error = _("Mã truy cập không hợp lệ hoặc đã bị thu hồi.")
        return render_template("devices/pair.html", next=next_path, error=error), 401
    session.clear()
    session[SESSION_KEY] = token
    session.permanent = True
    return redirect(next_path or _home(principal))  # type: ignore[return-value]


@bp.post("/unpair")
def unpair() -> Response:
    session.pop(SESSION_KEY, None)
    return redirect(url_for("devices.pair"))  # type: ignore[return-value]
