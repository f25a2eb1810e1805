"""The manager's pages: the report page, the monthly sheet, the live dashboard and the
province view, rendered on both databases; who may open them; the dashboard's alerts.

The figures themselves are server.reports' (tests/integration/test_reports.py): here the pages must
show those same figures, and refuse whoever the API refuses.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape as html_unescape
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from server import engine, reports
from server.accounts import services
from server.accounts.services import create_user
from server.models import ApiToken, PrintJob, Ticket
from server.reports import dashboard

from ..factories import build_site
from ..report_day import DAY, build_day
from ..staff import PASSWORD, log_in

REPORT_DAY = f"period=custom&from={DAY}&to={DAY}"


@pytest.fixture
def day(database: Any, uow: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The hand-computed day at s1, a second site s2, and staff of each role."""
    monkeypatch.setattr(
        services, "hash_password", lambda p: generate_password_hash(p, "pbkdf2:sha256:1000")
    )
    built = build_day(database, uow, clock)
    with database.writes() as session:
        build_site(session, "s2")
    with database.writes() as session, session.begin():
        for username, role, sites in (
            ("quan", "manager", ("s1",)),
            ("thu", "manager", ("s2",)),
            ("root", "admin", ()),
            ("clerk2", "clerk", ("s1",)),
        ):
            create_user(session, username, role, PASSWORD, clock(), site_codes=sites)
    return built


def as_user(app: Any, username: str) -> Any:
    client = app.test_client()
    log_in(client, username)
    return client


def cells(html: str, row_attr: str) -> list[str]:
    """The text of each cell of the table row marked ``row_attr`` (e.g. data-key="A")."""
    found = re.search(rf"<tr {row_attr}>(.*?)</tr>", html, re.S)
    assert found, row_attr
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", found[1], re.S)
    ]


def the_report(database: Any, clock: Any, group: str) -> dict[str, Any]:
    with database.reads() as session:
        return reports.site_report(session, [1], reports.Period(DAY, DAY), group, now=clock())


@pytest.mark.parametrize(
    "path",
    [
        "/admin/reports",
        "/admin/reports/monthly",
        "/admin/live",
        "/admin/live/s1",
        "/admin/live/s1/live.json",
    ],
)
def test_a_clerk_is_refused_every_managers_page(app, day, path):
    assert as_user(app, "clerk2").get(path).status_code == 403


def test_nobody_logged_in_is_sent_to_log_in(client, day):
    response = client.get("/admin/reports")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/reports?site=s2&{REPORT_DAY}",
        "/admin/reports/monthly?site=s2",
        "/admin/live/s2",
        "/admin/live/s2/live.json",
    ],
)
def test_a_manager_is_refused_another_sites_pages(app, day, path):
    assert as_user(app, "quan").get(path).status_code == 403


def test_the_report_page_shows_the_reports_figures(app, day, database, clock):
    page = as_user(app, "quan").get(f"/admin/reports?site=s1&{REPORT_DAY}&group=service")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    report = the_report(database, clock, "service")
    a = next(g for g in report["groups"] if g["key"] == "A")
    row = cells(html, 'data-key="A"')
    assert row[0] == "Hộ tịch"
    assert [int(x) for x in row[1:6]] == [
        a["issued"],
        a["served"],
        a["no_show"],
        a["cancelled"],
        a["transferred_out"],
    ]
    assert row[6] == f"{a['wait_s']['mean'] / 60:.1f}"
    assert f'id="kpi-served">{report["total"]["served"]}<' in html
    # the charts' data: arrivals and served per hour, from the hour grouping
    charts = json.loads(
        html_unescape(re.search(r'id="chart-data"[^>]*>(.*?)</script>', html, re.S)[1])
    )
    by_hour = the_report(database, clock, "hour")
    assert charts["hours"]["issued"] == [g["issued"] for g in by_hour["groups"]]
    assert charts["hours"]["served"] == [g["served"] for g in by_hour["groups"]]
    waits = [bar["count"] for bar in report["total"]["wait_distribution"]]
    assert charts["waits"]["counts"] == waits and sum(waits) == report["total"]["wait_s"]["count"]
    # export buttons: the API's files for the same days and grouping
    xlsx = html_unescape(re.search(r'id="export-xlsx" href="([^"]+)"', html)[1])
    path, query = xlsx.split("?")
    assert path == "/api/v1/sites/s1/reports"
    assert dict(pair.split("=") for pair in query.split("&")) == {
        "from": str(DAY),
        "to": str(DAY),
        "group": "service",
        "format": "xlsx",
    }


