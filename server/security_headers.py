"""Security headers on every response: pages, the API, static files and error pages.

A small ``after_request`` rather than flask-talisman: Talisman's defaults redirect to
HTTPS and mark cookies secure, which a center's LAN server on plain http cannot have
(``accounts.security.secure_cookies`` decides that), and the one policy below is all
we need.

- Scripts only from this server (``script-src 'self'``): no inline ``<script>`` and no
  ``on…=`` handler in any template; data reaches scripts through a
  ``<script type="application/json">`` block (not run) or ``data-`` attributes.
- Styles: ``'unsafe-inline'`` stays for the ``<style>`` blocks and ``style=""`` the
  pages render per site (display colours, ticket paper size); they carry no script.
- Images may come from any http(s) address (staff photos), and ``data:`` (QR codes).
- No page may be framed by another site; only the kiosk's ticket slip may be framed,
  by the kiosk page itself (it prints through a hidden frame).
"""

from __future__ import annotations

from flask import Flask, Response, request

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: http: https:",
    "media-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Pages framed by this server's own pages, never by another site.
FRAMED_BY_SELF = frozenset({"kiosk.slip"})


def content_security_policy(frame_ancestors: str = "'none'") -> str:
    policy = {**POLICY, "frame-ancestors": frame_ancestors}
    return "; ".join(f"{name} {value}" for name, value in policy.items())


_DENY_FRAMES = content_security_policy()
_SELF_FRAMES = content_security_policy("'self'")


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        framed = request.endpoint in FRAMED_BY_SELF
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _SELF_FRAMES if framed else _DENY_FRAMES)
        headers.setdefault("X-Frame-Options", "SAMEORIGIN" if framed else "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Full referrer to this server (Flask-WTF checks it over HTTPS), none elsewhere:
        # a /pair?token=… address never reaches a photo's host.
        headers.setdefault("Referrer-Policy", "same-origin")
        return response
