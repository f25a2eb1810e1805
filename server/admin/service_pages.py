"""A site's services (lĩnh vực): the list, a new one, changing one. Never deleted: deactivated."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from ..engine import estimates, numbering
from ..models import Service
from ..runtime import runtime
from . import bp
from .access import manager_page
from .service_setup import MAX_SESSIONS, WEEKDAYS, ServiceData, save_service, weekday_names
from .site_forms import ServiceForm, flat_errors, session_errors_on_form
from .site_pages import INVALID, change_author, page, save, site_of_url


def _sample_number(service: Service) -> str:
    return numbering.format_number(service, 1)


@bp.get("/sites/<code>/services")
@manager_page
def services(code: str) -> Any:
    site = site_of_url(code)
    with runtime().db.reads() as session:
        rows = list(
            session.execute(
                select(Service)
                .where(Service.site_id == site.id)
                .order_by(Service.sort_order, Service.id)
            ).scalars()
        )
        # A service no active counter serves: the kiosk refuses it (engine.estimates).
        covered = estimates.coverage(session, site)
        unserved = [s for s in rows if s.active and s.id not in covered]
        return page(
            "admin/service_list.html",
            site,
            services=rows,
            unserved={s.id for s in unserved},
            unserved_names=[s.name for s in unserved],
            sample=_sample_number,
            capacity=numbering.capacity,
            weekday_names=lambda days: weekday_names(days, gettext),
        )


def _service_form(site: Any, service_id: int | None) -> Any:
    form = ServiceForm()
    title = "Sửa lĩnh vực" if service_id else "Thêm lĩnh vực"
    if request.method == "GET" and service_id is not None:
        with runtime().db.reads() as session:
            service = session.get(Service, service_id)
            if service is None or service.site_id != site.id:
                abort(404)
            form.load(ServiceData.of(service))
    elif request.method == "GET":
        form.add_blank_rows()

    def again(errors: dict[str, str]) -> str:
        return page(
            "admin/service_form.html",
            site,
            form=form,
            errors=errors,
            title=title,
            service_id=service_id,
            weekdays=WEEKDAYS,
            max_sessions=MAX_SESSIONS,
        )

    if request.method == "GET":
        return again({})
    form.validate()
    data, where = form.data_()
    form.add_blank_rows()
    typed_wrong = flat_errors(form)
    if typed_wrong:
        return again(typed_wrong), INVALID

    def again_on_rows(errors: dict[str, str]) -> str:
        return again(session_errors_on_form(errors, where))

    return save(
        lambda: save_service(runtime().uow(), site.code, service_id, data, change_author()),
        url_for("admin.services", code=site.code),
        again_on_rows,
    )


@bp.route("/sites/<code>/services/new", methods=["GET", "POST"])
@manager_page
def service_new(code: str) -> Any:
    return _service_form(site_of_url(code), None)


@bp.route("/sites/<code>/services/<int:service_id>", methods=["GET", "POST"])
@manager_page
def service_edit(code: str, service_id: int) -> Any:
    return _service_form(site_of_url(code), service_id)
