"""The reports over HTTP and the command line: who may read them, the checks, CSV and XLSX."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from werkzeug.security import generate_password_hash

from server import reports
from server.accounts import services
from server.accounts.services import create_user
from server.cli import cli
from server.reports.export import SHEET_TITLES, TICKETS_TITLE, table

from ..api_fixtures import PREFIX, assert_problem, bearer
from ..factories import build_site
from ..report_day import DAY, build_day
from ..staff import PASSWORD, log_in

QUERY = "from=2026-11-23&to=2026-11-23"
REPORT = f"{PREFIX}/sites/s1/reports?{QUERY}"


@pytest.fixture
def day(database: Any, uow: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The hand-computed day at s1, a second site s2, and staff: managers, an admin, a clerk."""
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


def expected(database: Any, clock: Any, group: str, site_ids: list[int] | None = None) -> Any:
    with database.reads() as session:
        ids = site_ids or [1]
        return reports.site_report(session, ids, reports.Period(DAY, DAY), group, now=clock())


def same_figures(body: dict[str, Any], report: dict[str, Any]) -> None:
    assert body["groups"] == report["groups"] and body["total"] == report["total"]


def session_client(app: Any, username: str) -> Any:
    client = app.test_client()
    log_in(client, username)
    return client


def test_a_managers_token_reads_the_report_in_the_issues_shape(
    client, make_token, day, database, clock
):
    response = client.get(REPORT + "&group=service", headers=bearer(make_token("manager")))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert {"site", "from", "to", "group", "groups", "total"} <= set(body)
    assert (body["site"], body["from"], body["to"], body["group"]) == (
        "s1",
        "2026-11-23",
        "2026-11-23",
        "service",
    )
    first = body["groups"][0]
    assert (first["key"], first["label"]) == ("A", "Hộ tịch")
    for figures in (first, body["total"]):
        for name in ("issued", "served", "no_show", "cancelled", "transferred_out", "recalls"):
            assert isinstance(figures[name], int)
        for name in ("wait_s", "walk_s", "service_s"):
            assert set(figures[name]) >= {"mean", "median", "p90", "max"}
        assert isinstance(figures["over_target"], int)
        assert set(figures["ratings"]) >= {"count", "by_level", "satisfaction_index"}
    same_figures(body, expected(database, clock, "service"))
    # an admin token of the site reads it too; the default grouping is by service
    admin = client.get(REPORT, headers=bearer(make_token("admin"))).get_json()
    assert admin["group"] == "service"


@pytest.mark.parametrize("role", ["clerk", "kiosk", "display", "tablet"])
def test_other_tokens_are_refused(client, make_token, day, role):
    counter = 1 if role in ("clerk", "tablet") else None
    response = client.get(REPORT, headers=bearer(make_token(role, counter=counter)))
    assert_problem(response, 403, "forbidden")


def test_a_token_reads_its_own_site_only(client, make_token, day):
    assert_problem(
        client.get(REPORT, headers=bearer(make_token("admin", site="s2"))), 403, "forbidden"
    )
    assert_problem(client.get(REPORT), 401, "unauthorized")
    # several sites: a token stands for its own site only
    body = client.get(
        f"{PREFIX}/reports?{QUERY}&group=site", headers=bearer(make_token("manager"))
    ).get_json()
    assert body["sites"] == ["s1"]
    response = client.get(
        f"{PREFIX}/reports?{QUERY}&sites=s1,s2", headers=bearer(make_token("manager"))
    )
    assert_problem(response, 403, "forbidden")


