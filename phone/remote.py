"""Taking a number from home (``/s/<site>``): thin views over ``server.engine.remote``.

The form asks for a service and a phone number. The phone number never reaches the
database: the view turns it into its keyed hash (HMAC-SHA256 with a key derived from the
server's secret) and the engine counts that. Each address may send the form only so often
(Flask-Limiter; generous, since a mobile network puts many phones behind one address).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from flask import Response, current_app, redirect, render_template, request, url_for

from server.engine.errors import QueueError
from server.engine.remote import hub_unreachable, issue_remote, phone_hash, remote_services
from server.engine.rules import CHECK_IN
from server.engine.views import site_by_code
from server.limits import limiter
from server.runtime import runtime

from . import bp
from .routes import _private
from .texts import error_message

# Per address: a family or an office takes a few; a script trying phone numbers cannot.
REMOTE_ATTEMPTS = "10 per minute;60 per hour;300 per day"
SERVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
MAX_PHONE_TYPED = 32


def phone_key() -> bytes:
    """The key of the phone numbers' hashes: its own setting, or derived from the secret."""
    secret = current_app.config.get("PHONE_HASH_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(str(secret).encode(), b"xephang phone numbers", hashlib.sha256).digest()


def remote_limit() -> str:
    return str(current_app.config.get("REMOTE_RATE_LIMIT") or REMOTE_ATTEMPTS)


def _page(
    site_code: str,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        try:
            site = site_by_code(session, site_code)
        except QueueError:
            html = render_template("phone/not_found.html", site_missing=True)
            return _private(Response(html, status=404, mimetype="text/html"))
        services = remote_services(session, site, rt.clock()) if site.remote_enabled else []
        if site.remote_enabled and error is None and hub_unreachable(session, site.id):
            error = error_message("remote_paused_offline")
        info = {
            "code": site.code,
            "name": site.name,
            "enabled": site.remote_enabled,
            "check_in": site.remote_arrival == CHECK_IN,
            "per_phone": site.remote_per_phone,
            "retention_days": site.phone_retention_days,
        }
    typed = typed or {}
    chosen = typed.get("service") or next((s["code"] for s in services if s["open"]), "")
    html = render_template(
        "phone/remote.html",
        site=info,
        services=services,
        error=error,
        phone=typed.get("phone", ""),
        chosen=chosen,
        # One key per form shown: sending it twice gives the same ticket, not two.
        key=secrets.token_urlsafe(18),
    )
    return _private(Response(html, status=status, mimetype="text/html"))


@bp.get("/s/<site>")
def remote_page(site: str) -> Response:
    return _page(site)


@bp.post("/s/<site>")
@limiter.limit(remote_limit)
def take_remote(site: str) -> Response | Any:
    service = (request.form.get("service") or "").strip()
    phone = (request.form.get("phone") or "")[:MAX_PHONE_TYPED]
    key = request.form.get("key") or None
    typed = {"service": service if SERVICE_CODE.fullmatch(service) else "", "phone": phone}
    try:
        if not typed["service"]:
            raise QueueError("service_not_found", "invalid", service=service[:40])
        digest = phone_hash(phone_key(), phone)
        issued = issue_remote(
            runtime().uow(), site, service, digest, idempotency_key=key, actor="phone"
        )
    except QueueError as err:
        if err.code == "site_not_found":
            return _page(site)
        status = 400 if err.kind == "invalid" else 409
        return _page(site, error=error_message(err.code, err.params), typed=typed, status=status)
    return redirect(url_for("phone.ticket_page", token=issued.ticket["tracking_token"]), 303)
