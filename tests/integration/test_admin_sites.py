"""Admin pages for sites, settings, services and counters (`/admin`), on SQLite and PostgreSQL.

Who may do what; each form saves what was typed; a wrong field is named in
Vietnamese, the answer is 4xx and not one row changed; CSRF; the audit log;
``site.updated`` leaves only after the commit.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from server import engine
from server.accounts import services as accounts_services
from server.accounts.services import create_user
from server.admin.service_setup import OpeningSession, ServiceData, save_service
from server.admin.setup_checks import ChangeAuthor, SetupError
from server.engine import QueueError, UnitOfWork
from server.engine.events import SITE_UPDATED
from server.models import AuditEntry, Counter, CounterService, Service, Site
from server.runtime import runtime

from ..factories import ServiceSpec, build_site, snapshot
from ..staff import PASSWORD, log_in

# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def center(database: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Sites s1 and s2; an admin, a manager of s1, a clerk of s1, a manager of s2."""
    # Four scrypt hashes per test are most of this file's time; these tests are not about them.
    monkeypatch.setattr(
        accounts_services,
        "generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"),
    )
    with database.writes() as session:
        build_site(
            session,
            "s1",
            services=[
                ServiceSpec("HT", name="Hộ tịch", prefix="A"),
                ServiceSpec("CT", name="Chứng thực", prefix="B"),
            ],
            counters={1: {"HT": 10, "CT": 1}, 2: {"CT": 10}},
        )
        build_site(session, "s2")
    ids = {}
    with database.writes() as session, session.begin():
        for name, role, sites in (
            ("admin", "admin", ()),
            ("mai", "manager", ("s1",)),
            ("lan", "clerk", ("s1",)),
            ("hung", "manager", ("s2",)),
        ):
            ids[name] = create_user(session, name, role, PASSWORD, clock(), site_codes=sites).id
    return ids


def login(client: Any, username: str) -> None:
    log_in(client, username)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def audit_actions(database: Any) -> list[tuple[str, str]]:
    with database.reads() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [
            (e.action, e.target)
            for e in rows
            if e.action.startswith(("site.", "service.", "counter."))
        ]