def test_staff_sessions(app, day, database, clock):
    manager = session_client(app, "quan")
    assert manager.get(REPORT).status_code == 200
    assert_problem(manager.get(f"{PREFIX}/sites/s2/reports?{QUERY}"), 403, "forbidden")
    other = session_client(app, "thu")  # a manager of s2 only
    assert_problem(other.get(REPORT), 403, "forbidden")
    admin = session_client(app, "root")
    assert admin.get(f"{PREFIX}/sites/s2/reports?{QUERY}").status_code == 200
    assert_problem(admin.get(f"{PREFIX}/sites/nowhere/reports?{QUERY}"), 404, "site_not_found")
    clerk = session_client(app, "clerk2")
    assert_problem(clerk.get(REPORT), 403, "forbidden")
    assert_problem(clerk.get(f"{PREFIX}/reports?{QUERY}"), 403, "forbidden")
    # "all the sites I may see": the admin every site, a manager theirs
    both = admin.get(f"{PREFIX}/reports?{QUERY}&group=site").get_json()
    assert both["sites"] == ["s1", "s2"] and both["site"] == "*"
    same_figures(both, expected(database, clock, "site", [1, 2]))
    assert manager.get(f"{PREFIX}/reports?{QUERY}").get_json()["sites"] == ["s1"]
    assert_problem(manager.get(f"{PREFIX}/reports?{QUERY}&sites=s2"), 403, "forbidden")
    assert_problem(admin.get(f"{PREFIX}/reports?{QUERY}&sites=s9"), 404, "site_not_found")
    only = admin.get(f"{PREFIX}/reports?{QUERY}&sites=s2").get_json()
    assert only["sites"] == ["s2"]


def test_a_clerks_own_figures(app, client, make_token, day, database, clock):
    lan = session_client(app, "lan")
    body = lan.get(f"{PREFIX}/sites/s1/me/today").get_json()
    assert (body["clerk"], body["day"]) == ("lan", "2026-11-24")
    # on the 24th, lan served no ticket drawn that day
    assert body["served"] == 0 and body["ratings"]["count"] == 0
    response = client.get(
        f"{PREFIX}/sites/s1/me/today", headers=bearer(make_token("clerk", counter=1))
    )
    assert_problem(response, 403, "staff_login_required")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2026-11-23", "report_date_required"),
        ("from=2026-11-23&to=23-11-2026", "report_bad_date"),
        ("from=2026-11-31&to=2026-12-01", "report_bad_date"),
        ("from=2026-11-24&to=2026-11-23", "report_range_reversed"),
        ("from=2025-01-01&to=2026-11-23", "report_range_too_long"),
        (QUERY + "&group=week", "report_bad_group"),
        (QUERY + "&format=pdf", "report_bad_format"),
        (QUERY + "&colour=red", "report_unknown_parameter"),
        (QUERY + "&group=hour&group=day", "report_unknown_parameter"),
    ],
)
def test_every_parameter_is_checked(client, make_token, day, query, code):
    response = client.get(f"{PREFIX}/sites/s1/reports?{query}", headers=bearer(make_token("admin")))
    assert_problem(response, 422, code)


def test_csv_is_the_json(client, make_token, day, database, clock):
    response = client.get(REPORT + "&group=clerk&format=csv", headers=bearer(make_token("admin")))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Vietnamese
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    report = expected(database, clock, "clerk")
    want = [["" if cell is None else str(cell) for cell in row] for row in table(report)]
    assert lines == want
    header = lines[0]
    by_key = {line[0]: dict(zip(header, line, strict=True)) for line in lines[1:]}
    assert by_key["lan"]["Tên"] == "Nguyễn Thị Lan" and by_key["lan"]["Đã phục vụ"] == "3"
    assert by_key["lan"]["Thời gian phục vụ TB (phút)"] == "11.33"  # 680 s
    assert by_key[""]["Tên"] == "Tổng cộng" and by_key[""]["Số phiếu"] == "7"


