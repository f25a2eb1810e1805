"""A site's counters (quầy): the list, a new one, changing one, freeing one from its clerk."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import engine
from ..engine.errors import QueueError
from ..models import Counter, Service, Site, User
from ..runtime import runtime
from . import bp
from .access import manager_page, me
from .counter_setup import CounterData, save_counter
from .setup_checks import audited
from .site_forms import CounterForm
from .site_pages import INVALID, change_author, page, save, site_of_url


def _services(session: Session, site: Site) -> list[Service]:
    return list(
        session.execute(
            select(Service)
            .where(Service.site_id == site.id)
            .order_by(Service.sort_order, Service.id)
        ).scalars()
    )


def _clerk_names(session: Session, counters: list[Counter]) -> dict[int, str]:
    ids = {c.clerk_id for c in counters if c.clerk_id is not None}
    if not ids:
        return {}
    users = session.execute(select(User).where(User.id.in_(ids))).scalars()
    return {u.id: u.full_name or u.username for u in users}


@bp.get("/sites/<code>/counters")
@manager_page
def counters(code: str) -> Any:
    site = site_of_url(code)
    with runtime().db.reads() as session:
        rows = list(
            session.execute(
                select(Counter)
                .where(Counter.site_id == site.id)
                .options(selectinload(Counter.service_links))
                .order_by(Counter.number)
            ).scalars()
        )
        names = {s.id: s.name for s in _services(session, site)}
        return page(
            "admin/counter_list.html",
            site,
            counters=rows,
            service_names=names,
            clerks=_clerk_names(session, rows),
        )


def _counter_form(site: Site, counter_id: int | None) -> Any:
    form = CounterForm()
    with runtime().db.reads() as session:
        services = _services(session, site)
        counter = None
        if counter_id is not None:
            counter = session.get(Counter, counter_id)
            if counter is None or counter.site_id != site.id:
                abort(404)
            clerk = _clerk_names(session, [counter]).get(counter.clerk_id or 0)
            current = CounterData(
                counter.number,
                counter.name,
                counter.active,
                {link.service_id: link.weight for link in counter.service_links},
            )
        else:
            clerk = None
            taken = [c.number for c in site_counters(session, site)]
            current = CounterData(max(taken, default=0) + 1, "", True, {})
    by_id = {s.id: s for s in services}
    if request.method == "GET":
        form.load(current, [s.id for s in services])

    def again(errors: dict[str, str]) -> str:
        return page(
            "admin/counter_form.html",
            site,
            form=form,
            errors=errors,
            services=by_id,
            counter_id=counter_id,
            number=counter.number if counter else None,
            clerk=clerk,
            title=_("Sửa quầy") if counter_id else _("Thêm quầy"),
        )

    if request.method == "GET":
        return again({})
    form.validate()
    typed_wrong = form.type_errors()
    if typed_wrong:
        return again(typed_wrong), INVALID
    return save(
        lambda: save_counter(runtime().uow(), site.code, counter_id, form.data_(), change_author()),
        url_for("admin.counters", code=site.code),
        again,
    )


def site_counters(session: Session, site: Site) -> list[Counter]:
    return list(session.execute(select(Counter).where(Counter.site_id == site.id)).scalars())


@bp.route("/sites/<code>/counters/new", methods=["GET", "POST"])
@manager_page
def counter_new(code: str) -> Any:
    return _counter_form(site_of_url(code), None)


@bp.route("/sites/<code>/counters/<int:counter_id>", methods=["GET", "POST"])
@manager_page
def counter_edit(code: str, counter_id: int) -> Any:
    return _counter_form(site_of_url(code), counter_id)


@bp.post("/sites/<code>/counters/<int:number>/release")
@manager_page
def counter_release(code: str, number: int) -> Any:
    """Giải phóng quầy: the clerk signed in there is signed out (their session goes on)."""
    site = site_of_url(code)
    who = change_author()
    uow = audited(
        runtime().uow(),
        "counter.release",
        user_id=who.user_id,
        site_id=site.id,
        target=f"{site.code}/{number}",
        remote_addr=who.remote_addr,
    )
    try:
        engine.release(uow, site.code, number, actor=me().actor)
    except QueueError:
        abort(404)
    flash(_("Đã giải phóng quầy số %(n)d.", n=number), "success")
    back = request.form.get("back")
    if back == "edit":
        counter_id = request.form.get("counter_id", type=int)
        if counter_id:
            return redirect(url_for("admin.counter_edit", code=site.code, counter_id=counter_id))
    return redirect(url_for("admin.counters", code=site.code))
