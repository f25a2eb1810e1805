"""Reprinting a stored ticket (`xephang print-ticket`) and its PNG preview in the API."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from server import engine
from server.cli import cli

from ..api_fixtures import PREFIX, assert_problem, bearer
from ..escpos_raster import decode
from ..factories import ServiceSpec, build_site, ticket_row
from ..ticket_fixtures import BIRTHS, COPIES, read_qr

PUBLIC = "https://xephang.example.vn"


@pytest.fixture
def issued(database: Any, uow: Any) -> dict[str, Any]:
    """A site whose services have Vietnamese names, and one waiting ticket behind another."""
    with database.writes() as session:
        site = build_site(
            session,
            services=[ServiceSpec("HT", name=BIRTHS, prefix="A"), ServiceSpec("CT", name=COPIES)],
            counters={1: {"HT": 1, "CT": 1}},
        )
        site.header_lines = ["UBND THÀNH PHỐ HẢI PHÒNG", "BỘ PHẬN MỘT CỬA"]
        session.commit()
    engine.issue_ticket(uow(), "s1", "HT")
    return engine.issue_ticket(uow(), "s1", "HT", priority="elderly").ticket


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("XEPHANG_DATABASE_URL", db_url)
    monkeypatch.setenv("XEPHANG_SECRET_KEY", "test-secret")
    monkeypatch.setenv("XEPHANG_PUBLIC_URL", PUBLIC)
    monkeypatch.delenv("XEPHANG_REDIS_URL", raising=False)
    monkeypatch.delenv("XEPHANG_TICKET_FOOTER", raising=False)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["print-ticket", *args])


@pytest.mark.parametrize(("paper", "dots"), [("58", 384), ("80", 576)])
def test_print_ticket_reprints_a_stored_ticket(
    env: None, issued: dict[str, Any], tmp_path: Path, paper: str, dots: int
) -> None:
    out = tmp_path / "lp0"
    result = run(str(issued["id"]), "--printer", f"file://{out}", "--paper", paper)
    assert result.exit_code == 0, result.output
    # A device file cannot confirm the print: the command says it was sent, not printed.
    assert f"Đã gửi phiếu {issued['number']}" in result.output
    printout = decode(out.read_bytes())
    assert printout.image.width == dots
    assert read_qr(printout.image) == [f"{PUBLIC}/t/{issued['tracking_token']}"]


def test_print_ticket_defaults_to_80_mm_and_takes_the_base_url_option(
    env: None, issued: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "lp0"
    result = run(
        str(issued["id"]), "--printer", f"file://{out}", "--base-url", "http://10.0.0.2:8080/"
    )
    assert result.exit_code == 0, result.output
    printout = decode(out.read_bytes())
    assert printout.image.width == 576
    assert read_qr(printout.image) == [f"http://10.0.0.2:8080/t/{issued['tracking_token']}"]


def test_without_a_public_url_the_ticket_prints_without_a_qr_code(
    env: None, issued: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XEPHANG_PUBLIC_URL")
    out = tmp_path / "lp0"
    result = run(str(issued["id"]), "--printer", f"file://{out}")
    assert result.exit_code == 0, result.output
    assert "không có mã QR" in result.output
    assert read_qr(decode(out.read_bytes()).image) == []


def test_an_unknown_ticket_is_exit_2(env: None, issued: dict[str, Any], tmp_path: Path) -> None:
    result = run("999999", "--printer", f"file://{tmp_path / 'lp0'}")
    assert result.exit_code == 2
    assert "Không tìm thấy phiếu" in result.output
    assert not (tmp_path / "lp0").exists()


def test_a_bad_printer_url_is_exit_2(env: None, issued: dict[str, Any]) -> None:
    result = run(str(issued["id"]), "--printer", "lpt1")
    assert result.exit_code == 2
    assert "Địa chỉ máy in “lpt1” không hợp lệ" in result.output


def test_browser_cannot_reprint_and_none_prints_nothing(env: None, issued: dict[str, Any]) -> None:
    assert run(str(issued["id"]), "--printer", "browser").exit_code == 2
    result = run(str(issued["id"]), "--printer", "none")
    assert result.exit_code == 0 and "không in" in result.output


def test_an_offline_printer_is_exit_1_and_the_ticket_stays(
    env: None, issued: dict[str, Any], database: Any, tmp_path: Path
) -> None:
    result = run(str(issued["id"]), "--printer", f"file://{tmp_path}/unplugged/lp0")
    assert result.exit_code == 1
    assert "có thể in lại" in result.output
    assert ticket_row(database, issued["id"]).status == "waiting"


# --- GET /api/v1/tickets/{id}/ticket.png -------------------------------------------------


def png(response: Any) -> Image.Image:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    return Image.open(BytesIO(response.data))


def test_the_png_preview_for_each_paper(
    client: Any, issued: dict[str, Any], make_token: Any
) -> None:
    token = make_token("display")
    path = f"{PREFIX}/tickets/{issued['id']}/ticket.png"
    default = png(client.get(path, headers=bearer(token)))
    narrow = png(client.get(path + "?paper=58", headers=bearer(token)))
    assert default.width == 576 and narrow.width == 384
    # No public URL configured: the QR code points at the server the request reached.
    assert read_qr(narrow) == [f"http://localhost/t/{issued['tracking_token']}"]


def test_the_png_preview_uses_the_configured_public_url(
    app: Any, client: Any, issued: dict[str, Any], make_token: Any
) -> None:
    app.config["PUBLIC_URL"] = PUBLIC
    response = client.get(
        f"{PREFIX}/tickets/{issued['id']}/ticket.png", headers=bearer(make_token("kiosk"))
    )
    assert read_qr(png(response)) == [f"{PUBLIC}/t/{issued['tracking_token']}"]


def test_the_png_preview_speaks_problem_json(
    client: Any, database: Any, issued: dict[str, Any], make_token: Any
) -> None:
    path = f"{PREFIX}/tickets/{issued['id']}/ticket.png"
    assert_problem(client.get(path), 401, "unauthorized")
    token = make_token("clerk")
    body = assert_problem(
        client.get(path + "?paper=70", headers=bearer(token)), 422, "validation_error"
    )
    assert body["errors"][0]["field"] == "paper"
    missing = f"{PREFIX}/tickets/999999/ticket.png"
    assert_problem(client.get(missing, headers=bearer(token)), 404, "ticket_not_found")
    with database.writes() as session:
        build_site(session, code="s2")
    other_site = make_token("admin", site="s2")
    assert_problem(client.get(path, headers=bearer(other_site)), 404, "ticket_not_found")


def test_the_png_preview_is_in_the_openapi_description(client: Any) -> None:
    spec = client.get(f"{PREFIX}/openapi.json").get_json()
    operation = spec["paths"][f"{PREFIX}/tickets/{{ticket_id}}/ticket.png"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "403", "404", "422"}