def test_xlsx_is_the_json(client, make_token, day, database, clock):
    response = client.get(
        REPORT + "&group=counter&format=xlsx", headers=bearer(make_token("admin"))
    )
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.get_data()))
    titles = [SHEET_TITLES[g] for g in ("counter", "service", "clerk", "hour", "day")]
    assert book.sheetnames == [*titles, TICKETS_TITLE]
    for group, title in zip(("counter", "service", "clerk", "hour", "day"), titles, strict=True):
        sheet = book[title]
        cells = [list(row) for row in sheet.iter_rows(values_only=True)]
        want = table(expected(database, clock, group))
        assert cells == [[None if cell == "" else cell for cell in row] for row in want]
        assert sheet["A1"].font.bold
    counters = book[SHEET_TITLES["counter"]]
    header = [c.value for c in counters[1]]
    row3 = {h: c.value for h, c in zip(header, counters[4], strict=True)}  # counter 3
    assert row3["Mã"] == "3" and row3["Đã phục vụ"] == 2
    assert row3["Thời gian phục vụ TB (phút)"] == 12.0  # (10 + 14) / 2 minutes
    assert row3["Thời gian làm việc tại quầy (phút)"] == 485 + 15  # a number, in minutes
    tickets = list(book[TICKETS_TITLE].iter_rows(values_only=True))
    assert len(tickets) == 1 + 7
    numbers = {row[0]: row for row in tickets[1:]}
    assert set(numbers) == {"A001", "A002", "A003", "A004", "A005", "B001", "B002"}
    columns = tickets[0]
    a005 = dict(zip(columns, numbers["A005"], strict=True))
    assert a005["Trạng thái"] == "Đã phục vụ" and a005["Thời gian phục vụ (phút)"] == 14.0
    assert a005["Giờ lấy số"].hour == 23  # the site's wall-clock time
    # no citizen's data: no tracking token, no dossier code column
    assert "Mã hồ sơ" not in columns
    with database.reads() as session:
        from sqlalchemy import select

        from server.models import Ticket

        tokens = set(session.execute(select(Ticket.tracking_token)).scalars())
    assert not any(cell in tokens for row in tickets for cell in row)


def test_the_command_line_prints_and_writes_the_same(db_url, day, database, clock, tmp_path):
    env = {"XEPHANG_DATABASE_URL": db_url, "XEPHANG_SECRET_KEY": "x", "XEPHANG_REDIS_URL": ""}
    runner = CliRunner(env=env)
    args = ["report", "--site", "s1", "--from", "2026-11-23", "--to", "2026-11-23"]
    result = runner.invoke(cli, [*args, "--group", "hour"])
    assert result.exit_code == 0, result.output
    same_figures(json.loads(result.stdout), expected(database, clock, "hour"))
    out = tmp_path / "r.csv"
    result = runner.invoke(cli, [*args, "--format", "csv", "--output", str(out)])
    assert result.exit_code == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")
    out = tmp_path / "r.xlsx"
    assert runner.invoke(cli, [*args, "--format", "xlsx", "--output", str(out)]).exit_code == 0
    assert load_workbook(out).sheetnames[0] == SHEET_TITLES["service"]
    bad = runner.invoke(
        cli, ["report", "--site", "s1", "--from", "2026-11-24", "--to", "2026-11-23"]
    )
    assert bad.exit_code == 2 and "Ngày bắt đầu" in bad.output
    unknown = runner.invoke(
        cli, ["report", "--site", "zz", "--from", "2026-11-23", "--to", "2026-11-23"]
    )
    assert unknown.exit_code == 2 and "Không tìm thấy đơn vị" in unknown.output


def test_the_openapi_document_describes_the_reports(client):
    spec = client.get(f"{PREFIX}/openapi.json").get_json()
    op = spec["paths"][f"{PREFIX}/sites/{{site}}/reports"]["get"]
    query = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
    assert set(query) == {"from", "to", "group", "format"}
    assert query["from"]["required"] and not query["group"]["required"]
    assert "hour" in query["group"]["schema"]["enum"]
    content = op["responses"]["200"]["content"]
    assert set(content) >= {"application/json", "text/csv"}
    assert any(media.endswith("spreadsheetml.sheet") for media in content)
    assert "422" in op["responses"] and op["description"].startswith("Roles: admin, manager")
    assert f"{PREFIX}/reports" in spec["paths"]