def test_the_report_page_groups_by_clerk_and_all_sites_for_an_admin(app, day, database, clock):
    admin = as_user(app, "root")
    html = admin.get(f"/admin/reports?site=s1&{REPORT_DAY}&group=clerk").get_data(as_text=True)
    lan = next(g for g in the_report(database, clock, "clerk")["groups"] if g["key"] == "lan")
    assert cells(html, 'data-key="lan"')[2] == str(lan["served"])
    every = admin.get(f"/admin/reports?site=all&{REPORT_DAY}&group=site")
    assert every.status_code == 200
    text = every.get_data(as_text=True)
    assert 'data-key="s1"' in text and 'data-key="s2"' in text
    assert "/api/v1/reports?sites=s1,s2&amp;format=xlsx" in text


def test_a_wrong_custom_range_is_said_in_vietnamese(app, day):
    page = as_user(app, "quan").get("/admin/reports?period=custom&from=2026-11-30&to=2026-11-01")
    assert page.status_code == 400
    assert 'role="alert"' in page.get_data(as_text=True)


def test_the_monthly_sheet_has_one_row_per_clerk(app, day, database, clock):
    page = as_user(app, "quan").get("/admin/reports/monthly?site=s1&month=2026-11")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bảng tổng hợp đánh giá hài lòng tháng" in html
    with database.reads() as session:
        month = reports.Period(DAY.replace(day=1), DAY.replace(day=30))
        report = reports.site_report(session, [1], month, "clerk", now=clock())
    for clerk in report["groups"]:
        if clerk["key"] is None:
            continue
        row = cells(html, f'data-clerk="{clerk["key"]}"')
        assert row[2] == str(clerk["served"])
        levels = [int(x) for x in row[4:8]]  # lowest level first
        assert levels == [clerk["ratings"]["by_level"][str(n)] for n in (1, 2, 3, 4)]
        assert row[-1] == str(clerk["no_show"])
    assert "format=xlsx" in html and "group=clerk" in html
    bad = as_user(app, "quan").get("/admin/reports/monthly?site=s1&month=2026-13")
    assert bad.status_code == 400


def test_the_dashboard_shows_waiting_counters_and_totals(app, day, database, clock):
    clock.now = clock.now - timedelta(hours=24, minutes=-1)  # 09:01 on the report's day
    with database.reads() as session:
        snap = dashboard.site_dashboard(session, "s1", clock())
    b = next(s for s in snap["services"] if s["code"] == "B")
    assert snap["business_day"] == DAY.isoformat()
    assert snap["site"]["wait_target_min"] == 15
    page = as_user(app, "quan").get("/admin/live/s1")
    assert page.status_code == 200 and "live.js" in page.get_data(as_text=True)
    body = as_user(app, "quan").get("/admin/live/s1/live.json").get_json()
    assert set(body) >= {"services", "counters", "totals", "alerts", "seq"}
    assert b["code"] == "B"


def _fresh_site(database: Any, uow: Any, clock: Any) -> None:
    with database.writes() as session:
        build_site(session, "s3", counters={1: {"A": 1}, 2: {"B": 1}})


def test_alerts_a_wait_past_the_target_and_a_service_nobody_serves(
    app, database, uow, clock, monkeypatch
):
    _fresh_site(database, uow, clock)
    with database.writes() as session, session.begin():
        lan = create_user(session, "lan", "clerk", PASSWORD, clock(), site_codes=("s3",))
        lan_id = lan.id
    engine.sign_in(uow(), "s3", 1, lan_id)  # counter 1 (service A) is staffed, B is not
    a1 = engine.issue_ticket(uow(), "s3", "A").ticket
    engine.issue_ticket(uow(), "s3", "B")
    with database.reads() as session:
        snap = dashboard.site_dashboard(session, "s3", clock())
    assert [a["kind"] for a in snap["alerts"]] == ["unserved"]
    assert snap["alerts"][0]["service"] == "B"
    a = next(s for s in snap["services"] if s["code"] == "A")
    assert (a["waiting"], a["counters"], a["over_target"]) == (1, [1], 0)
    counters = {c["number"]: c for c in snap["counters"]}
    assert counters[1]["state"] == "idle" and counters[2]["state"] == "off"

    clock.advance(minutes=16)
    with database.reads() as session:
        snap = dashboard.site_dashboard(session, "s3", clock())
    over = [x for x in snap["alerts"] if x["kind"] == "over_target"]
    assert {x["service"] for x in over} == {"A", "B"}
    assert next(x for x in over if x["service"] == "A")["number"] == a1["number"]
    assert snap["totals"]["over_target"] == 2

    engine.call_next(uow(), "s3", 1)
    with database.reads() as session:
        snap = dashboard.site_dashboard(session, "s3", clock())
    clock.advance(minutes=2)
    with database.reads() as session:
        snap = dashboard.site_dashboard(session, "s3", clock())
    counters = {c["number"]: c for c in snap["counters"]}
    assert counters[1]["state"] == "called" and counters[1]["ticket"] == a1["number"]
    assert counters[1]["for_s"] == 120.0  # called two minutes ago
    assert [x["service"] for x in snap["alerts"] if x["kind"] == "over_target"] == ["B"]


