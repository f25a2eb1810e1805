"""Admin page for a site's devices: tokens, revoking, one-time pairing codes (SQLite, PG)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from server.db import Database
from server.devices import SESSION_KEY
from server.models import ApiToken, AuditEntry, PairingCode
from server.tokens import create_token

from ..api_fixtures import Api, assert_problem
from ..factories import snapshot
from ..integration.test_admin_people import (
    ADMIN_ADDR,
    audit_rows,
    csrf_from,
    login,
    make_user,
    sites,
)

CODE = re.compile(r'class="pair-code" data-code="(\d{4}-\d{4})"')


@pytest.fixture
def staff(database: Database, clock: Any) -> dict[str, int]:
    sites(database, "s1", "s2")
    return {
        "root": make_user(database, clock, "root", "admin"),
        "quanly1": make_user(database, clock, "quanly1", "manager", ("s1",)),
        "lan": make_user(database, clock, "lan", "clerk", ("s1",)),
    }


def token(database: Database, site: str, role: str, counter: int | None = None) -> str:
    with database.writes() as session:
        return create_token(session, site, role, counter, label=f"{role} thử")


def token_id(database: Database, raw: str) -> int:
    import hashlib

    with database.reads() as session:
        return session.scalars(
            select(ApiToken.id).where(
                ApiToken.token_hash == hashlib.sha256(raw.encode()).hexdigest()
            )
        ).one()


def code_form(**fields: Any) -> dict[str, Any]:
    return {"role": "display", "counter": "", "label": "", "printer": "", "paper": "", **fields}


def make_code(client: Any, site: str = "s1", **fields: Any) -> str:
    response = client.post(f"/admin/sites/{site}/devices/code", data=code_form(**fields))
    assert response.status_code == 200, response.get_data(as_text=True)
    found = CODE.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


# --- access -----------------------------------------------------------------------------------


def test_admins_and_the_sites_managers_reach_the_devices_page_nobody_else(
    app: Any, database: Database, staff: dict[str, int]
) -> None:
    raw = token(database, "s2", "display")
    other = token_id(database, raw)
    admin = login(app, "root")
    assert admin.get("/admin/sites/s1/devices").status_code == 200
    assert admin.get("/admin/sites/s2/devices").status_code == 200
    assert admin.get("/admin/sites/nowhere/devices").status_code == 404
    manager = login(app, "quanly1")
    page = manager.get("/admin/sites/s1/devices")
    assert page.status_code == 200 and "Tạo mã kết nối" in page.get_data(as_text=True)
    clerk = login(app, "lan")
    before = snapshot(database)
    assert manager.get("/admin/sites/s2/devices").status_code == 403
    assert manager.post("/admin/sites/s2/devices/code", data=code_form()).status_code == 403
    assert manager.post(f"/admin/sites/s2/devices/{other}/revoke").status_code == 403
    # Through their own site's address, another site's token is not found.
    assert manager.post(f"/admin/sites/s1/devices/{other}/revoke").status_code == 404
    assert clerk.get("/admin/sites/s1/devices").status_code == 403
    assert clerk.post("/admin/sites/s1/devices/code", data=code_form()).status_code == 403
    assert snapshot(database) == before
    assert Api(app.test_client(), raw, "s2").get("/sites/s2/state").status_code == 200


# --- tokens and revoking ----------------------------------------------------------------------


def test_a_token_revoked_on_the_page_is_refused_by_the_api_and_its_screen_is_unpaired(
    app: Any, database: Database, staff: dict[str, int], clock: Any
) -> None:
    raw = token(database, "s1", "display")
    number = token_id(database, raw)
    screen = app.test_client()
    assert screen.post("/pair", data={"token": raw}).status_code == 302
    assert screen.get("/display/").status_code == 200
    api = Api(app.test_client(), raw)
    assert api.get("/sites/s1/state").status_code == 200

    manager = login(app, "quanly1")
    page = manager.get("/admin/sites/s1/devices").get_data(as_text=True)
    assert f'data-token="{number}"' in page and "display thử" in page and "Thu hồi" in page
    response = manager.post(f"/admin/sites/s1/devices/{number}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/sites/s1/devices"

    assert_problem(api.get("/sites/s1/state"), 401, "unauthorized")
    back = screen.get("/display/")
    assert back.status_code == 302 and back.headers["Location"].startswith("/pair?next=")
    page = manager.get("/admin/sites/s1/devices").get_data(as_text=True)
    assert "Đã thu hồi lúc 23/11/2026 09:00" in page
    entry = audit_rows(database)[-1]
    assert (entry.action, entry.user_id, entry.device_id, entry.remote_addr) == (
        "device.revoke",
        staff["quanly1"],
        number,
        ADMIN_ADDR,
    )
    assert entry.site_id is not None and "display" in entry.target
    # Revoking again changes nothing and writes no second entry.
    before = snapshot(database)
    assert manager.post(f"/admin/sites/s1/devices/{number}/revoke").status_code == 302
    assert snapshot(database) == before
    assert manager.post("/admin/sites/s1/devices/9999/revoke").status_code == 404


def test_a_manager_cannot_revoke_an_admin_token(
    app: Any, database: Database, staff: dict[str, int]
) -> None:
    number = token_id(database, token(database, "s1", "admin"))
    manager = login(app, "quanly1")
    assert manager.post(f"/admin/sites/s1/devices/{number}/revoke").status_code == 403
    assert login(app, "root").post(f"/admin/sites/s1/devices/{number}/revoke").status_code == 302


# --- pairing codes ----------------------------------------------------------------------------


def test_a_code_made_on_the_page_pairs_one_browser_once(
    app: Any, database: Database, staff: dict[str, int], clock: Any
) -> None:
    manager = login(app, "quanly1")
    response = manager.post("/admin/sites/s1/devices/code", data=code_form(label="Sảnh A"))
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    found = CODE.search(page)
    assert found
    code = found.group(1)
    assert "24/11/2026 09:00" in page  # expires in 24 hours, in the site's time
    assert "http://localhost/pair" in page and f"/pair?code={code}" in page
    with database.reads() as session:
        stored = session.scalars(select(PairingCode)).one()
    assert code.replace("-", "") not in stored.code_hash
    assert (stored.role, stored.label, stored.created_by) == ("display", "Sảnh A", staff["quanly1"])
    listing = manager.get("/admin/sites/s1/devices").get_data(as_text=True)
    assert "Sảnh A" in listing and code not in listing  # pending, never its value

    screen = app.test_client()
    opened = screen.get(f"/pair?code={code}")  # the link fills the form in; it spends nothing
    assert opened.status_code == 200 and code in opened.get_data(as_text=True)
    paired = screen.post("/pair", data={"code": code})
    assert paired.status_code == 302
    with screen.session_transaction() as session:
        raw = session[SESSION_KEY]
    assert screen.get("/display/").status_code == 200
    assert Api(app.test_client(), raw).get("/sites/s1/state").status_code == 200

    again = app.test_client().post("/pair", data={"code": code})
    assert again.status_code == 400 and "đã được sử dụng" in again.get_data(as_text=True)
    listing = manager.get("/admin/sites/s1/devices").get_data(as_text=True)
    assert "Không có mã nào đang chờ." in listing
    entry = next(e for e in audit_rows(database) if e.action == "device.code")
    assert (entry.user_id, entry.remote_addr) == (staff["quanly1"], ADMIN_ADDR)
    assert entry.detail["role"] == "display" and "Sảnh A" in entry.target
    assert code not in str(entry.detail) and code not in entry.target


def test_a_kiosk_code_carries_its_printer_and_a_tablet_its_counter(
    app: Any, database: Database, staff: dict[str, int]
) -> None:
    admin = login(app, "root")
    make_code(admin, role="kiosk", printer="agent", paper="58")
    make_code(admin, role="kiosk", printer="tcp://192.168.1.50:9100")
    make_code(admin, role="tablet", counter="2")
    make_code(admin, role="clerk", counter="1")
    make_code(admin, role="clerk")
    with database.reads() as session:
        rows = session.scalars(select(PairingCode).order_by(PairingCode.id)).all()
        got = [(p.role, p.counter_number, p.settings) for p in rows]
    assert got == [
        ("kiosk", None, {"printer": "agent", "paper": 58}),
        ("kiosk", None, {"printer": "tcp://192.168.1.50:9100"}),
        ("tablet", 2, {}),
        ("clerk", 1, {}),
        ("clerk", None, {}),
    ]


BAD_CODES = [
    ({"role": "boss"}, "role", "Hãy chọn loại thiết bị."),
    ({"role": "tablet"}, "counter", "phải gắn với một quầy"),
    ({"role": "kiosk", "counter": "1"}, "counter", "Chỉ mã truy cập của cán bộ"),
    ({"role": "display", "counter": "2"}, "counter", "Chỉ mã truy cập của cán bộ"),
    ({"role": "clerk", "counter": "abc"}, "counter", "Số quầy phải là số nguyên dương."),
    ({"role": "clerk", "counter": "0"}, "counter", "Số quầy phải là số nguyên dương."),
    ({"role": "clerk", "counter": "99"}, "counter", "Không tìm thấy quầy số 99."),
    ({"role": "display", "printer": "agent"}, "printer", "Chỉ mã truy cập của kiosk"),
    ({"role": "kiosk", "printer": "lpt://x"}, "printer", "Địa chỉ máy in"),
    ({"role": "kiosk", "paper": "70"}, "paper", "Khổ giấy phải là 58 hoặc 80"),
    ({"label": "x" * 121}, "label", "Tên gọi tối đa 120 ký tự."),
]


def test_each_field_of_a_pairing_code_is_checked_and_nothing_is_saved(
    app: Any, database: Database, staff: dict[str, int]
) -> None:
    admin = login(app, "root")
    before = snapshot(database)
    for fields, field, message in BAD_CODES:
        response = admin.post("/admin/sites/s1/devices/code", data=code_form(**fields))
        assert response.status_code == 400, fields
        page = response.get_data(as_text=True)
        block = re.search(
            rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page, re.DOTALL
        )
        assert block, (fields, page)
        assert message in block.group(0), (fields, block.group(0))
        assert not CODE.search(page)
        assert snapshot(database) == before, fields


# --- CSRF -------------------------------------------------------------------------------------


def test_the_device_forms_without_their_csrf_token_are_refused(
    app: Any, database: Database, staff: dict[str, int]
) -> None:
    number = token_id(database, token(database, "s1", "display"))
    app.config["WTF_CSRF_ENABLED"] = True
    admin = login(app, "root")
    before = snapshot(database)
    assert admin.post("/admin/sites/s1/devices/code", data=code_form()).status_code == 400
    assert admin.post(f"/admin/sites/s1/devices/{number}/revoke").status_code == 400
    assert snapshot(database) == before
    page = admin.get("/admin/sites/s1/devices").get_data(as_text=True)
    response = admin.post(
        f"/admin/sites/s1/devices/{number}/revoke", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 302
    with database.reads() as session:
        assert session.get(ApiToken, number).revoked_at is not None  # type: ignore[union-attr]
        assert session.scalars(select(AuditEntry.action)).all()[-1] == "device.revoke"


# --- cancelling a pending code ----------------------------------------------------------------


def pending_id(database: Database, label: str) -> int:
    with database.reads() as session:
        return session.scalars(select(PairingCode.id).where(PairingCode.label == label)).one()


def test_a_cancelled_code_no_longer_pairs(
    app: Any, database: Database, staff: dict[str, int], clock: Any
) -> None:
    manager = login(app, "quanly1")
    code = make_code(manager, label="Màn hình sảnh")
    number = pending_id(database, "Màn hình sảnh")
    page = manager.get("/admin/sites/s1/devices").get_data(as_text=True)
    action = f'action="/admin/sites/s1/devices/codes/{number}/cancel"'
    assert f'data-code-id="{number}"' in page and action in page

    clock.advance(minutes=3)
    response = manager.post(f"/admin/sites/s1/devices/codes/{number}/cancel")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/sites/s1/devices"
    page = manager.get("/admin/sites/s1/devices").get_data(as_text=True)
    assert "Đã hủy mã kết nối." in page and "Không có mã nào đang chờ." in page
    with database.reads() as session:
        assert session.get(PairingCode, number).expires_at == clock()  # type: ignore[union-attr]
    entry = audit_rows(database)[-1]
    assert (entry.action, entry.user_id, entry.remote_addr) == (
        "device.code_cancel",
        staff["quanly1"],
        ADMIN_ADDR,
    )
    assert entry.site_id is not None and "Màn hình sảnh" in entry.target
    assert entry.detail["code_id"] == number and code not in str(entry.detail)

    screen = app.test_client()
    refused = screen.post("/pair", data={"code": code})
    assert refused.status_code == 400 and "hết hạn" in refused.get_data(as_text=True)
    with screen.session_transaction() as session:
        assert SESSION_KEY not in session
    with database.reads() as session:
        assert session.scalars(select(ApiToken)).all() == []
    # Cancelling again changes nothing and writes no second entry.
    before = snapshot(database)
    assert manager.post(f"/admin/sites/s1/devices/codes/{number}/cancel").status_code == 302
    assert snapshot(database) == before


def test_a_used_code_cannot_be_cancelled(
    app: Any, database: Database, staff: dict[str, int]
) -> None:
    manager = login(app, "quanly1")
    code = make_code(manager, label="Kiosk")
    number = pending_id(database, "Kiosk")
    assert app.test_client().post("/pair", data={"code": code}).status_code == 302
    before = snapshot(database)
    response = manager.post(f"/admin/sites/s1/devices/codes/{number}/cancel")
    assert response.status_code == 302
    assert "đã được dùng" in manager.get("/admin/sites/s1/devices").get_data(as_text=True)
    assert snapshot(database) == before
    assert manager.post("/admin/sites/s1/devices/codes/9999/cancel").status_code == 404


def test_only_the_sites_managers_and_admins_cancel_its_codes(
    app: Any, database: Database, staff: dict[str, int], clock: Any
) -> None:
    make_user(database, clock, "quanly2", "manager", ("s2",))
    code = make_code(login(app, "root"), site="s1", label="Sảnh s1")
    number = pending_id(database, "Sảnh s1")
    other, clerk = login(app, "quanly2"), login(app, "lan")
    before = snapshot(database)
    assert other.post(f"/admin/sites/s1/devices/codes/{number}/cancel").status_code == 403
    # Through their own site's address, another site's code is not found.
    assert other.post(f"/admin/sites/s2/devices/codes/{number}/cancel").status_code == 404
    assert clerk.post(f"/admin/sites/s1/devices/codes/{number}/cancel").status_code == 403
    assert snapshot(database) == before
    assert app.test_client().post("/pair", data={"code": code}).status_code == 302


def test_cancelling_a_code_without_the_csrf_token_is_refused(
    app: Any, database: Database, staff: dict[str, int]
) -> None:
    admin = login(app, "root")
    code = make_code(admin, label="Sảnh")
    number = pending_id(database, "Sảnh")
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/admin/sites/s1/devices/codes/{number}/cancel"
    before = snapshot(database)
    assert admin.post(url).status_code == 400
    assert admin.post(url, data={"csrf_token": "gia-mao"}).status_code == 400
    assert snapshot(database) == before
    page = admin.get("/admin/sites/s1/devices").get_data(as_text=True)
    assert admin.post(url, data={"csrf_token": csrf_from(page)}).status_code == 302
    assert audit_rows(database)[-1].action == "device.code_cancel"
    screen = app.test_client()
    token = csrf_from(screen.get("/pair").get_data(as_text=True))
    refused = screen.post("/pair", data={"code": code, "csrf_token": token})
    assert refused.status_code == 400 and "hết hạn" in refused.get_data(as_text=True)
