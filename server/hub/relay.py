"""At the hub: a citizen's phone reaches a commune center's phone pages through the hub.

``/r/<site>/t/<token>`` (the ticket's page), ``/r/<site>/s/<site>`` (numbers from home)
and the static files they load are relayed to the site server, which polls
``GET /api/v1/hub/relay`` with its credential and posts each answer to
``POST /api/v1/hub/relay/<id>``. The site renders the page itself (its own rules, its own
CSRF check, its own rate limits by the citizen's address), under the prefix
``/r/<site>`` so that its links come back here. Cookies are kept apart per site: the
hub's own (a staff login at the hub) never reach a site, and a site's come back named
for it, on its own path. While the site does not poll (its line is down) the page says
so at once; the site's own kiosk goes on issuing.
"""

from __future__ import annotations

import base64
import re
import secrets
from http.cookies import CookieError, SimpleCookie
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from sqlalchemy import select
from werkzeug.http import dump_cookie

from ..api.problems import ApiProblem
from ..limits import limiter
from ..models import HubSite, Site
from ..runtime import runtime
from . import bp as hub_api
from .credentials import site_of_credential
from .relay_bus import RelayBus, relay_bus

pages = Blueprint("relay", __name__, url_prefix="/r", template_folder="templates")

# What a citizen's phone may reach at a site through the hub, and nothing else.
RELAYED_PREFIXES = ("t/", "s/", "phone/static/", "static/")
METHODS = ("GET", "POST")
MAX_REQUEST_BYTES = 64 * 1024
MAX_ANSWER_BYTES = 2 * 1024 * 1024
# The request headers a site gets (never Authorization, never the hub's cookies).
REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Content-Type",
    "Origin",
    "Referer",
    "User-Agent",
    "X-CSRFToken",
)
# The answer headers a citizen gets (Set-Cookie is renamed for the site, below).
ANSWER_HEADERS = frozenset(
    {
        "cache-control",
        "content-language",
        "content-security-policy",
        "content-type",
        "location",
        "referrer-policy",
        "retry-after",
        "vary",
        "x-content-type-options",
        "x-frame-options",
        "x-robots-tag",
    }
)
ANSWER_WAIT_S = 10.0
LONG_POLL_MAX_S = 25.0
MOST_PER_POLL = 50
# Per client address. A relayed page polls its ticket every 5 s (12 a minute), and a
# mobile network puts many phones behind one address: generous, it only stops a flood
# from one address eating a commune's slow line (XEPHANG_RELAY_RATE_LIMIT changes it).
RELAY_ATTEMPTS = "600 per minute"
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
SITE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def bus() -> RelayBus:
    found: RelayBus | None = current_app.extensions.get("xephang_relay")
    if found is None:
        found = relay_bus(current_app.config)
        current_app.extensions["xephang_relay"] = found
    return found


def cookie_prefix(site_code: str) -> str:
    return f"xr-{site_code}-"


@pages.before_request
def _hub_only() -> None:
    if current_app.config.get("ROLE") != "hub":
        abort(404)


def _joined_site(code: str) -> tuple[int, str] | None:
    """The hub's id and name of a joined site whose credential stands."""
    if not SITE_CODE.fullmatch(code):
        return None
    with runtime().db.reads() as session:
        row = session.execute(
            select(HubSite.site_id, Site.name)
            .join(Site, Site.id == HubSite.site_id)
            .where(
                Site.code == code,
                HubSite.credential_hash.is_not(None),
                HubSite.revoked_at.is_(None),
            )
        ).one_or_none()
    return (row[0], row[1]) if row is not None else None


def _unreachable(status: int, site_name: str, rest: str) -> Response:
    wants_json = rest.endswith(("/live", "/rating")) or request.accept_mimetypes.best == (
        "application/json"
    )
    if wants_json:
        answer = jsonify(
            {
                "status": status,
                "code": "site_unreachable",
                "detail": "Đơn vị đang mất kết nối với trung tâm tỉnh; vui lòng thử lại sau.",
            }
        )
        answer.status_code = status
        answer.mimetype = "application/problem+json"
    else:
        html = render_template(
            "relay/unreachable.html", site_name=site_name, remote=rest.startswith("s/")
        )
        answer = Response(html, status=status, mimetype="text/html")
    answer.headers["Cache-Control"] = "no-store"
    answer.headers["Retry-After"] = "30"
    return answer


def _site_cookies(site_code: str) -> str:
    """The citizen's cookies of this site (their names without the site's prefix)."""
    prefix = cookie_prefix(site_code)
    return "; ".join(
        f"{name[len(prefix) :]}={value}"
        for name, value in request.cookies.items()
        if name.startswith(prefix)
    )


