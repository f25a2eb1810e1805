"""The login and logout views."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from .. import audit, engine
from ..limits import LOGIN_ATTEMPTS, limiter
from ..realtime.cutoff import login_room, user_room
from ..runtime import runtime
from ..safe_redirect import local_path
from . import bp
from .security import current_staff, staff_of
from .services import LOCKOUT, authenticate, end_all_sessions, end_session, site_ids, start_session


def _own_page(role: str) -> str:
    """Where a login without ``next`` lands: a clerk's counter page, a manager's admin pages."""
    return url_for("counter.home") if role == "clerk" else url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_ATTEMPTS, methods=["POST"])
def login() -> Any:
    next_path = local_path(request.values.get("next"))
    if request.method == "GET":
        return render_template("accounts/login.html", next=next_path, username="", error=None)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    rt = runtime()
    with rt.db.writes() as session, session.begin():
        now = rt.clock()
        result = authenticate(session, username, password, now, request.remote_addr or "")
        staff = None
        if result.user is not None:
            secret = start_session(session, result.user.id, now)
            staff = staff_of(result.user, site_ids(session, result.user.id), secret)
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
    return redirect(next_path or _own_page(staff.role))


@bp.post("/logout")
def logout() -> Any:
    """End this login session on the server (a copied cookie opens nothing after it).

    ``everywhere``: end every session of the account (another browser, a lost phone).
    ``next``: where to go afterwards (a path on this server), else the login page.
    """
    staff = current_staff()
    everywhere = request.form.get("everywhere") == "1"
    if staff is not None:
        rt = runtime()
        # Leaving the building: the counter is free for the next clerk, the tablet says so.
        engine.sign_out(rt.uow(), staff.id, actor=staff.actor)
        with rt.db.writes() as session, session.begin():
            now = rt.clock()
            if everywhere:
                end_all_sessions(session, staff.id, now)
            else:
                end_session(session, staff.login_key, now)
            audit.record(
                session,
                "logout",
                user_id=staff.id,
                target=staff.username,
                detail={"everywhere": True} if everywhere else {},
                remote_addr=request.remote_addr or "",
                at=now,
            )
        rt.cut_off(user_room(staff.id) if everywhere else login_room(staff.login_key))
    logout_user()
    return redirect(local_path(request.form.get("next")) or url_for("accounts.login"))
