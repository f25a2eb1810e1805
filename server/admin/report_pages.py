"""The manager's report pages: ``/admin/reports`` and the monthly sheet per clerk.

Thin views over ``server.reports``: the figures are the API's and the exports' (the page
links to ``GET /api/v1/.../reports?format=xlsx|csv`` for the files); here only the query
string is read, the sites checked (an admin every one, a manager theirs: the API's rule),
and the charts' data put in the page as JSON for ``reports.js``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import reports
from ..engine.errors import QueueError
from ..messages import RATING_LEVELS, error_text
from ..models import Site
from ..runtime import runtime
from ..timeutil import business_day
from . import bp
from .access import manager_page, me

ALL_SITES = "all"
CUSTOM = "custom"
PERIOD_LABELS = {
    "today": _l("Hôm nay"),
    "yesterday": _l("Hôm qua"),
    "this_week": _l("Tuần này"),
    "this_month": _l("Tháng này"),
    "last_month": _l("Tháng trước"),
    CUSTOM: _l("Tùy chọn"),
}
GROUP_LABELS = {
    "service": _l("Lĩnh vực"),
    "counter": _l("Quầy"),
    "clerk": _l("Cán bộ"),
    "hour": _l("Giờ trong ngày"),
    "day": _l("Ngày"),
    "site": _l("Đơn vị"),
}
PAGE_GROUPS = ("service", "counter", "clerk", "hour", "day")


class PageError(Exception):
    """What the person asked for cannot be shown: the page says why (status 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _visible_sites(session: Any) -> list[Site]:
    staff = me()
    ids = reports.visible_site_ids(session, staff.role, staff.site_ids)
    if not ids:
        return []
    return list(session.execute(select(Site).where(Site.id.in_(ids)).order_by(Site.name)).scalars())


def _chosen_sites(session: Any, sites: list[Site], asked: str | None) -> list[Site]:
    """The site of ``?site=`` (403 when not this person's), all of theirs, or the first."""
    if not sites:
        abort(403)
    if asked == ALL_SITES:
        return sites
    if asked:
        for site in sites:
            if site.code == asked:
                return [site]
        known = session.execute(select(Site.id).where(Site.code == asked)).first()
        abort(403 if known else 404)
    return sites[:1]


def _period(name: str, today: date) -> reports.Period:
    try:
        if name == CUSTOM:
            return reports.parse_period(request.args.get("from"), request.args.get("to"))
        return reports.named_period(name, today)
    except QueueError as err:
        raise PageError(error_text(err.code, err.params)) from None


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _export_links(sites: list[Site], period: reports.Period, group: str) -> dict[str, str]:
    query = {"from": period.start.isoformat(), "to": period.end.isoformat(), "group": group}
    links = {}
    for fmt in ("xlsx", "csv"):
        if len(sites) == 1:
            links[fmt] = url_for("api.site_report", site=sites[0].code, format=fmt, **query)
        else:
            codes = ",".join(s.code for s in sites)
            links[fmt] = url_for("api.sites_report", sites=codes, format=fmt, **query)
    return links


def _charts(by_hour: dict[str, Any], by_clerk: dict[str, Any], total: dict[str, Any]) -> Any:
    """What reports.js draws: arrivals and served per hour, waits in bars, satisfaction."""
    bars = []
    for bar in total["wait_distribution"]:
        if bar["to_min"] is None:
            bars.append(_("trên %(n)d phút", n=bar["from_min"]))
        else:
            bars.append(_("%(a)d–%(b)d phút", a=bar["from_min"], b=bar["to_min"]))
    rated = [g for g in by_clerk["groups"] if g["ratings"]["satisfaction_index"] is not None]
    return {
        "hours": {
            "labels": [g["key"] + "h" for g in by_hour["groups"]],
            "issued": [g["issued"] for g in by_hour["groups"]],
            "served": [g["served"] for g in by_hour["groups"]],
            "issued_label": _("Số phiếu lấy"),
            "served_label": _("Đã phục vụ"),
        },
        "waits": {
            "labels": bars,
            "counts": [bar["count"] for bar in total["wait_distribution"]],
            "label": _("Số lượt chờ"),
        },
        "satisfaction": {
            "labels": [g["label"] for g in rated],
            "values": [round(g["ratings"]["satisfaction_index"] * 100, 1) for g in rated],
            "label": _("Chỉ số hài lòng (phần trăm)"),
        },
    }


@bp.get("/reports")
@manager_page
def reports_page() -> Any:
    rt = runtime()
    now = rt.clock()
    period_name = request.args.get("period") or "today"
    if period_name not in PERIOD_LABELS:
        period_name = "today"
    group = request.args.get("group") or "service"
    with rt.db.reads() as session:
        sites = _visible_sites(session)
        chosen = _chosen_sites(session, sites, request.args.get("site"))
        groups = PAGE_GROUPS + (("site",) if len(chosen) > 1 else ())
        if group not in groups:
            group = "service"
        today = business_day(now, chosen[0].timezone)
        context: dict[str, Any] = {
            "sites": sites,
            "site_choice": request.args.get("site") or chosen[0].code,
            "all_sites": ALL_SITES,
            "period_name": period_name,
            "period_labels": PERIOD_LABELS,
            "group": group,
            "groups": [(g, GROUP_LABELS[g]) for g in groups],
            "minutes": _minutes,
            "share": _share,
            "custom_from": request.args.get("from") or today.isoformat(),
            "custom_to": request.args.get("to") or today.isoformat(),
        }
        try:
            period = _period(period_name, today)
        except PageError as err:
            return render_template("admin/reports.html", error=err.message, **context), 400
        ids = [s.id for s in chosen]
        wanted = tuple(dict.fromkeys((group, "hour", "clerk")))
        made = _site_reports(session, ids, period, wanted, now, rt.db.writes)
    report = made[group]
    levels = list(report["total"]["ratings"]["by_level"])
    return render_template(
        "admin/reports.html",
        report=report,
        period=period,
        chosen=chosen,
        levels=levels,
        charts=_charts(made["hour"], made["clerk"], report["total"]),
        exports=_export_links(chosen, period, group),
        monthly_url=url_for(
            "admin.monthly_sheet",
            site=chosen[0].code if len(chosen) == 1 else ALL_SITES,
            month=period.start.strftime("%Y-%m"),
        ),
        **context,
    )


def _site_reports(
    session: Any,
    ids: list[int],
    period: reports.Period,
    groups: tuple[str, ...],
    now: Any,
    store: Any,
) -> dict[str, dict[str, Any]]:
    """The reports of these sites; at the hub, of the sites it received, from their events."""
    if current_app.config.get("ROLE") == "hub":
        from ..hub.reports import hub_reports, received_sites

        received = received_sites(session, ids)
        if received is not None:
            return hub_reports(session, received, period, groups, now)
    return reports.site_reports(session, ids, period, groups, now=now, store=store)


def _month(text: str | None, today: date) -> reports.Period:
    """``YYYY-MM`` (this month when none): its first to its last day."""
    first: date | None = today.replace(day=1)
    if text:
        try:
            first = date.fromisoformat(text + "-01") if len(text) == 7 else None
        except ValueError:
            first = None
    if first is None:
        raise PageError(_("Tháng không hợp lệ: “%(m)s” (cần dạng 2026-11).", m=(text or "")[:20]))
    following = (first + timedelta(days=32)).replace(day=1)
    return reports.Period(first, following - timedelta(days=1))


def level_names(scale: int = 4) -> list[tuple[str, str]]:
    """Level ("1".."n") and its Vietnamese name, lowest first."""
    names = RATING_LEVELS.get(scale, RATING_LEVELS[4])
    return [(str(scale - i), _(name)) for i, name in enumerate(names)][::-1]


@bp.get("/reports/monthly")
@manager_page
def monthly_sheet() -> Any:
    """Bảng tổng hợp đánh giá hài lòng tháng: one row per clerk, printable and exportable."""
    rt = runtime()
    now = rt.clock()
    with rt.db.reads() as session:
        sites = _visible_sites(session)
        chosen = _chosen_sites(session, sites, request.args.get("site"))
        today = business_day(now, chosen[0].timezone)
        context: dict[str, Any] = {
            "sites": sites,
            "site_choice": request.args.get("site") or chosen[0].code,
            "all_sites": ALL_SITES,
            "month": request.args.get("month") or today.strftime("%Y-%m"),
            "minutes": _minutes,
            "share": _share,
        }
        try:
            period = _month(request.args.get("month"), today)
        except PageError as err:
            return render_template("admin/monthly.html", error=err.message, **context), 400
        report = _site_reports(
            session, [s.id for s in chosen], period, ("clerk",), now, rt.db.writes
        )["clerk"]
        scale = max(s.rating_scale or 4 for s in chosen)
    levels = level_names(max(scale, len(report["total"]["ratings"]["by_level"])))
    return render_template(
        "admin/monthly.html",
        report=report,
        period=period,
        chosen=chosen,
        levels=levels,
        exports=_export_links(chosen, period, "clerk"),
        **context,
    )