class Committed:
    """A publisher that notes each event and what a fresh session read when it came."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.events: list[Any] = []
        self.seen: list[list[str]] = []

    def __call__(self, events: Any) -> None:
        with self.database.reads() as session:
            self.seen.append(list(session.scalars(select(Service.name).order_by(Service.id))))
        self.events.extend(events)


@pytest.fixture
def events(app: Any, database: Any) -> Committed:
    recorder = Committed(database)
    runtime(app).publisher = recorder
    return recorder


def service_form(**fields: Any) -> dict[str, Any]:
    """A valid new service: "Đất đai", prefix C, 07:30-11:30 and 13:30-17:00 on weekdays."""
    form: dict[str, Any] = {
        "code": "DD",
        "name": "Đất đai",
        "hint": "Đăng ký biến động, cấp giấy chứng nhận",
        "number_prefix": "c",
        "number_width": "3",
        "range_start": "",
        "range_end": "",
        "daily_cap": "",
        "sessions-0-days": ["1", "2", "3", "4", "5"],
        "sessions-0-start": "07:30",
        "sessions-0-end": "11:30",
        "sessions-1-days": ["1", "2", "3", "4", "5"],
        "sessions-1-start": "13:30",
        "sessions-1-end": "17:00",
        "sessions-2-start": "",
        "sessions-2-end": "",
        "active": "y",
        "sort_order": "3",
        "service_minutes": "12",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def settings_form(**fields: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "UBND phường Hồng Hà",
        "timezone": "Asia/Ho_Chi_Minh",
        "header_lines": "UBND THÀNH PHỐ HÀ NỘI\r\nUBND PHƯỜNG HỒNG HÀ\r\n\r\nBỘ PHẬN MỘT CỬA",
        "ticket_footer": "Vui lòng giữ phiếu và chờ gọi số.",
        "announcement_template": "Xin mời số {number} đến quầy {counter}",
        "reading": "digits",
        "zero_hundred": "lẻ",
        "thousand": "ngàn",
        "repeat": "3",
        "priority_policy": "interleave",
        "priority_every": "4",
        "rating_scale": "5",
        "wait_target_min": "20",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def counter_form(database: Any, **fields: Any) -> dict[str, Any]:
    """A valid counter 3 that serves HT with weight 5 (and not CT)."""
    ids = service_ids(database)
    form: dict[str, Any] = {
        "number": "3",
        "name": "Quầy Hộ tịch 2",
        "active": "y",
        "services-0-service_id": str(ids["HT"]),
        "services-0-serves": "y",
        "services-0-weight": "5",
        "services-1-service_id": str(ids["CT"]),
        "services-1-weight": "1",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def service_ids(database: Any, site: str = "s1") -> dict[str, int]:
    with database.reads() as session:
        rows = session.execute(
            select(Service.code, Service.id).join(Site).where(Site.code == site)
        ).all()
        return {code: sid for code, sid in rows}


def counter_id(database: Any, number: int, site: str = "s1") -> int:
    with database.reads() as session:
        return int(
            session.execute(
                select(Counter.id).join(Site).where(Site.code == site, Counter.number == number)
            ).scalar_one()
        )


def refused(client: Any, database: Any, url: str, data: dict[str, Any], message: str) -> str:
    """Post a form that must be refused: 422, the message on the page, no row changed."""
    before = snapshot(database)
    response = client.post(url, data=data)
    page = text(response)
    assert response.status_code == 422, page
    assert message in page, page
    assert "Chưa lưu: hãy sửa các ô được đánh dấu bên dưới." in page
    assert snapshot(database) == before
    return page


# --- who may come in -----------------------------------------------------------------------

SITE_PAGES = [
    "/admin/sites/s1/settings",
    "/admin/sites/s1/services",
    "/admin/sites/s1/services/new",
    "/admin/sites/s1/counters",
    "/admin/sites/s1/counters/new",
]


def test_anonymous_people_are_sent_to_the_login_page(client, center):
    for url in [*SITE_PAGES, "/admin/", "/admin/sites/new"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next=")
    before = snapshot(client.application.extensions["xephang"].db)
    response = client.post("/admin/sites/s1/services/new", data=service_form())
    assert response.status_code == 302
    assert snapshot(client.application.extensions["xephang"].db) == before


def test_a_clerk_is_refused_everywhere(client, center, database):
    login(client, "lan")
    for url in [*SITE_PAGES, "/admin/", "/admin/sites/new"]:
        assert client.get(url).status_code == 403, url
    before = snapshot(database)
    assert client.post("/admin/sites/s1/services/new", data=service_form()).status_code == 403
    assert client.post("/admin/sites/s1/counters/1/release").status_code == 403
    assert snapshot(database) == before


def test_a_manager_manages_their_own_site_only(client, center, database):
    login(client, "hung")  # manager of s2
    for url in SITE_PAGES:
        assert client.get(url).status_code == 403, url
    before = snapshot(database)
    assert client.post("/admin/sites/s1/settings", data=settings_form()).status_code == 403
    assert client.post("/admin/sites/s1/services/new", data=service_form()).status_code == 403
    sid = service_ids(database)["HT"]
    edit = service_form(code="HT", name="Đổi tên")
    assert client.post(f"/admin/sites/s1/services/{sid}", data=edit).status_code == 403
    assert snapshot(database) == before
    assert client.get("/admin/sites/s2/services").status_code == 200
    # and a service of s1 is not reachable through their own site's address
    assert client.get(f"/admin/sites/s2/services/{sid}").status_code == 404
    assert client.post(f"/admin/sites/s2/services/{sid}", data=edit).status_code == 404
    cid = counter_id(database, 1)
    assert client.get(f"/admin/sites/s2/counters/{cid}").status_code == 404
    assert snapshot(database) == before
    # the start page lists s2 only, and no "Thêm đơn vị"
    page = text(client.get("/admin/"))
    assert "Site s2" in page and "Site s1" not in page and "Thêm đơn vị" not in page
    assert client.get("/admin/sites/new").status_code == 403


def test_unknown_sites_are_not_found(client, center):
    login(client, "admin")
    assert client.get("/admin/sites/khong-co/settings").status_code == 404
    assert client.get("/admin/sites/s1/services/999999").status_code == 404


def test_the_start_page_links_to_every_page_of_each_site(client, center):
    login(client, "admin")
    page = text(client.get("/admin/"))
    for url in ("/admin/sites/s1/settings", "/admin/sites/s1/services", "/admin/sites/s2/counters"):
        assert f'href="{url}"' in page
    assert 'href="/admin/sites/new"' in page and "Thêm đơn vị" in page


# --- a new site ----------------------------------------------------------------------------


def test_an_admin_adds_a_site(client, center, database, events):
    login(client, "admin")
    assert "Mặc định Asia/Ho_Chi_Minh." in text(client.get("/admin/sites/new"))
    form = {"code": "phuong-hong-ha", "name": "UBND phường Hồng Hà", "timezone": ""}
    refused(client, database, "/admin/sites/new", form, "Không được để trống.")
    form["timezone"] = "Asia/Ho_Chi_Minh"
    response = client.post("/admin/sites/new", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/sites/phuong-hong-ha/settings"
    assert "Đã lưu." in text(client.get(response.headers["Location"]))
    with database.reads() as session:
        site = session.scalars(select(Site).where(Site.code == "phuong-hong-ha")).one()
        assert (site.name, site.timezone, site.header_lines) == (
            "UBND phường Hồng Hà",
            "Asia/Ho_Chi_Minh",
            [],
        )
    assert ("site.create", "phuong-hong-ha") in audit_actions(database)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "Hồng Hà"}, "Chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang"),
        ({"code": "-abc"}, "Chỉ dùng chữ thường không dấu"),
        ({"code": "s1"}, "Mã đơn vị “s1” đã được dùng."),
        ({"code": ""}, "Không được để trống."),
        ({"name": ""}, "Không được để trống."),
        ({"name": "x" * 201}, "Tối đa 200 ký tự."),
        ({"timezone": "Asia/Ha_Noi"}, "Múi giờ không hợp lệ (ví dụ: Asia/Ho_Chi_Minh)."),
    ],
)
def test_a_new_site_with_a_wrong_field_is_refused(client, center, database, fields, message):
    login(client, "admin")
    form = {"code": "xa-moi", "name": "UBND xã Mới", "timezone": "Asia/Ho_Chi_Minh", **fields}
    page = refused(client, database, "/admin/sites/new", form, message)
    assert 'aria-invalid="true"' in page


# --- settings ------------------------------------------------------------------------------


def test_a_manager_saves_the_settings_of_their_site(client, center, database, events):
    login(client, "mai")
    page = text(client.get("/admin/sites/s1/settings"))
    assert "{number}" in page and "{counter}" in page  # the placeholders that may be used
    response = client.post("/admin/sites/s1/settings", data=settings_form())
    assert response.status_code == 302 and response.headers["Location"].endswith("/settings")
    assert "Đã lưu." in text(client.get("/admin/sites/s1/settings"))
    with database.reads() as session:
        site = session.scalars(select(Site).where(Site.code == "s1")).one()
        assert site.name == "UBND phường Hồng Hà"
        assert site.header_lines == [
            "UBND THÀNH PHỐ HÀ NỘI",
            "UBND PHƯỜNG HỒNG HÀ",
            "BỘ PHẬN MỘT CỬA",
        ]
        assert site.ticket_footer == "Vui lòng giữ phiếu và chờ gọi số."
        assert site.announcement_template == "Xin mời số {number} đến quầy {counter}"
        assert site.voice_options == {
            "reading": "digits",
            "zero_hundred": "lẻ",
            "thousand": "ngàn",
            "repeat": 3,
        }
        assert (site.priority_policy, site.priority_every, site.rating_scale) == (
            "interleave",
            4,
            5,
        )
        assert site.wait_target_min == 20
    [event] = events.events
    assert event.name == SITE_UPDATED and event.payload == {"changed": "settings"}
    assert event.seq > 0
    [(action, target)] = audit_actions(database)
    assert (action, target) == ("site.settings", "s1")
    # the voice reads the saved settings as they are meant
    from server.realtime.announcements import site_voice

    voice = site_voice(site.announcement_template, site.voice_options)
    assert voice.repeat == 3 and voice.options.digit_by_digit


def test_what_call_next_does_to_a_ticket_never_started_is_a_setting(client, center, database, uow):
    """Issue 9, item 1: "no_show" by default, "requeue" when chosen; anything else refused."""
    login(client, "mai")
    page = text(client.get("/admin/sites/s1/settings"))
    assert "chưa được bắt đầu phục vụ" in page
    assert "Đưa vào lại đầu hàng chờ" in page
    assert re.search(r'<input checked[^>]*name="unstarted_on_next"[^>]*value="no_show"', page)
    form = settings_form(unstarted_on_next="requeue")
    assert client.post("/admin/sites/s1/settings", data=form).status_code == 302
    with database.reads() as session:
        site = session.scalars(select(Site).where(Site.code == "s1")).one()
        assert site.unstarted_on_next == "requeue"
    page = text(client.get("/admin/sites/s1/settings"))
    assert re.search(r'<input checked[^>]*name="unstarted_on_next"[^>]*value="requeue"', page)
    refused(
        client,
        database,
        "/admin/sites/s1/settings",
        settings_form(unstarted_on_next="done"),
        "Hãy chọn một trong các giá trị có sẵn.",
    )


def test_an_empty_template_means_the_default_one(client, center, database):
    login(client, "mai")
    form = settings_form(announcement_template="  ", ticket_footer="")
    assert client.post("/admin/sites/s1/settings", data=form).status_code == 302
    with database.reads() as session:
        site = session.scalars(select(Site).where(Site.code == "s1")).one()
        assert site.announcement_template is None and site.ticket_footer is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Không được để trống."),
        ({"timezone": "Mars/Olympus"}, "Múi giờ không hợp lệ (ví dụ: Asia/Ho_Chi_Minh)."),
        ({"header_lines": "1\n2\n3\n4\n5\n6"}, "Tối đa 5 dòng."),
        ({"header_lines": "U" * 61}, "Mỗi dòng tối đa 60 ký tự."),
        ({"ticket_footer": "x" * 501}, "Tối đa 500 ký tự."),
        ({"announcement_template": "Mời quầy {counter}"}, "Câu đọc phải có {number}"),
        ({"announcement_template": "Mời {ten} số {number}"}, "chỉ được dùng {number} và {counter}"),
        ({"announcement_template": "Mời số {number"}, "Câu đọc phải có {number}"),
        ({"reading": "hat"}, "Hãy chọn một trong các giá trị có sẵn."),
        ({"repeat": "6"}, "Hãy chọn một trong các giá trị có sẵn."),
        ({"repeat": "hai"}, "Hãy chọn một trong các giá trị có sẵn."),
        ({"priority_policy": "random"}, "Hãy chọn một trong các giá trị có sẵn."),
        ({"priority_every": "0"}, "Nhập một số từ 1 đến 20."),
        ({"priority_every": "ba"}, "Hãy nhập một số nguyên."),
        ({"priority_every": ""}, "Không được để trống."),
        ({"rating_scale": "7"}, "Hãy chọn một trong các giá trị có sẵn."),
        ({"wait_target_min": "0"}, "Nhập một số từ 1 đến 240."),
        ({"wait_target_min": "241"}, "Nhập một số từ 1 đến 240."),
        ({"wait_target_min": "mười"}, "Hãy nhập một số nguyên."),
        ({"wait_target_min": ""}, "Không được để trống."),
    ],
)
def test_settings_with_a_wrong_field_are_refused(client, center, database, events, fields, message):
    login(client, "mai")
    page = refused(client, database, "/admin/sites/s1/settings", settings_form(**fields), message)
    assert events.events == []
    # what was typed is still there
    assert "Vui lòng giữ phiếu và chờ gọi số." in page or "ticket_footer" in fields


# --- services ------------------------------------------------------------------------------


def test_the_services_page_warns_of_a_service_no_counter_serves(client, center, database):
    """Issue 9, item 4: the kiosk refuses such a service; the admin is told why."""
    login(client, "mai")
    assert "unserved-warning" not in text(client.get("/admin/sites/s1/services"))
    assert client.post("/admin/sites/s1/services/new", data=service_form()).status_code == 302
    listing = text(client.get("/admin/sites/s1/services"))
    assert 'id="unserved-warning"' in listing
    assert "Chưa có quầy nào phục vụ: Đất đai." in listing
    assert listing.count("badge off unserved") == 1


def test_a_manager_adds_a_service(client, center, database, events):
    login(client, "mai")
    page = text(client.get("/admin/sites/s1/services/new"))
    assert 'name="sessions-0-start"' in page and 'name="sessions-1-start"' in page
    response = client.post("/admin/sites/s1/services/new", data=service_form())
    assert response.status_code == 302, text(response)
    assert response.headers["Location"] == "/admin/sites/s1/services"
    listing = text(client.get("/admin/sites/s1/services"))
    assert "Đã lưu." in listing and "Đất đai" in listing and "C001" in listing
    assert "07:30–11:30" in listing and "T2, T3, T4, T5, T6" in listing
    with database.reads() as session:
        service = session.scalars(select(Service).where(Service.code == "DD")).one()
        assert service.number_prefix == "C" and service.number_width == 3
        assert service.range_start is None and service.daily_cap is None
        assert service.sessions == [
            {"start": "07:30", "end": "11:30", "days": [1, 2, 3, 4, 5]},
            {"start": "13:30", "end": "17:00", "days": [1, 2, 3, 4, 5]},
        ]
        assert service.default_service_s == 720 and service.sort_order == 3 and service.active
    [event] = events.events
    assert event.name == SITE_UPDATED and event.site_code == "s1"
    assert event.payload == {"changed": "services", "service": "DD"}
    assert "Đất đai" in events.seen[0]  # published after the commit: a fresh session saw it
    assert audit_actions(database) == [("service.create", "DD")]


def test_a_service_with_more_sessions_than_the_blank_rows_is_saved(client, center, database):
    """Rows added on the page (the script numbers them on, with gaps where one was removed)."""
    login(client, "mai")
    page = text(client.get("/admin/sites/s1/services/new"))
    assert 'id="session-add"' in page and "service_form.js" in page
    assert "Thêm khung giờ" in page and "Xóa" in page
    form = service_form(
        **{
            "sessions-2-days": ["6"],
            "sessions-2-start": "07:30",
            "sessions-2-end": "11:30",
            "sessions-5-start": "18:00",  # row 3 and 4 were added, then removed
            "sessions-5-end": "19:30",
            "sessions-6-start": "",
            "sessions-6-end": "",
        }
    )
    response = client.post("/admin/sites/s1/services/new", data=form)
    assert response.status_code == 302, text(response)
    with database.reads() as session:
        service = session.scalars(select(Service).where(Service.code == "DD")).one()
        assert service.sessions == [
            {"start": "07:30", "end": "11:30", "days": [1, 2, 3, 4, 5]},
            {"start": "13:30", "end": "17:00", "days": [1, 2, 3, 4, 5]},
            {"start": "07:30", "end": "11:30", "days": [6]},
            {"start": "18:00", "end": "19:30"},
        ]
        sid = service.id
    # Shown again with its four rows and two blank ones.
    page = text(client.get(f"/admin/sites/s1/services/{sid}"))
    assert page.count('class="session-row') == 6
    assert 'name="sessions-5-start"' in page and 'name="sessions-6-start"' not in page


def test_a_wrong_added_row_is_named_beside_it(client, center, database):
    login(client, "mai")
    form = service_form(**{"sessions-4-start": "20:00", "sessions-4-end": "19:00"})
    page = refused(
        client,
        database,
        "/admin/sites/s1/services/new",
        form,
        "Giờ bắt đầu phải trước giờ kết thúc.",
    )
    assert 'id="sessions-3-error"' in page  # the fourth row on the page
    assert 'value="20:00"' in page


def test_the_new_service_can_give_tickets_at_once(client, center, database, clock):
    login(client, "mai")
    form = service_form(number_prefix="", range_start="3001", range_end="3999", daily_cap="50")
    assert client.post("/admin/sites/s1/services/new", data=form).status_code == 302
    uow = runtime(client.application).uow
    # no counter serves it yet: no ticket G would never call (issue 9, item 4)
    with pytest.raises(QueueError, match="service_unserved"):
        engine.issue_ticket(uow(), "s1", "DD")
    with database.writes() as session:
        counter = session.execute(select(Counter).order_by(Counter.id)).scalars().first()
        dd = session.execute(select(Service).where(Service.code == "DD")).scalar_one()
        session.add(CounterService(counter_id=counter.id, service_id=dd.id))
        session.commit()
    ticket = engine.issue_ticket(uow(), "s1", "DD").ticket
    assert ticket["number"] == "3001"


def test_a_service_is_changed_and_deactivated_never_deleted(client, center, database, events):
    login(client, "mai")
    sid = service_ids(database)["CT"]
    page = text(client.get(f"/admin/sites/s1/services/{sid}"))
    assert 'value="Chứng thực"' in page
    form = service_form(
        code="CT", name="Chứng thực bản sao", number_prefix="B", active=None, daily_cap="120"
    )
    assert client.post(f"/admin/sites/s1/services/{sid}", data=form).status_code == 302
    with database.reads() as session:
        service = session.get(Service, sid)
        assert service is not None
        assert (service.name, service.active, service.daily_cap) == (
            "Chứng thực bản sao",
            False,
            120,
        )
    assert "Ngừng tiếp nhận" in text(client.get("/admin/sites/s1/services"))
    assert [e.payload for e in events.events] == [{"changed": "services", "service": "CT"}]
    with database.reads() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "service.update")
        ).one()
        assert entry.detail["active"] == [True, False]
        assert entry.detail["name"] == ["Chứng thực", "Chứng thực bản sao"]
    # the kiosk's list no longer has it
    with runtime(client.application).db.reads() as session:
        from server.engine.views import site_state

        codes = [
            s["code"]
            for s in site_state(session, "s1", runtime(client.application).clock())["services"]
        ]
    assert codes == ["HT"]


def test_the_code_of_a_service_with_tickets_cannot_change(client, center, database, events):
    engine.issue_ticket(runtime(client.application).uow(), "s1", "HT")
    events.events.clear()
    login(client, "mai")
    sid = service_ids(database)["HT"]
    form = service_form(code="HT2", name="Hộ tịch", number_prefix="A")
    refused(
        client,
        database,
        f"/admin/sites/s1/services/{sid}",
        form,
        "Lĩnh vực đã có phiếu nên không đổi được mã (đang là “HT”).",
    )
    assert events.events == []
    # the rest may change
    form["code"] = "HT"
    assert client.post(f"/admin/sites/s1/services/{sid}", data=form).status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": ""}, "Không được để trống."),
        ({"code": "Đất đai"}, "Chỉ dùng chữ cái không dấu, chữ số, dấu gạch (-, _)"),
        ({"code": "ht"}, "Mã “ht” đã được dùng cho lĩnh vực khác."),
        ({"name": "  "}, "Không được để trống."),
        ({"hint": "x" * 301}, "Tối đa 300 ký tự."),
        ({"number_prefix": "ABCDE"}, "Tối đa 4 ký tự."),
        ({"number_prefix": "A-"}, "Chỉ dùng chữ cái (A, B, C…) để loa đọc được."),
        ({"number_prefix": "a"}, "Tiền tố “A” đã dùng cho “Hộ tịch”: số sẽ bị trùng."),
        ({"number_width": "0"}, "Nhập một số từ 1 đến 6."),
        ({"number_width": "ba"}, "Hãy nhập một số nguyên."),
        ({"number_width": ""}, "Không được để trống."),
        ({"number_prefix": "", "range_start": "3001"}, "Nhập cả số đầu và số cuối của dải"),
        ({"number_prefix": "", "range_start": "3999", "range_end": "3001"}, "số đầu không lớn hơn"),
        (
            {"range_start": "3001", "range_end": "3999"},
            "Dùng tiền tố hoặc dải số, không dùng cả hai.",
        ),
        ({"range_start": "x", "range_end": "3999"}, "Hãy nhập một số nguyên."),
        ({"daily_cap": "0"}, "Nhập một số từ 1 đến 999999."),
        ({"daily_cap": "-5"}, "Nhập một số từ 1 đến 999999."),
        ({"daily_cap": "nhiều"}, "Hãy nhập một số nguyên."),
        ({"sort_order": "-1"}, "Nhập một số từ 0 đến 9999."),
        ({"service_minutes": "0"}, "Nhập một số từ 1 đến 480."),
        ({"sessions-1-start": "7h30"}, "Giờ phải có dạng HH:MM, ví dụ 07:30."),
        ({"sessions-1-end": "24:00"}, "Giờ phải có dạng HH:MM, ví dụ 07:30."),
        (
            {"sessions-1-start": "12:00", "sessions-1-end": "11:00"},
            "Giờ bắt đầu phải trước giờ kết thúc.",
        ),
        ({"sessions-1-start": "11:00"}, "Trùng giờ với buổi 07:30–11:30."),
        ({"sessions-1-days": ["8"]}, "Ngày trong tuần không hợp lệ."),
        ({"sessions-1-days": ["thu-hai"]}, "Hãy chọn một trong các giá trị có sẵn."),
    ],
)
def test_a_service_with_a_wrong_field_is_refused(client, center, database, events, fields, message):
    login(client, "mai")
    page = refused(
        client, database, "/admin/sites/s1/services/new", service_form(**fields), message
    )
    assert events.events == []
    typed = fields.get("hint", "Đăng ký biến động, cấp giấy chứng nhận")
    assert f'value="{typed}"' in page  # what was typed stays


def test_a_session_message_stands_beside_the_row_it_was_typed_on(client, center, database):
    login(client, "mai")
    form = service_form(
        **{"sessions-0-start": "", "sessions-0-end": "", "sessions-0-days": None},
        **{"sessions-2-start": "13:00", "sessions-2-end": "12:00"},
    )
    page = refused(
        client,
        database,
        "/admin/sites/s1/services/new",
        form,
        "Giờ bắt đầu phải trước giờ kết thúc.",
    )
    assert 'id="sessions-2-error"' in page


def test_sessions_on_different_days_may_share_hours(client, center, database):
    login(client, "mai")
    form = service_form(**{"sessions-1-days": ["6"], "sessions-1-start": "08:00"})
    assert client.post("/admin/sites/s1/services/new", data=form).status_code == 302


def test_the_rules_refuse_without_flask_and_save_nothing(database, clock, published, center):
    uow = UnitOfWork(database.writes, published, clock)
    before = snapshot(database)
    bad = ServiceData(
        code="HT",
        name="",
        number_prefix="B",
        sessions=[OpeningSession("09:00", "08:00")],
        service_minutes=0,
    )
    with pytest.raises(SetupError) as info:
        save_service(uow, "s1", None, bad, ChangeAuthor(user_id=None))
    assert set(info.value.errors) == {
        "code",
        "name",
        "number_prefix",
        "service_minutes",
        "sessions-0",
    }
    assert str(info.value.errors["sessions-0"]) == "Giờ bắt đầu phải trước giờ kết thúc."
    assert snapshot(database) == before and published.events == []


def test_two_services_cannot_share_a_number_range(database, clock, published, center):
    uow = UnitOfWork(database.writes, published, clock)
    save_service(
        uow,
        "s1",
        None,
        ServiceData("DD", "Đất đai", range_start=3001, range_end=3999),
        ChangeAuthor(None),
    )
    with pytest.raises(SetupError) as info:
        save_service(
            uow,
            "s1",
            None,
            ServiceData("TP", "Tư pháp", range_start=3500, range_end=4000),
            ChangeAuthor(None),
        )
    assert (
        str(info.value.errors["range_start"]) == "Dải số trùng với lĩnh vực “Đất đai” (3001–3999)."
    )


# --- counters ------------------------------------------------------------------------------


def test_a_manager_adds_a_counter_with_its_services(client, center, database, events):
    login(client, "mai")
    page = text(client.get("/admin/sites/s1/counters/new"))
    assert 'value="3"' in page  # the next free number is proposed
    assert "Hộ tịch" in page and "Chứng thực" in page
    response = client.post("/admin/sites/s1/counters/new", data=counter_form(database))
    assert response.status_code == 302, text(response)
    listing = text(client.get("/admin/sites/s1/counters"))
    assert "Đã lưu." in listing and "Quầy Hộ tịch 2" in listing
    ids = service_ids(database)
    with database.reads() as session:
        counter = session.get(Counter, counter_id(database, 3))
        assert counter is not None and counter.name == "Quầy Hộ tịch 2" and counter.active
        links = session.scalars(
            select(CounterService).where(CounterService.counter_id == counter.id)
        )
        assert {(link.service_id, link.weight) for link in links} == {(ids["HT"], 5)}
    assert [e.payload for e in events.events] == [{"changed": "counters", "counter": 3}]
    assert audit_actions(database) == [("counter.create", "s1/3")]


def test_a_counter_is_changed(client, center, database, events):
    login(client, "mai")
    cid = counter_id(database, 1)
    page = text(client.get(f"/admin/sites/s1/counters/{cid}"))
    assert 'value="10"' in page
    form = counter_form(
        database,
        number="1",
        name="Quầy 1 – Hộ tịch",
        active=None,
        **{"services-0-weight": "7", "services-1-serves": "y", "services-1-weight": "2"},
    )
    assert client.post(f"/admin/sites/s1/counters/{cid}", data=form).status_code == 302
    ids = service_ids(database)
    with database.reads() as session:
        counter = session.get(Counter, cid)
        assert counter is not None and (counter.name, counter.active) == ("Quầy 1 – Hộ tịch", False)
        links = session.scalars(select(CounterService).where(CounterService.counter_id == cid))
        assert {(link.service_id, link.weight) for link in links} == {
            (ids["HT"], 7),
            (ids["CT"], 2),
        }
    with database.reads() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "counter.update")
        ).one()
        assert entry.detail["services"] == [{"HT": 10, "CT": 1}, {"HT": 7, "CT": 2}]
    # a service left unticked is no longer served
    form = counter_form(database, number="1", **{"services-0-serves": None})
    assert client.post(f"/admin/sites/s1/counters/{cid}", data=form).status_code == 302
    with database.reads() as session:
        assert (
            session.scalars(select(CounterService).where(CounterService.counter_id == cid)).all()
            == []
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"number": ""}, "Không được để trống."),
        ({"number": "ba"}, "Hãy nhập một số nguyên."),
        ({"number": "0"}, "Nhập một số từ 1 đến 999."),
        ({"number": "2"}, "Quầy số 2 đã có."),
        ({"name": "x" * 201}, "Tối đa 200 ký tự."),
        ({"services-0-weight": "11"}, "Trọng số từ 1 đến 10."),
        ({"services-0-weight": "0"}, "Trọng số từ 1 đến 10."),
        ({"services-0-weight": "mười"}, "Hãy nhập một số nguyên."),
        ({"services-0-service_id": "999999"}, "Lĩnh vực không thuộc đơn vị này."),
    ],
)
def test_a_counter_with_a_wrong_field_is_refused(client, center, database, events, fields, message):
    login(client, "mai")
    refused(
        client, database, "/admin/sites/s1/counters/new", counter_form(database, **fields), message
    )
    assert events.events == []


def test_a_service_of_another_site_cannot_be_given_to_a_counter(client, center, database):
    login(client, "admin")
    other = service_ids(database, "s2")["A"]
    form = counter_form(database, **{"services-0-service_id": str(other)})
    refused(
        client, database, "/admin/sites/s1/counters/new", form, "Lĩnh vực không thuộc đơn vị này."
    )


def test_a_counter_number_with_devices_bound_to_it_does_not_change(
    client, center, database, make_token
):
    make_token("clerk", "s1", 1)
    login(client, "mai")
    form = counter_form(database, number="9")
    refused(
        client,
        database,
        f"/admin/sites/s1/counters/{counter_id(database, 1)}",
        form,
        "Có 1 thiết bị đang gắn với quầy số 1: thu hồi chúng trước khi đổi số.",
    )


BUSY = (
    "Quầy đang gọi hoặc phục vụ một phiếu; hãy hoàn thành hoặc chuyển phiếu trước khi ngừng"
    " hoạt động."
)


@pytest.mark.parametrize("serving", [False, True], ids=["called", "serving"])
def test_a_counter_with_a_ticket_called_or_served_there_is_not_deactivated(
    client, center, database, events, serving
):
    uow = runtime(client.application).uow
    ticket = engine.issue_ticket(uow(), "s1", "HT").ticket
    engine.call_next(uow(), "s1", 1)
    if serving:
        engine.start(uow(), "s1", 1)
    events.events.clear()
    login(client, "mai")
    cid = counter_id(database, 1)
    form = counter_form(database, number="1", active=None)
    page = refused(client, database, f"/admin/sites/s1/counters/{cid}", form, BUSY)
    assert 'id="active-error"' in page
    assert events.events == [] and audit_actions(database) == []

    # Once the ticket is transferred, the same form saves; taking a service away from a
    # counter serving one of its tickets was never refused.
    engine.transfer(uow(), "s1", ticket["id"], from_counter=1, to_service="CT")
    assert client.post(f"/admin/sites/s1/counters/{cid}", data=form).status_code == 302
    with database.reads() as session:
        counter = session.get(Counter, cid)
        assert counter is not None and not counter.active and counter.current_ticket_id is None


def test_a_service_can_be_taken_from_a_counter_serving_one_of_its_tickets(client, center, database):
    uow = runtime(client.application).uow
    engine.issue_ticket(uow(), "s1", "HT")
    engine.call_next(uow(), "s1", 1)
    login(client, "mai")
    cid = counter_id(database, 1)
    ids = service_ids(database)
    form = counter_form(
        database,
        number="1",
        **{"services-0-serves": None, "services-1-serves": "y", "services-1-weight": "1"},
    )
    assert client.post(f"/admin/sites/s1/counters/{cid}", data=form).status_code == 302
    with database.reads() as session:
        counter = session.get(Counter, cid)
        assert counter is not None and counter.active and counter.current_ticket_id is not None
        links = session.scalars(select(CounterService).where(CounterService.counter_id == cid))
        assert {link.service_id for link in links} == {ids["CT"]}


def test_a_manager_frees_a_counter_from_its_clerk(client, center, database, events):
    rt = runtime(client.application)
    engine.sign_in(rt.uow(), "s1", 1, center["lan"])
    login(client, "mai")
    listing = text(client.get("/admin/sites/s1/counters"))
    assert "lan" in listing and "Giải phóng quầy" in listing
    cid = counter_id(database, 1)
    assert "Cán bộ đang làm việc:" in text(client.get(f"/admin/sites/s1/counters/{cid}"))
    response = client.post("/admin/sites/s1/counters/1/release")
    assert response.status_code == 302
    assert "Đã giải phóng quầy số 1." in text(client.get("/admin/sites/s1/counters"))
    with database.reads() as session:
        assert session.get(Counter, cid).clerk_id is None  # type: ignore[union-attr]
    assert ("counter.release", "s1/1") in audit_actions(database)
    assert "counter.updated" in [e.name for e in events.events]
    assert client.post("/admin/sites/s1/counters/77/release").status_code == 404


# --- CSRF ----------------------------------------------------------------------------------


def _token(client: Any, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(url)))
    assert found
    return found.group(1)


def test_forms_without_the_csrf_token_are_refused(app, client, center, database, events):
    login(client, "admin")  # logged in before the check is on: the test is about the forms
    app.config["WTF_CSRF_ENABLED"] = True
    cases = [
        (
            "/admin/sites/new",
            {"code": "xa-moi", "name": "UBND xã Mới", "timezone": "Asia/Ho_Chi_Minh"},
        ),
        ("/admin/sites/s1/settings", settings_form()),
        ("/admin/sites/s1/services/new", service_form()),
        ("/admin/sites/s1/counters/new", counter_form(database)),
        ("/admin/sites/s1/counters/1/release", {}),
    ]
    before = snapshot(database)
    for url, form in cases:
        assert client.post(url, data=form).status_code == 400, url
        assert client.post(url, data={**form, "csrf_token": "gia-mao"}).status_code == 400, url
    assert snapshot(database) == before and events.events == []
    token = _token(client, "/admin/sites/s1/services/new")
    response = client.post(
        "/admin/sites/s1/services/new", data={**service_form(), "csrf_token": token}
    )
    assert response.status_code == 302
    assert [e.name for e in events.events] == [SITE_UPDATED]


def test_every_page_renders_for_an_admin(client, center, database):
    login(client, "admin")
    ids = service_ids(database)
    for url in [
        "/admin/",
        "/admin/sites/new",
        *SITE_PAGES,
        f"/admin/sites/s1/services/{ids['HT']}",
        f"/admin/sites/s1/counters/{counter_id(database, 1)}",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="csrf_token"' in text(response), url
