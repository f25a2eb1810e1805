"""A site's devices on the admin pages: their tokens, revoking one, and one-time pairing codes.

The same functions as ``xephang token list|revoke`` and ``xephang device code``
(``server.pairing_codes``) do the work; the code is shown once and only its
digest is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.device_settings import kiosk_settings
from kiosk.errors import PrintError

from .. import audit
from ..engine.errors import QueueError
from ..messages import error_text
from ..models import ApiToken, PairingCode, Site, User
from ..pairing_codes import (
    DEFAULT_TTL,
    cancel_pairing_code,
    create_pairing_code,
    list_tokens,
    revoke_token,
)
from ..realtime.cutoff import token_room
from ..runtime import runtime
from . import bp
from .access import managed_site, manager_page, me
from .people import local_when
from .people_forms import DEVICE_ROLE_LABELS, DeviceCodeForm, device_role_choices, paper_choices

# Which field a refusal of ``create_pairing_code`` is about.
ERROR_FIELDS = {
    "invalid_role": "role",
    "counter_required_for_tablet": "counter",
    "counter_only_for_clerk": "counter",
    "counter_not_found": "counter",
}
MAX_COUNTER = 2**31 - 1


@dataclass(frozen=True)
class PendingCode:
    """A pairing code not used yet and not expired (its value is never kept)."""

    id: int
    role: str
    counter: int | None
    label: str
    created_at: datetime
    expires_at: datetime
    created_by: str


def pending_codes(session: Session, site_id: int, now: datetime) -> list[PendingCode]:
    """The site's pairing codes that can still be redeemed, newest first."""
    rows = session.execute(
        select(PairingCode, User.username)
        .outerjoin(User, User.id == PairingCode.created_by)
        .where(
            PairingCode.site_id == site_id,
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .order_by(PairingCode.created_at.desc(), PairingCode.id.desc())
    ).all()
    return [
        PendingCode(
            p.id, p.role, p.counter_number, p.label, p.created_at, p.expires_at, username or ""
        )
        for p, username in rows
    ]


def parse_counter(text: str | None) -> int | None:
    """The counter number typed in the form: empty is none; anything but 1, 2, 3… is refused."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_COUNTER:
        raise ValueError(text)
    return int(text)


def _form() -> DeviceCodeForm:
    form = DeviceCodeForm()
    form.role.choices = device_role_choices()
    form.paper.choices = paper_choices()
    return form


def _page(site: Site, form: DeviceCodeForm, status: int = 200) -> Any:
    rt = runtime()
    now = rt.clock()
    with rt.db.reads() as session:
        tokens = list_tokens(session, site.code)
        pending = pending_codes(session, site.id, now)
    page = render_template(
        "admin/devices.html",
        site=site,
        form=form,
        tokens=tokens,
        pending=pending,
        when=lambda moment: local_when(moment, site.timezone),
        role_labels=DEVICE_ROLE_LABELS,
        may_revoke=_may_revoke,
    )
    return page, status


def _may_revoke(role: str) -> bool:
    """A manager cannot cut off an admin's token; an admin can cut off any."""
    return me().role == "admin" or role != "admin"


def _site(code: str) -> Site:
    with runtime().db.reads() as session:
        return managed_site(session, me(), code)


@bp.get("/sites/<code>/devices")
@manager_page
def devices(code: str) -> Any:
    form = _form()
    form.role.data = "kiosk"
    return _page(_site(code), form)


def _code_target(role: str, counter: int | None, label: str) -> str:
    return f"{role}" + (f":{counter}" if counter is not None else "") + f" {label}"


def _refuse(form: DeviceCodeForm, field: str, message: str) -> None:
    target = getattr(form, field)
    target.errors = [*target.errors, message]


@bp.post("/sites/<code>/devices/code")
@manager_page
def device_code(code: str) -> Any:
    """A one-time pairing code for a new device of this site, shown once."""
    staff = me()
    site = _site(code)
    form = _form()
    if not form.validate():
        return _page(site, form, 400)
    role = form.role.data or ""
    if role not in DEVICE_ROLE_LABELS:
        _refuse(form, "role", _("Hãy chọn loại thiết bị."))
        return _page(site, form, 400)
    try:
        counter = parse_counter(form.counter.data)
    except ValueError:
        _refuse(form, "counter", _("Số quầy phải là số nguyên dương."))
        return _page(site, form, 400)
    if form.paper.data not in ("", None, "58", "80"):
        _refuse(form, "paper", _("Khổ giấy phải là 58 hoặc 80 (mm)."))
        return _page(site, form, 400)
    try:
        settings = kiosk_settings(
            role, (form.printer.data or "").strip() or None, form.paper.data or None
        )
    except PrintError as err:
        _refuse(form, "printer", err.message)
        return _page(site, form, 400)
    label = (form.label.data or "").strip()
    rt = runtime()
    now = rt.clock()
    try:
        with rt.db.writes() as session:
            pairing = create_pairing_code(
                session,
                site.code,
                role,
                counter=counter,
                label=label,
                settings=settings,
                created_by=staff.id,
                now=now,
                commit=False,
            )
            audit.record(
                session,
                "device.code",
                user_id=staff.id,
                site_id=site.id,
                target=_code_target(role, counter, label),
                detail={"role": role, "counter": counter, "label": label, "settings": settings},
                remote_addr=request.remote_addr or "",
                at=now,
            )
            session.commit()  # the code and its entry together
    except QueueError as err:
        _refuse(form, ERROR_FIELDS.get(err.code, "role"), _(error_text(err.code, err.params)))
        return _page(site, form, 400)
    pair_url = url_for("devices.pair", _external=True)
    response = make_response(
        render_template(
            "admin/device_code.html",
            site=site,
            code=pairing,
            role_label=DEVICE_ROLE_LABELS[role],
            counter=counter,
            label=label,
            expires=local_when(now + DEFAULT_TTL, site.timezone),
            pair_url=pair_url,
            pair_link=url_for("devices.pair", code=pairing, _external=True),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/sites/<code>/devices/<int:token_id>/revoke")
@manager_page
def device_revoke(code: str, token_id: int) -> Any:
    """Cut a device off at once: its API calls get 401, its pages send it back to /pair."""
    staff = me()
    rt = runtime()
    now = rt.clock()
    with rt.db.writes() as session:
        site = managed_site(session, staff, code)
        token = session.get(ApiToken, token_id)
        if token is None or token.site_id != site.id:
            abort(404)
        if not _may_revoke(token.role):
            abort(403)
        if token.revoked_at is None:
            revoke_token(session, token.id, now, commit=False)
            audit.record(
                session,
                "device.revoke",
                user_id=staff.id,
                device_id=token.id,
                site_id=site.id,
                target=f"{token.role} #{token.id} {token.label}".strip(),
                remote_addr=request.remote_addr or "",
                at=now,
            )
            session.commit()  # the revocation and its entry together
    rt.cut_off(token_room(token_id))  # its open pages and agent lose their live link now
    flash(_("Đã thu hồi mã truy cập số %(id)d.", id=token_id), "success")
    return redirect(url_for("admin.devices", code=code))


@bp.post("/sites/<code>/devices/codes/<int:code_id>/cancel")
@manager_page
def device_code_cancel(code: str, code_id: int) -> Any:
    """Withdraw a pairing code nobody used yet (given to the wrong person, or not needed)."""
    staff = me()
    rt = runtime()
    now = rt.clock()
    with rt.db.writes() as session:
        site = managed_site(session, staff, code)
        pairing = session.get(PairingCode, code_id)
        if pairing is None or pairing.site_id != site.id:
            abort(404)
        if not _may_revoke(pairing.role):
            abort(403)
        try:
            cancelled = cancel_pairing_code(session, site.id, code_id, now, commit=False)
        except QueueError:  # used meanwhile: a device has it now, revoke its token instead
            flash(_("Mã kết nối này đã được dùng; hãy thu hồi mã truy cập của thiết bị."), "error")
            return redirect(url_for("admin.devices", code=code))
        if cancelled:
            audit.record(
                session,
                "device.code_cancel",
                user_id=staff.id,
                site_id=site.id,
                target=_code_target(pairing.role, pairing.counter_number, pairing.label),
                detail={
                    "code_id": pairing.id,
                    "role": pairing.role,
                    "counter": pairing.counter_number,
                    "label": pairing.label,
                },
                remote_addr=request.remote_addr or "",
                at=now,
            )
            session.commit()  # the cancellation and its entry together
    flash(_("Đã hủy mã kết nối."), "success")
    return redirect(url_for("admin.devices", code=code))
