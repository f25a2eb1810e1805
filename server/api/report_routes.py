"""REST views of the reports: parse the query string, call ``server.reports``, answer.

A site's report is read by its managers and by admins (a session, or that site's
``manager``/``admin`` token); several sites at once (``GET /reports``) are the sites
the staff member may see, and for a token its own site only. A clerk reads only
their own figures.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import select

from .. import reports
from ..accounts.security import current_staff
from ..engine.errors import invalid, not_found
from ..engine.views import site_by_code
from ..models import Site
from ..runtime import runtime
from .problems import ApiProblem
from .report_schemas import ClerkTodayOut, ReportOut, ReportQuery, SitesReportQuery
from .routes import endpoint

REPORT_READERS = ("admin", "manager")
OWN_FIGURES = ("admin", "manager", "clerk")
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FILES = (MEDIA["csv"].split(";")[0], MEDIA["xlsx"])


def _query(allowed: tuple[str, ...]) -> tuple[reports.Period, str, str]:
    """The query string checked: known names only, each at most once."""
    for name in request.args:
        if name not in allowed:
            raise invalid("report_unknown_parameter", name=name[:40])
        if len(request.args.getlist(name)) > 1:
            raise invalid("report_unknown_parameter", name=name[:40])
    period = reports.parse_period(request.args.get("from"), request.args.get("to"))
    group = reports.parse_group(request.args.get("group"))
    fmt = reports.parse_format(request.args.get("format"))
    return period, group, fmt


def _received(session: Any, site_ids: list[int]) -> Any:
    """At the hub, the records of the sites asked for, when every one sends its events there."""
    from flask import current_app

    if current_app.config.get("ROLE") != "hub":
        return None
    from ..hub.reports import received_sites

    return received_sites(session, site_ids)


def _answer(
    site_ids: list[int], period: reports.Period, group: str, fmt: str, name: str
) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        received = _received(session, site_ids)
        if received is not None:  # at the hub: from the events the site sent
            from ..hub.reports import hub_report

            answer = hub_report(session, received, period, group, fmt, rt.clock())
            if fmt == "json":
                return jsonify(answer)
            body = answer if isinstance(answer, bytes) else answer.encode()
        elif fmt == "xlsx":
            body = reports.report_xlsx(
                session, site_ids, period, now=rt.clock(), first=group, store=rt.db.writes
            )
        else:
            report = reports.site_report(
                session, site_ids, period, group, now=rt.clock(), store=rt.db.writes
            )
            if fmt == "json":
                return jsonify(report)
            body = reports.report_csv(report)
    response = Response(body, mimetype=MEDIA[fmt].split(";")[0])
    response.headers["Content-Type"] = MEDIA[fmt]
    filename = f"bao-cao-{name}-{period.start}-{period.end}-{group}.{fmt}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@endpoint(
    "GET",
    "/sites/<site>/reports",
    "Báo cáo của đơn vị: số phiếu, thời gian chờ, phục vụ, đánh giá (JSON, CSV, XLSX)",
    REPORT_READERS,
    response=ReportOut,
    problems=(404, 422),
    query=ReportQuery,
    files=FILES,
)
def site_report(site: str) -> Response:
    period, group, fmt = _query(("from", "to", "group", "format"))
    with runtime().db.reads() as session:
        site_id = site_by_code(session, site).id
    return _answer([site_id], period, group, fmt, site)


@endpoint(
    "GET",
    "/reports",
    "Báo cáo gộp nhiều đơn vị (mọi đơn vị được xem, hoặc các đơn vị trong sites=)",
    REPORT_READERS,
    response=ReportOut,
    problems=(404, 422),
    query=SitesReportQuery,
    files=FILES,
    any_site=True,
)
def sites_report() -> Response:
    period, group, fmt = _query(("from", "to", "group", "format", "sites"))
    visible = _visible_sites()
    asked = request.args.get("sites")
    if asked:
        codes = [code.strip() for code in asked.split(",") if code.strip()]
        if not codes:
            raise invalid("report_unknown_parameter", name="sites")
        with runtime().db.reads() as session:
            found = dict(
                session.execute(select(Site.code, Site.id).where(Site.code.in_(codes))).all()
            )
        for code in codes:
            if code not in found:
                raise not_found("site_not_found", site=code[:40])
            if found[code] not in visible:
                raise ApiProblem(403, "forbidden")
        site_ids = [found[code] for code in dict.fromkeys(codes)]
    else:
        site_ids = visible
    return _answer(site_ids, period, group, fmt, "nhieu-don-vi")


def _visible_sites() -> list[int]:
    """A token: its own site; a staff session: every site (admin) or their own (manager)."""
    principal = g.principal
    if principal.user_id is None:
        return [principal.site_id]
    staff = current_staff()
    if staff is None:  # pragma: no cover - requires() found a session
        raise ApiProblem(401, "unauthorized")
    with runtime().db.reads() as session:
        return reports.visible_site_ids(session, staff.role, staff.site_ids)


@endpoint(
    "GET",
    "/sites/<site>/me/today",
    "Kết quả hôm nay của chính cán bộ đang đăng nhập: số đã phục vụ, thời gian, hài lòng",
    OWN_FIGURES,
    response=ClerkTodayOut,
    problems=(404,),
    staff_page=True,
)
def my_figures_today(site: str) -> Response:
    rt = runtime()
    with rt.db.reads() as session:
        site_id = site_by_code(session, site).id
        figures: dict[str, Any] = reports.clerk_today(
            session, site_id, int(g.principal.user_id), now=rt.clock()
        )
    return jsonify(figures)