def test_alerts_a_printer_that_failed(app, database, uow, clock, make_token):
    _fresh_site(database, uow, clock)
    make_token("kiosk", site="s3")
    ticket = engine.issue_ticket(uow(), "s3", "A").ticket
    with database.writes() as session:
        device = session.execute(select(ApiToken.id)).scalar_one()
        site_id = session.execute(select(Ticket.site_id)).scalar_one()
        session.add(
            PrintJob(
                site_id=site_id,
                ticket_id=ticket["id"],
                device_id=device,
                status="failed",
                last_error="printer_out_of_paper",
                created_at=clock(),
            )
        )
        session.commit()
    with database.reads() as session:
        snap = dashboard.site_dashboard(session, "s3", clock())
    printers = [a for a in snap["alerts"] if a["kind"] == "printer"]
    assert len(printers) == 1 and printers[0]["number"] == ticket["number"]


def test_the_province_view_lists_the_worst_site_first(app, day, database, uow, clock):
    clock.advance(minutes=30)  # s1's ticket from 00:12 has waited past the target
    admin = as_user(app, "root")
    page = admin.get("/admin/live")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index('data-site="s1"') < html.index('data-site="s2"')
    lines = admin.get("/admin/live.json").get_json()["lines"]
    assert [line["site"]["code"] for line in lines] == ["s1", "s2"]
    assert lines[0]["url"] == "/admin/live/s1"
    mine = as_user(app, "thu").get("/admin/live.json").get_json()["lines"]
    assert [line["site"]["code"] for line in mine] == ["s2"]


def test_the_streamed_ticket_list_is_the_replays(day, database, clock):
    """The XLSX's ticket list (one query, streamed) has the same rows as the replay's
    list on the hand-computed day: transfers, requeues, recalls, a skipped start, a
    ticket left waiting, one served across midnight, one drawn the next day."""
    from server.reports.export import ticket_table
    from server.reports.log import read_log, read_names, read_sites
    from server.reports.replay import replay
    from server.reports.ticket_list import ticket_rows

    for period in (reports.Period(DAY, DAY), reports.Period(DAY, DAY + timedelta(days=1))):
        with database.reads() as session:
            sites = read_sites(session, [1], period)
            names = read_names(session, [1])
            log = read_log(session, sites, names, period, clock())
            want = ticket_table(replay(log, ticket_list=True).tickets, several_sites=False)[1:]
            got = list(ticket_rows(session, sites, names, period, clock(), several_sites=False))
        assert [list(r) for r in got] == want
        assert len(got) == (7 if period.days == 1 else 8)
        transferred = next(r for r in got if r[13] == 1)  # T1: requeued, then sent to B
        assert [transferred[i] for i in (1, 2, 14, 15)] == ["A", "B", 1, 1]


def test_the_clerks_page_shows_their_own_figures_of_today(app, day, database, uow, clock):
    """lan's page the next morning, after serving T8 (4 minutes, rated 3): what
    clerk_today says (served, mean service time, satisfaction), not yesterday's."""
    engine.sign_in(uow(), "s1", 3, day.lan)
    assert engine.call_next(uow(), "s1", 3)["id"] == day.tickets["T8"]
    clock.advance(minutes=1)
    engine.start(uow(), "s1", 3)
    clock.advance(minutes=4)
    engine.finish(uow(), "s1", 3)
    engine.rate_ticket(uow(), "s1", 3, day.tickets["T8"], 3)
    with database.reads() as session:
        mine = reports.clerk_today(session, day.site_id, day.lan, now=clock())
    assert (mine["served"], mine["service_s"]["mean"]) == (1, 240.0)
    client = app.test_client()
    log_in(client, "lan")
    page = client.get("/counter/s1/3")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    assert 'id="my-served">1<' in html
    assert 'id="my-service">4.0<' in html
    assert 'id="my-satisfaction">100%<' in html


def test_the_pages_in_english(app, day):
    admin = as_user(app, "root")
    html = admin.get(f"/admin/reports?site=s1&{REPORT_DAY}&lang=en").get_data(as_text=True)
    assert "Tickets drawn and served per hour" in html and "Show report" in html
    assert "Số phiếu lấy và đã phục vụ theo giờ" not in html
    sheet = admin.get("/admin/reports/monthly?site=s1&month=2026-11").get_data(as_text=True)
    assert "Monthly satisfaction summary" in sheet
    live = admin.get("/admin/live/s1").get_data(as_text=True)
    assert "Waiting per service" in live and "Hàng chờ theo lĩnh vực" not in live


def test_an_unknown_site_is_404_and_one_not_yours_403(app, day):
    manager = as_user(app, "quan")
    assert manager.get("/admin/reports?site=nope").status_code == 404
    assert manager.get("/admin/live/nope").status_code == 404
    assert manager.get("/admin/reports?site=s2").status_code == 403
