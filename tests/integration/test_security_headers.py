"""Issue 9 item 11: security headers on every response (pages, API, files, errors).

Real Chromium with the policy enforced: tests/browser/test_csp_browser.py.
"""

from __future__ import annotations

from typing import Any

from server import engine
from server.runtime import runtime
from server.security_headers import content_security_policy

from ..api_fixtures import bearer
from ..factories import build_site


def _site(database: Any) -> None:
    with database.writes() as session:
        build_site(session)


def _check(response: Any, framed_by_self: bool = False) -> None:
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == ("'self'" if framed_by_self else "'none'")
    assert headers["X-Frame-Options"] == ("SAMEORIGIN" if framed_by_self else "DENY")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_every_kind_of_response_carries_the_headers(
    app: Any, client: Any, database: Any, make_token: Any
) -> None:
    _site(database)
    display, kiosk = make_token("display"), make_token("kiosk")
    responses = {
        "login page": client.get("/login"),
        "pair page": client.get("/pair"),
        "api json": client.get("/api/v1/sites/s1/state", headers=bearer(display)),
        "api problem": client.get("/api/v1/sites/s1/state"),
        "openapi": client.get("/api/v1/openapi.json"),
        "static file": client.get("/static/live/connect.js"),
        "not found": client.get("/no-such-page"),
        "health": client.get("/healthz"),
    }
    device = app.test_client()
    device.get(f"/pair?token={display}")
    responses["display page"] = device.get("/display/")
    responses["counter display"] = device.get("/display/counter/1")
    kiosk_browser = app.test_client()
    kiosk_browser.get(f"/pair?token={kiosk}")
    responses["kiosk page"] = kiosk_browser.get("/kiosk/")
    for name, response in responses.items():
        assert response.status_code < 500, name
        _check(response)
    ticket = engine.issue_ticket(runtime(app).uow(), "s1", "A", channel="api").ticket
    slip = kiosk_browser.get(f"/kiosk/tickets/{ticket['id']}/slip")
    assert slip.status_code == 200
    _check(slip, framed_by_self=True)  # the kiosk page prints it through a frame of its own


def test_the_policy_is_built_once() -> None:
    assert content_security_policy().count("frame-ancestors") == 1
    assert "frame-ancestors 'self'" in content_security_policy("'self'")
