"""The clerk's pages at /counter: who may open them, choosing a counter, leaving it, CSRF.

The workstation's buttons are the REST API's counter routes, called with the login session;
the browser tests (tests/browser/test_counter_browser.py) press them in real Chromium.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select, update

from server.accounts.services import create_user
from server.db import Database
from server.devices import SESSION_KEY
from server.models import Counter, Site, Ticket, User

from ..api_fixtures import bearer
from ..factories import build_site, snapshot
from ..staff import PASSWORD, log_in


@pytest.fixture
def people(database: Database, clock: Any) -> dict[str, int]:
    """Sites s1 and s2; clerks lan and minh at s1, clerk hoa at s2, manager tam at both."""
    with database.writes() as session:
        build_site(session, "s1", counters={1: {"A": 1}, 2: {"A": 1, "B": 2}, 3: {"B": 1}})
        build_site(session, "s2")
    ids = {}
    with database.writes() as session, session.begin():
        for username, role, sites, name in (
            ("lan", "clerk", ("s1",), "Nguyễn Thị Lan"),
            ("minh", "clerk", ("s1",), "Trần Văn <b>Minh</b>"),
            ("hoa", "clerk", ("s2",), "Lê Thị Hoa"),
            ("tam", "manager", ("s1", "s2"), "Phạm Minh Tâm"),
            ("root", "admin", (), "Quản trị"),
        ):
            user = create_user(
                session, username, role, PASSWORD, clock(), site_codes=sites, full_name=name
            )
            ids[username] = user.id
    return ids


def login(client: Any, username: str, **extra: str) -> Any:
    return log_in(client, username, **extra)


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def holder(database: Database, number: int, site: str = "s1") -> int | None:
    with database.reads() as session:
        return session.execute(
            select(Counter.clerk_id)
            .join(Site, Site.id == Counter.site_id)
            .where(Site.code == site, Counter.number == number)
        ).scalar_one()


def boot_of(response: Any) -> dict[str, Any]:
    found = re.search(
        r'<script id="xephang-boot" type="application/json">(.*?)</script>',
        response.get_data(as_text=True),
        re.S,
    )
    assert found, response.get_data(as_text=True)
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def csrf_of(response: Any) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', response.get_data(as_text=True))
    assert found
    return found.group(1)


def csrf_for(client: Any) -> str:
    """The CSRF token of this client's session, as its pages carry it."""
    return csrf_of(client.get("/counter/?site=s1"))