def _renamed_cookie(header: str, site_code: str) -> str | None:
    """A site's Set-Cookie, renamed for the site and kept to its path under /r/."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    for name, morsel in jar.items():
        max_age = morsel["max-age"]
        return dump_cookie(
            cookie_prefix(site_code) + name,
            morsel.value,
            max_age=int(max_age) if str(max_age).isdigit() else None,
            expires=morsel["expires"] or None,
            path=f"/r/{site_code}/",
            secure=bool(morsel["secure"]) or request.is_secure,
            httponly=bool(morsel["httponly"]),
            samesite=str(morsel["samesite"] or "Lax"),
        )
    return None


def relay_limit() -> str:
    return str(current_app.config.get("RELAY_RATE_LIMIT") or RELAY_ATTEMPTS)


@pages.route("/<site>/<path:rest>", methods=list(METHODS))
@limiter.limit(relay_limit)
def relay(site: str, rest: str) -> Response:
    static = rest.startswith(("static/", "phone/static/"))
    if not rest.startswith(RELAYED_PREFIXES) or (static and request.method != "GET"):
        abort(404)
    if request.content_length is not None and request.content_length > MAX_REQUEST_BYTES:
        abort(413)
    joined = _joined_site(site)
    if joined is None:
        abort(404)
    site_id, site_name = joined
    relays = bus()
    if not relays.polled_recently(site_id):
        return _unreachable(503, site_name, rest)
    body = request.get_data(cache=False)[: MAX_REQUEST_BYTES + 1]
    if len(body) > MAX_REQUEST_BYTES:
        abort(413)
    headers = [[name, request.headers[name]] for name in REQUEST_HEADERS if name in request.headers]
    cookies = _site_cookies(site)
    if cookies:
        headers.append(["Cookie", cookies])
    item = {
        "id": secrets.token_urlsafe(18),
        "method": request.method,
        "path": "/" + rest,
        "query": request.query_string.decode("latin-1"),
        "headers": headers,
        "body": base64.b64encode(body).decode(),
        "remote_addr": request.remote_addr or "",
        "base_url": f"{request.scheme}://{request.host}/r/{site}",
    }
    relays.put_request(site_id, item)
    answer = relays.take_answer(item["id"], ANSWER_WAIT_S)
    if answer is None:
        return _unreachable(504, site_name, rest)
    response = Response(base64.b64decode(answer["body"]), status=answer["status"])
    response.headers.pop("Content-Type", None)
    for name, value in answer["headers"]:
        if name.lower() == "set-cookie":
            renamed = _renamed_cookie(value, site)
            if renamed is not None:
                response.headers.add("Set-Cookie", renamed)
        elif name.lower() in ANSWER_HEADERS:
            response.headers[name] = value
    return response


# --- the site's side of it: the long poll and the answers -----------------------------------


def _credential_site() -> int:
    from .routes import _credential

    credential = _credential()
    with runtime().db.reads() as session:
        hub_site = site_of_credential(session, credential)
        site_id = hub_site.site_id if hub_site is not None else None
    if site_id is None:
        raise ApiProblem(401, "hub_unauthorized")
    return site_id


@hub_api.get("/relay")
def relay_poll() -> Response:
    """The site takes the citizens' requests waiting for it (waits up to ``wait`` seconds)."""
    site_id = _credential_site()
    try:
        wait = min(max(float(request.args.get("wait", "0")), 0.0), LONG_POLL_MAX_S)
    except ValueError:
        raise ApiProblem(422, "validation_error") from None
    relays = bus()
    relays.mark_polled(site_id)
    items = relays.take_requests(site_id, wait, MOST_PER_POLL)
    relays.mark_polled(site_id)
    return jsonify({"requests": items})


MOST_ANSWERS = MOST_PER_POLL


def _checked_answer(item: Any) -> tuple[str, dict[str, Any]]:
    """One answer of the site's batch: its request's id, its status, headers and body."""
    if not isinstance(item, dict):
        raise ApiProblem(422, "validation_error")
    request_id, status = item.get("id"), item.get("status")
    headers, content = item.get("headers"), item.get("body")
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise ApiProblem(422, "validation_error")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ApiProblem(422, "validation_error")
    if not isinstance(headers, list) or len(headers) > 50:
        raise ApiProblem(422, "validation_error")
    for pair in headers:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(part, str) and len(part) <= 8192 for part in pair)
            or any(ch in "\r\n" for part in pair for ch in part)
        ):
            raise ApiProblem(422, "validation_error")
    if not isinstance(content, str):
        raise ApiProblem(422, "validation_error")
    try:
        decoded = base64.b64decode(content, validate=True)
    except ValueError:
        raise ApiProblem(422, "validation_error") from None
    if len(decoded) > MAX_ANSWER_BYTES:
        raise ApiProblem(413, "payload_too_large")
    return request_id, {"status": status, "headers": headers, "body": content}


@hub_api.post("/relay")
def relay_answers() -> Response:
    """The site's answers to the requests it took, checked whole before any is handed on;
    an answer to a request of another site (or one given up on) is dropped."""
    site_id = _credential_site()
    if request.content_length is not None and request.content_length > 4 * MAX_ANSWER_BYTES:
        raise ApiProblem(413, "payload_too_large")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("answers"), list):
        raise ApiProblem(400, "invalid_json")
    if len(body["answers"]) > MOST_ANSWERS:
        raise ApiProblem(422, "validation_error")
    answers = [_checked_answer(item) for item in body["answers"]]
    relays = bus()
    taken = sum(relays.put_answer(site_id, request_id, answer) for request_id, answer in answers)
    return jsonify({"taken": taken})
