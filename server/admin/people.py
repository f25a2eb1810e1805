"""Staff accounts on the admin pages: the list, creating, editing, password reset, unlock.

The rules (who may manage whom, the last admin, one site for a clerk) are in
``accounts.services``; these views read the form, call the service in one
transaction, and show its refusal beside the field it is about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from wtforms import Form

from .. import engine
from ..accounts.services import (
    MIN_PASSWORD_LENGTH,
    AccountEditor,
    AccountError,
    AccountForbidden,
    NoSuchAccount,
    account_for,
    create_account,
    generate_password,
    log_out_everywhere,
    reset_password,
    unlock_user,
    update_user,
    visible_accounts,
)
from ..realtime.cutoff import user_room
from ..runtime import runtime
from ..timeutil import DEFAULT_TIMEZONE, local
from . import bp
from .access import manageable_sites, manager_page, me
from .people_forms import ROLE_LABELS, EditAccountForm, NewAccountForm, role_choices


def local_when(moment: datetime | None, tz_name: str = DEFAULT_TIMEZONE) -> str:
    """A stored UTC moment as the site's wall-clock time (``dd/mm/yyyy HH:MM``)."""
    if moment is None:
        return ""
    return local(moment, tz_name or DEFAULT_TIMEZONE).strftime("%d/%m/%Y %H:%M")


def account_editor() -> AccountEditor:
    """The logged-in admin or manager, as the account services see them."""
    staff = me()
    return AccountEditor(staff.id, staff.role, staff.site_ids, request.remote_addr or "")


def show_error(form: Form, err: AccountError) -> None:
    """Put a refusal beside its field (or above the form when it names none)."""
    message = _(err.template, **err.params)
    field = getattr(form, err.field, None) if err.field else None
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]


def _status(err: AccountError) -> int:
    return 403 if isinstance(err, AccountForbidden) else 400


def _fill_choices(form: NewAccountForm | EditAccountForm, who: AccountEditor) -> None:
    with runtime().db.reads() as session:
        sites = manageable_sites(session, me())
    form.role.choices = role_choices(who.role)
    form.sites.choices = [(site.code, f"{site.code} — {site.name}") for site in sites]


def _shown_once(template: str, **context: Any) -> Any:
    """A page with a secret on it: never kept by the browser or a proxy."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


def _account(user_id: int, who: AccountEditor) -> Any:
    with runtime().db.reads() as session:
        try:
            return account_for(session, user_id, who)
        except NoSuchAccount:
            abort(404)
        except AccountForbidden:
            abort(403)


@bp.get("/users")
@manager_page
def users() -> str:
    who = account_editor()
    with runtime().db.reads() as session:
        rows = visible_accounts(session, who)
    return render_template(
        "admin/users.html",
        rows=rows,
        now=runtime().clock(),
        when=local_when,
        role_labels=ROLE_LABELS,
        me_id=who.user_id,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@manager_page
def user_new() -> Any:
    who = account_editor()
    form = NewAccountForm()
    _fill_choices(form, who)
    if request.method == "GET":
        form.role.data = "clerk"
        return _new_page(form)
    if not form.validate():
        return _new_page(form), 400
    password = form.password.data or ""
    generated = not password
    if generated:
        password = generate_password()
    rt = runtime()
    try:
        user = create_account(
            rt.uow(),
            form.username.data or "",
            form.role.data or "",
            password,
            site_codes=tuple(form.sites.data or ()),
            full_name=form.full_name.data or "",
            photo_url=form.photo_url.data,
            editor=who,
        )
        username, user_id = user.username, user.id
    except AccountError as err:
        show_error(form, err)
        return _new_page(form), _status(err)
    except IntegrityError:  # the same name made a moment ago in another request
        show_error(form, AccountError(_("Tên đăng nhập này đã có."), "username"))
        return _new_page(form), 400
    return _shown_once(
        "admin/user_created.html",
        username=username,
        user_id=user_id,
        password=password if generated else None,
    )


def _new_page(form: NewAccountForm) -> str:
    return render_template("admin/user_new.html", form=form, min_password=MIN_PASSWORD_LENGTH)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@manager_page
def user_edit(user_id: int) -> Any:
    who = account_editor()
    account = _account(user_id, who)
    user = account.user
    if request.method == "GET":
        form = EditAccountForm(
            data={
                "full_name": user.full_name,
                "role": user.role,
                "sites": list(account.site_codes),
                "photo_url": user.photo_url or "",
                "active": user.active,
            }
        )
        _fill_choices(form, who)
        return _edit_page(form, account, who)
    form = EditAccountForm()
    _fill_choices(form, who)
    if not form.validate():
        return _edit_page(form, account, who), 400
    rt = runtime()
    try:
        change = update_user(
            rt.uow(),
            user_id,
            full_name=form.full_name.data or "",
            role=form.role.data or "",
            site_codes=tuple(form.sites.data or ()),
            photo_url=form.photo_url.data,
            active=bool(form.active.data),
            editor=who,
        )
        leaves_counter = change.leaves_counter
    except NoSuchAccount:
        abort(404)
    except AccountError as err:
        show_error(form, err)
        return _edit_page(form, account, who), _status(err)
    if leaves_counter:
        # A deactivated clerk, or one moved elsewhere, no longer holds the counter, and
        # their open pages lose their live link (they reconnect with the new rights).
        engine.sign_out(rt.uow(), user_id, actor=me().actor)
        rt.cut_off(user_room(user_id))
    flash(_("Đã lưu tài khoản %(username)s.", username=user.username), "success")
    return redirect(url_for("admin.users"))


def _edit_page(form: EditAccountForm, account: Any, who: AccountEditor) -> str:
    return render_template(
        "admin/user_edit.html",
        form=form,
        account=account,
        me_id=who.user_id,
        now=runtime().clock(),
        when=local_when,
    )


@bp.post("/users/<int:user_id>/password")
@manager_page
def user_password(user_id: int) -> Any:
    """A generated password, shown once; the account's open sessions end with the old one."""
    who = account_editor()
    account = _account(user_id, who)
    password = generate_password()
    rt = runtime()
    try:
        reset_password(rt.uow(), account.user.username, password, editor=who)
    except NoSuchAccount:
        abort(404)
    except AccountForbidden:
        abort(403)
    rt.cut_off(user_room(user_id))
    return _shown_once(
        "admin/user_password.html", username=account.user.username, password=password
    )


@bp.post("/users/<int:user_id>/sessions/end")
@manager_page
def user_sessions_end(user_id: int) -> Any:
    """Log the account out everywhere: every browser it is logged in on, at once."""
    who = account_editor()
    rt = runtime()
    try:
        username = log_out_everywhere(rt.uow(), user_id, editor=who).username
    except NoSuchAccount:
        abort(404)
    except AccountForbidden:
        abort(403)
    rt.cut_off(user_room(user_id))
    if user_id == who.user_id:
        return redirect(url_for("accounts.login"))
    flash(_("Đã đăng xuất %(username)s khỏi mọi nơi.", username=username), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/unlock")
@manager_page
def user_unlock(user_id: int) -> Any:
    who = account_editor()
    rt = runtime()
    try:
        username = unlock_user(rt.uow(), user_id, editor=who).username
    except NoSuchAccount:
        abort(404)
    except AccountForbidden:
        abort(403)
    flash(_("Đã mở khóa tài khoản %(username)s.", username=username), "success")
    return redirect(url_for("admin.users"))