# --- who may open the pages -------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client: Any, people: Any) -> None:
    for path in ("/counter/", "/counter/s1/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
        assert path.rstrip("/") in unescape(response.headers["Location"]).replace("%2F", "/")


def test_a_paired_device_is_not_a_staff_member(client: Any, people: Any, make_token: Any) -> None:
    with client.session_transaction() as session:
        session[SESSION_KEY] = make_token("kiosk")
    response = client.get("/counter/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    post = client.post("/counter/s1/1/sign-in")
    assert post.status_code == 302 and post.headers["Location"].startswith("/login")


def test_a_clerk_of_another_site_is_refused(client: Any, database: Database, people: Any) -> None:
    login(client, "hoa")
    assert client.get("/counter/s1/1").status_code == 403
    assert client.get("/counter/?site=s1").status_code == 403
    assert client.post("/counter/s1/1/sign-in").status_code == 403
    assert client.post("/counter/s1/1/sign-out").status_code == 403
    assert holder(database, 1) is None
    assert client.get("/counter/nowhere/1").status_code == 404


def test_the_chooser_lists_the_counters_their_services_and_who_holds_them(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    with database.writes() as session:
        session.execute(update(Counter).where(Counter.number == 3).values(clerk_id=people["minh"]))
        session.commit()
    login(client, "lan")
    page = client.get("/counter/")
    assert page.status_code == 200
    body = text(page)
    assert "Chọn quầy làm việc" in body
    for label in ("Quầy 1", "Quầy 2", "Quầy 3", "Lĩnh vực A, Lĩnh vực B"):
        assert label in body
    assert "Trần Văn <b>Minh</b>" in body  # the name, shown as text
    assert "Trần Văn <b>Minh</b>" not in page.get_data(as_text=True)  # escaped in the HTML
    assert "Quầy đang có người làm việc" in body
    assert "Nhận thay" not in body  # only managers take over


def test_choosing_a_counter_signs_in_and_opens_the_workstation(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    login(client, "lan")
    response = client.post("/counter/s1/2/sign-in")
    assert response.status_code == 302 and response.headers["Location"] == "/counter/s1/2"
    assert holder(database, 2) == people["lan"]
    # Signed in: /counter/ goes straight to the workstation.
    assert client.get("/counter/").headers["Location"] == "/counter/s1/2"
    page = client.get("/counter/s1/2")
    assert page.status_code == 200
    body = text(page)
    for label in ("Gọi tiếp", "Gọi lại", "Bắt đầu", "Hoàn thành", "Vắng mặt", "Chuyển"):
        assert label in body
    assert "Tạm dừng" in body and "Rời quầy" in body and "Đăng xuất" in body
    assert "Mã hồ sơ (không bắt buộc)" in body
    boot = boot_of(page)
    assert boot["site"]["code"] == "s1" and boot["counter"]["number"] == 2
    assert boot["me"] == {"id": people["lan"], "role": "clerk", "name": "Nguyễn Thị Lan"}
    assert boot["queue"]["counter"]["clerk"]["name"] == "Nguyễn Thị Lan"
    assert boot["queue"]["services"] == ["A", "B"]
    assert [c["number"] for c in boot["counters"]] == [1, 3]
    assert [s["code"] for s in boot["services"]] == ["A", "B"]
    assert boot["texts"]["why_paused"] == "Quầy đang tạm dừng phục vụ."
    # Choosing another counter leaves the first.
    client.post("/counter/s1/1/sign-in")
    assert holder(database, 1) == people["lan"] and holder(database, 2) is None


def test_the_workstation_speaks_english_on_request(client: Any, people: Any) -> None:
    login(client, "lan")
    client.post("/counter/s1/1/sign-in")
    body = text(client.get("/counter/s1/1?lang=en"))
    assert "Call next" in body and "Leave counter" in body and "Finish" in body
    assert boot_of(client.get("/counter/s1/1"))["texts"]["connected"] == "Connected"


def test_a_clerk_cannot_open_another_clerks_workstation(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    login(client, "lan")
    client.post("/counter/s1/1/sign-in")
    other = client.application.test_client()
    login(other, "minh")
    response = other.get("/counter/s1/1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/counter/?site=s1"
    assert "Quầy số 1 đang do cán bộ Nguyễn Thị Lan làm việc." in text(
        other.get(response.headers["Location"])
    )
    # A free counter is opened by signing in there first, never by its address alone.
    response = other.get("/counter/s1/3", follow_redirects=True)
    assert "Vui lòng chọn quầy làm việc trước khi thao tác." in text(response)
    assert holder(database, 3) is None
    # Nor may minh's page act for lan's counter through the API.
    api = other.post(
        "/api/v1/sites/s1/counters/1/call-next", headers={"X-CSRFToken": csrf_for(other)}
    )
    assert api.status_code == 403 and api.get_json()["code"] == "counter_sign_in_required"


def test_a_taken_counter_is_refused_with_who_holds_it(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    login(client, "lan")
    client.post("/counter/s1/1/sign-in")
    other = client.application.test_client()
    login(other, "minh")
    response = other.post("/counter/s1/1/sign-in")
    assert response.status_code == 302 and response.headers["Location"] == "/counter/?site=s1"
    page = text(other.get("/counter/?site=s1"))
    assert "Quầy số 1 đang do cán bộ Nguyễn Thị Lan làm việc." in page
    assert 'role="alert"' in page
    assert holder(database, 1) == people["lan"]
    # A clerk may not take over, even by sending the field by hand.
    other.post("/counter/s1/1/sign-in", data={"take_over": "1"})
    assert "Chỉ quản lý mới được nhận thay quầy của cán bộ khác." in text(
        other.get("/counter/?site=s1")
    )
    assert holder(database, 1) == people["lan"]


def test_a_manager_takes_over_a_counter(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    login(client, "lan")
    client.post("/counter/s1/1/sign-in")
    manager = client.application.test_client()
    login(manager, "tam")
    sites = text(manager.get("/counter/"))  # two sites: choose one first
    assert "Chọn đơn vị làm việc" in sites and "Site s1" in sites and "Site s2" in sites
    chooser = text(manager.get("/counter/?site=s1"))
    assert "Nhận thay" in chooser and "Xem quầy" in chooser
    # Without take_over the manager is told who is there, like anyone else.
    manager.post("/counter/s1/1/sign-in")
    assert "Quầy số 1 đang do cán bộ Nguyễn Thị Lan làm việc." in text(
        manager.get("/counter/?site=s1")
    )
    response = manager.post("/counter/s1/1/sign-in", data={"take_over": "1"})
    assert response.headers["Location"] == "/counter/s1/1"
    assert holder(database, 1) == people["tam"]
    # The clerk's workstation now sends them back to choose, saying who took over.
    response = client.get("/counter/s1/1", follow_redirects=True)
    assert "Quầy số 1 đang do cán bộ Phạm Minh Tâm làm việc." in text(response)


def test_a_manager_may_open_any_workstation_of_their_site(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    login(client, "tam")
    page = client.get("/counter/s1/3")
    assert page.status_code == 200 and boot_of(page)["me"]["role"] == "manager"
    assert "Rời quầy" not in text(page)  # looking at a counter is not working there
    assert holder(database, 3) is None  # looking is not signing in
    assert client.get("/counter/s1/9").status_code == 404
    admin = client.application.test_client()
    login(admin, "root")
    assert admin.get("/counter/s2/1").status_code == 200


def test_leaving_the_counter_frees_it(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    login(client, "lan")
    client.post("/counter/s1/1/sign-in")
    other = client.application.test_client()
    login(other, "minh")
    assert other.post("/counter/s1/1/sign-out").status_code == 403  # not minh's counter
    assert holder(database, 1) == people["lan"]
    response = client.post("/counter/s1/1/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/counter/?site=s1"
    assert holder(database, 1) is None
    assert "Đã rời quầy số 1." in text(client.get(response.headers["Location"]))
    # Now minh can have it.
    assert other.post("/counter/s1/1/sign-in").headers["Location"] == "/counter/s1/1"
    assert holder(database, 1) == people["minh"]


def test_logging_out_frees_the_counter(
    client: Any, database: Database, people: dict[str, int]
) -> None:
    login(client, "lan")
    client.post("/counter/s1/1/sign-in")
    client.post("/logout")
    assert holder(database, 1) is None


# --- CSRF ---------------------------------------------------------------------------------


def _login_with_csrf(client: Any, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    login(client, username, csrf_token=token.group(1))


def test_session_api_writes_need_the_csrf_header(
    app: Any, client: Any, database: Database, people: dict[str, int], make_token: Any
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    _login_with_csrf(client, "lan")
    chooser = client.get("/counter/")
    # The sign-in form without its token is refused; with it, it works.
    assert client.post("/counter/s1/1/sign-in").status_code == 400
    assert holder(database, 1) is None
    signed = client.post("/counter/s1/1/sign-in", data={"csrf_token": csrf_of(chooser)})
    assert signed.headers["Location"] == "/counter/s1/1"
    kiosk = bearer(make_token("kiosk"))
    issued = client.post("/api/v1/sites/s1/tickets", json={"service": "A"}, headers=kiosk)
    assert issued.status_code == 201
    page = client.get("/counter/s1/1")
    token = csrf_of(page)

    before = snapshot(database)
    for path, body in (
        ("/counters/1/call-next", {}),
        ("/counters/1/pause", {}),
        ("/counters/1/sign-out", {}),
        (f"/tickets/{issued.get_json()['id']}/cancel", {}),
    ):
        refused = client.post("/api/v1/sites/s1" + path, json=body)
        assert refused.status_code == 400, path
        assert refused.get_json()["code"] == "csrf_invalid"
        assert refused.mimetype == "application/problem+json"
        wrong = client.post("/api/v1/sites/s1" + path, json=body, headers={"X-CSRFToken": "x"})
        assert wrong.status_code == 400 and wrong.get_json()["code"] == "csrf_invalid"
    assert snapshot(database) == before

    # Reading needs no token; writing with the page's token works and names the clerk.
    assert client.get("/api/v1/sites/s1/counters/1/queue").status_code == 200
    called = client.post(
        "/api/v1/sites/s1/counters/1/call-next", json={}, headers={"X-CSRFToken": token}
    )
    assert called.status_code == 200, called.get_json()
    with database.reads() as session:
        ticket = session.get(Ticket, called.get_json()["id"])
        assert ticket is not None
        assert (ticket.status, ticket.clerk_id) == ("called", people["lan"])
    # The sign-out form needs its token too.
    assert client.post("/counter/s1/1/sign-out").status_code == 400
    assert holder(database, 1) == people["lan"]
    client.post("/counter/s1/1/sign-out", data={"csrf_token": token})
    assert holder(database, 1) is None


def test_the_workstation_reads_the_queue_and_refusals_in_vietnamese(
    client: Any, database: Database, people: dict[str, int], make_token: Any
) -> None:
    login(client, "lan")
    client.post("/counter/s1/1/sign-in")
    kiosk = bearer(make_token("kiosk"))
    for priority in (None, "elderly"):
        body = {"service": "A", **({"priority": priority} if priority else {})}
        assert client.post("/api/v1/sites/s1/tickets", json=body, headers=kiosk).status_code == 201
    page = client.get("/counter/s1/1")
    boot = boot_of(page)
    assert [t["number"] for t in boot["queue"]["waiting"]] == ["A002", "A001"]  # priority first
    assert boot["queue"]["waiting_total"] == 2
    assert boot["priorities"]["elderly"] == "Người cao tuổi"
    csrf = {"X-CSRFToken": csrf_of(page)}
    for _ in range(2):
        assert client.post("/api/v1/sites/s1/counters/1/call-next", headers=csrf).status_code == 200
    empty = client.post("/api/v1/sites/s1/counters/1/call-next", headers=csrf)
    assert empty.status_code == 409
    assert empty.get_json()["detail"] == "Không còn công dân nào đang chờ cho quầy này."
    with database.reads() as session:
        lan = session.execute(select(User.id).where(User.username == "lan")).scalar_one()
        assert set(session.execute(select(Ticket.clerk_id)).scalars()) == {lan}


def test_the_transfer_targets_are_read_again_as_json(
    client: Any, database: Database, people: Any
) -> None:
    login(client, "lan")
    assert client.post("/counter/s1/1/sign-in").status_code == 302
    page = client.get("/counter/s1/1")
    assert boot_of(page)["targets_url"] == "/counter/s1/1/targets"
    with database.writes() as session, session.begin():
        session.execute(update(Counter).where(Counter.number == 3).values(name="Một cửa"))
    response = client.get("/counter/s1/1/targets")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "services": [{"code": "A", "name": "Lĩnh vực A"}, {"code": "B", "name": "Lĩnh vực B"}],
        "counters": [{"number": 2, "name": "Quầy 2"}, {"number": 3, "name": "Một cửa"}],
    }
    # Another site's, or a counter taken out of service: nothing to read.
    assert client.get("/counter/s2/1/targets").status_code == 403
    with database.writes() as session, session.begin():
        session.execute(update(Counter).where(Counter.number == 2).values(active=False))
    assert client.get("/counter/s1/2/targets").status_code == 404
    assert [c["number"] for c in client.get("/counter/s1/1/targets").get_json()["counters"]] == [3]
    assert client.application.test_client().get("/counter/s1/1/targets").status_code == 302
