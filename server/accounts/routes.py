"""The login and logout views."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from .. import audit, engine
from ..limits import LOGIN_ATTEMPTS, limiter
from ..runtime import runtime
from . import bp
from .security import current_staff, staff_of
from .services import LOCKOUT, authenticate, site_ids


def _safe_next(target: str | None) -> str | None:
    """Only a path on this server: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_ATTEMPTS, methods=["POST"])
def login() -> Any:
    next_path = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("accounts/login.html", next=next_path, username="", error=None)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    rt = runtime()
    with rt.db.writes() as session, session.begin():
        result = authenticate(session, username, password, rt.clock(), request.remote_addr or "")
        staff = staff_of(result.user, site_ids(session, result.user.id)) if result.user else None
    if staff is None:
        if result.locked_until is not None:
            error = _(
                "Tài khoản tạm khóa do đăng nhập sai nhiều lần."
                " Vui lòng thử lại sau %(minutes)d phút.",
                minutes=LOCKOUT.seconds // 60,
            )
        else:
            error = _("Tên đăng nhập hoặc mật khẩu không đúng.")
        page = render_template(
            "accounts/login.html", next=next_path, username=username, error=error
        )
        return page, 401
    login_user(staff)
    return redirect(next_path or "/")


@bp.post("/logout")
def logout() -> Any:
    staff = current_staff()
    if staff is not None:
        # Leaving the building: the counter is free for the next clerk, the tablet says so.
        engine.sign_out(runtime().uow(), staff.id, actor=staff.actor)
        with runtime().db.writes() as session, session.begin():
            audit.record(
                session,
                "logout",
                user_id=staff.id,
                target=staff.username,
                remote_addr=request.remote_addr or "",
            )
    logout_user()
    return redirect(url_for("accounts.login"))
