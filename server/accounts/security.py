"""Flask-Login and CSRF for the staff pages, and the session cookie's settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from kiosk.settings import public_url

from ..models import User
from ..runtime import runtime
from ..tokens import staff_actor
from .services import live_session_user, session_key, site_ids

F = TypeVar("F", bound=Callable[..., Any])
login_manager = LoginManager()
csrf = CSRFProtect()
# Answered with bearer tokens, never with the session cookie: no cross-site request to forge.
BEARER_PATHS = ("/api/v1/", "/kiosk/api/")
SECURE_COOKIES_ENV = "XEPHANG_SECURE_COOKIES"


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member, as the pages see them."""

    id: int
    username: str
    full_name: str
    role: str
    site_ids: tuple[int, ...]
    # "<user id>:<secret>": what the cookie keeps; the secret names a live StaffSession row.
    session_id: str
    is_active: bool = True
    is_authenticated: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return self.session_id

    @property
    def login_key(self) -> str:
        """The stored key of this login session (``StaffSession.id``)."""
        return session_key(self.session_id.partition(":")[2])

    @property
    def actor(self) -> str:
        """How the event log names this person (as ``Principal.actor`` does)."""
        return staff_actor(self.role, self.id)

    def works_for(self, site_id: int) -> bool:
        """An admin works for every site; a manager or clerk for their own."""
        return self.role == "admin" or site_id in self.site_ids


def staff_of(user: User, sites: tuple[int, ...], secret: str) -> Staff:
    """The staff member of the login session whose secret is ``secret``."""
    return Staff(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        site_ids=sites,
        session_id=f"{user.id}:{secret}",
        is_active=user.active,
    )


@login_manager.user_loader
def _load_staff(session_id: str) -> Staff | None:
    """Every request: the session must still be live in the database (one indexed lookup)."""
    user_id, _, secret = session_id.partition(":")
    well_formed = user_id.isascii() and user_id.isdigit() and len(user_id) <= 9
    if not well_formed or not 0 < len(secret) <= 100:
        return None
    with runtime().db.reads() as session:
        user = live_session_user(session, int(user_id), session_key(secret))
        if user is None:
            return None
        return staff_of(user, site_ids(session, user.id), secret)


def current_staff() -> Staff | None:
    """The staff member logged in on this request, if any."""
    user = current_user._get_current_object()
    return user if isinstance(user, Staff) else None


def staff_required(*roles: str) -> Callable[[F], F]:
    """Pages for logged-in staff of these roles (any role when none is given).

    Not logged in: sent to the login page; logged in with another role: 403.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None:
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if roles and staff.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def secure_cookies(config: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> bool:
    """Cookies only over HTTPS: as XEPHANG_SECURE_COOKIES says, else when PUBLIC_URL is https."""

    asked = config.get("SECURE_COOKIES", env.get(SECURE_COOKIES_ENV))
    if asked is not None and str(asked).strip() != "":
        return str(asked).strip().lower() in ("1", "true", "yes", "on")
    return (public_url(config, env) or "").lower().startswith("https://")


def _csrf_refused(error: CSRFError) -> tuple[str, int]:
    return render_template("accounts/csrf_error.html"), 400


def init_accounts(app: Flask) -> None:
    """Staff logins and CSRF checks on every form except the bearer-token APIs."""
    secure = secure_cookies(app.config)
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # Flask's own default is None, so a setdefault would never take.
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    # Tests of other areas post forms without a token; the CSRF tests switch it on.
    app.config.setdefault("WTF_CSRF_ENABLED", not app.config.get("TESTING"))
    # A login page left open at a counter all morning must still work.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.register_error_handler(CSRFError, _csrf_refused)

    @app.before_request
    def _protect_forms() -> None:
        # A page relayed to a site (server.hub.relay) is checked there, with its own cookie.
        if (
            app.config["WTF_CSRF_ENABLED"]
            and not request.path.startswith(BEARER_PATHS)
            and request.blueprint != "relay"
        ):
            csrf.protect()

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
