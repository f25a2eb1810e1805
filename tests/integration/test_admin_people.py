"""Admin pages for staff accounts and the audit log (SQLite and PostgreSQL).

Who may reach what, the account rules (a manager makes only clerks of their sites,
nobody demotes or deactivates themselves, the last admin stays), CSRF, field
validation in Vietnamese, password resets ending sessions, and the audit log.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from server import audit, engine
from server.accounts.services import (
    MAX_FAILURES,
    AccountError,
    create_user,
    update_user,
)
from server.db import Database
from server.models import AuditEntry, Counter, Site, User, UserSite

from ..factories import build_site, snapshot
from ..staff import PASSWORD, log_in

ADMIN_ADDR = "10.1.2.3"


# --- helpers (also used by test_admin_devices) ------------------------------------------------


def sites(database: Database, *codes: str) -> None:
    with database.writes() as session:
        for code in codes:
            build_site(session, code)


def make_user(
    database: Database,
    clock: Any,
    username: str,
    role: str,
    site_codes: tuple[str, ...] = (),
    **extra: Any,
) -> int:
    with database.writes() as session, session.begin():
        user = create_user(
            session, username, role, PASSWORD, clock(), site_codes=site_codes, **extra
        )
        return user.id


def login(app: Any, username: str, password: str = PASSWORD, addr: str = ADMIN_ADDR) -> Any:
    """A fresh browser logged in as ``username`` (from ``addr``)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    log_in(client, username, password)
    return client


def csrf_from(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, page
    return found.group(1)


def audit_rows(database: Database) -> list[AuditEntry]:
    with database.reads() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def user_named(database: Database, username: str) -> User:
    with database.reads() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


def user_sites(database: Database, username: str) -> list[str]:
    with database.reads() as session:
        return list(
            session.scalars(
                select(Site.code)
                .join(UserSite, UserSite.site_id == Site.id)
                .join(User, User.id == UserSite.user_id)
                .where(User.username == username)
                .order_by(Site.code)
            )
        )


@pytest.fixture
def people(database: Database, clock: Any) -> dict[str, int]:
    """Sites s1 and s2; an admin, a manager of s1, clerks of s1 and s2, a manager of s2."""
    sites(database, "s1", "s2")
    return {
        "root": make_user(database, clock, "root", "admin"),
        "quanly1": make_user(database, clock, "quanly1", "manager", ("s1",), full_name="Quản Lý"),
        "lan": make_user(database, clock, "lan", "clerk", ("s1",), full_name="Nguyễn Thị Lan"),
        "hoa": make_user(database, clock, "hoa", "clerk", ("s2",)),
        "quanly2": make_user(database, clock, "quanly2", "manager", ("s2",)),
    }


def new_user_form(**fields: Any) -> dict[str, Any]:
    return {
        "username": "minh",
        "full_name": "Trần Văn Minh",
        "role": "clerk",
        "sites": ["s1"],
        "photo_url": "",
        "password": "",
        **fields,
    }


def edit_form(**fields: Any) -> dict[str, Any]:
    return {
        "full_name": "",
        "role": "clerk",
        "sites": ["s1"],
        "photo_url": "",
        "active": "y",
        **fields,
    }


# --- who may reach what -----------------------------------------------------------------------


def _admin_urls(app: Any) -> list[tuple[str, str]]:
    """Every admin page (GET and POST), with s1 and 1 for the arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint == "admin.static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?(code)>", "s1", rule.rule)
        path = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "1", path)
        urls += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return urls


def test_a_clerk_gets_403_and_nobody_the_login_page_on_every_admin_page(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    urls = _admin_urls(app)
    assert ("GET", "/admin/users") in urls and ("GET", "/admin/audit") in urls
    assert ("POST", "/admin/sites/s1/devices/1/revoke") in urls
    anonymous = app.test_client()
    clerk = login(app, "lan")
    before = snapshot(database)
    for method, path in urls:
        response = anonymous.open(path, method=method)
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/login?next="), (method, path)
        assert clerk.open(path, method=method).status_code == 403, (method, path)
    assert snapshot(database) == before


def test_an_admin_sees_every_account_a_manager_the_staff_of_their_sites(
    app: Any, people: dict[str, int]
) -> None:
    page = login(app, "root").get("/admin/users").get_data(as_text=True)
    for name in ("root", "quanly1", "lan", "hoa", "quanly2"):
        assert f'data-username="{name}"' in page
    response = login(app, "quanly1").get("/admin/users")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    shown = set(re.findall(r'data-username="([^"]+)"', page))
    assert shown == {"quanly1", "lan"}
    # Only the clerk can be edited by the manager.
    assert f'/admin/users/{people["lan"]}"' in page
    assert f'/admin/users/{people["quanly1"]}"' not in page


# --- creating accounts ------------------------------------------------------------------------


def test_an_admin_creates_a_clerk_with_a_generated_password_shown_once(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    admin = login(app, "root")
    form_page = admin.get("/admin/users/new")
    assert form_page.status_code == 200 and 'name="csrf_token"' in form_page.get_data(as_text=True)
    response = admin.post(
        "/admin/users/new", data=new_user_form(photo_url="https://anh.example.vn/minh.jpg")
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r'class="secret"><code>([^<]+)</code>', response.get_data(as_text=True))
    assert password, response.get_data(as_text=True)
    user = user_named(database, "minh")
    assert user.role == "clerk" and user.full_name == "Trần Văn Minh" and user.active
    assert user.photo_url == "https://anh.example.vn/minh.jpg"
    assert user_sites(database, "minh") == ["s1"]
    assert password.group(1) not in user.password_hash
    login(app, "minh", password.group(1))  # the shown password opens the account
    entry = [e for e in audit_rows(database) if e.action == "user.create"][-1]
    assert (entry.user_id, entry.target, entry.remote_addr) == (people["root"], "minh", ADMIN_ADDR)
    assert entry.detail == {"role": "clerk", "sites": ["s1"]}
    assert password.group(1) not in str(entry.detail)


def test_a_typed_password_is_kept_and_not_shown(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    admin = login(app, "root")
    response = admin.post(
        "/admin/users/new",
        data=new_user_form(username="tuan", role="manager", sites=["s1", "s2"], password=PASSWORD),
    )
    assert response.status_code == 200
    assert PASSWORD not in response.get_data(as_text=True)
    assert user_sites(database, "tuan") == ["s1", "s2"]
    login(app, "tuan", PASSWORD)


BAD_NEW_ACCOUNTS = [
    ({"username": ""}, "username", "Tên đăng nhập chỉ gồm"),
    ({"username": "có dấu"}, "username", "Tên đăng nhập chỉ gồm"),
    ({"username": "LAN"}, "username", "đã có"),
    ({"full_name": "x" * 201}, "full_name", "Họ và tên"),
    ({"role": "boss"}, "role", "Vai trò phải là"),
    ({"sites": []}, "sites", "Cán bộ cần đúng một đơn vị."),
    ({"sites": ["s1", "s2"]}, "sites", "Cán bộ cần đúng một đơn vị."),
    ({"sites": ["nowhere"]}, "sites", "Không có đơn vị"),
    ({"role": "manager", "sites": []}, "sites", "Người quản lý cần ít nhất một đơn vị."),
    ({"role": "admin", "sites": ["s1"]}, "sites", "không gắn đơn vị"),
    ({"photo_url": "javascript:alert(1)"}, "photo_url", "Địa chỉ ảnh phải bắt đầu"),
    ({"photo_url": "//evil.example/x.png"}, "photo_url", "Địa chỉ ảnh phải bắt đầu"),
    ({"photo_url": "ftp://anh.example.vn/x.png"}, "photo_url", "Địa chỉ ảnh phải bắt đầu"),
    ({"photo_url": "https://" + "a" * 500}, "photo_url", "Địa chỉ ảnh"),
    ({"password": "ngan-qua"}, "password", "Mật khẩu phải có ít nhất 10 ký tự."),
]


def _error_beside(page: str, field: str, message: str) -> None:
    """The message is shown in the field's own block, right after its input."""
    block = re.search(
        rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page, re.DOTALL
    )
    assert block, (field, page)
    assert message in block.group(0), (message, block.group(0))


def test_each_field_of_a_new_account_is_checked_and_nothing_is_saved(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    admin = login(app, "root")
    before = snapshot(database)
    for fields, field, message in BAD_NEW_ACCOUNTS:
        response = admin.post("/admin/users/new", data=new_user_form(**fields))
        assert response.status_code == 400, fields
        _error_beside(response.get_data(as_text=True), field, message)
        assert snapshot(database) == before, fields


def test_a_manager_creates_only_clerks_of_their_own_sites(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    manager = login(app, "quanly1")
    page = manager.get("/admin/users/new").get_data(as_text=True)
    assert 'value="admin"' not in page and 'value="s2"' not in page
    before = snapshot(database)
    refused = [
        new_user_form(role="admin", sites=[]),
        new_user_form(role="admin", sites=["s1"]),
        new_user_form(role="manager", sites=["s1"]),
        new_user_form(sites=["s2"]),
    ]
    for form in refused:
        response = manager.post("/admin/users/new", data=form)
        assert response.status_code == 403, form
        assert "chỉ tạo và sửa được tài khoản cán bộ của đơn vị mình" in response.get_data(
            as_text=True
        )
        assert snapshot(database) == before, form
    assert manager.post("/admin/users/new", data=new_user_form()).status_code == 200
    assert user_sites(database, "minh") == ["s1"]


# --- editing accounts -------------------------------------------------------------------------


def test_an_admin_edits_an_account_and_each_change_is_audited(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    admin = login(app, "root")
    page = admin.get(f"/admin/users/{people['lan']}").get_data(as_text=True)
    assert 'value="Nguyễn Thị Lan"' in page
    response = admin.post(
        f"/admin/users/{people['lan']}",
        data=edit_form(full_name="Nguyễn Thị Lan Anh", sites=["s2"], photo_url="/static/lan.png"),
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    user = user_named(database, "lan")
    assert (user.full_name, user.photo_url, user.active) == (
        "Nguyễn Thị Lan Anh",
        "/static/lan.png",
        True,
    )
    assert user_sites(database, "lan") == ["s2"]
    entry = audit_rows(database)[-1]
    assert (entry.action, entry.target, entry.user_id, entry.remote_addr) == (
        "user.update",
        "lan",
        people["root"],
        ADMIN_ADDR,
    )
    assert entry.detail["sites"] == [["s1"], ["s2"]]
    assert entry.detail["full_name"] == ["Nguyễn Thị Lan", "Nguyễn Thị Lan Anh"]
    # Promoting to manager of two sites.
    response = admin.post(
        f"/admin/users/{people['lan']}", data=edit_form(role="manager", sites=["s1", "s2"])
    )
    assert response.status_code == 302
    assert user_named(database, "lan").role == "manager"
    assert user_sites(database, "lan") == ["s1", "s2"]


def test_edits_are_checked_field_by_field(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    admin = login(app, "root")
    before = snapshot(database)
    cases = [
        ({"full_name": "y" * 201}, "full_name", "Họ và tên"),
        ({"role": "boss"}, "role", "Vai trò phải là"),
        ({"sites": []}, "sites", "Cán bộ cần đúng một đơn vị."),
        ({"role": "manager", "sites": []}, "sites", "Người quản lý cần ít nhất một đơn vị."),
        ({"role": "admin"}, "sites", "không gắn đơn vị"),
        ({"photo_url": "data:image/png;base64,AAAA"}, "photo_url", "Địa chỉ ảnh phải bắt đầu"),
    ]
    for fields, field, message in cases:
        response = admin.post(f"/admin/users/{people['lan']}", data=edit_form(**fields))
        assert response.status_code == 400, fields
        _error_beside(response.get_data(as_text=True), field, message)
        assert snapshot(database) == before, fields
    assert admin.get("/admin/users/9999").status_code == 404


def test_a_manager_edits_only_clerks_of_their_sites(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    manager = login(app, "quanly1")
    before = snapshot(database)
    for name in ("root", "quanly1", "quanly2", "hoa"):
        user_id = people[name]
        assert manager.get(f"/admin/users/{user_id}").status_code == 403, name
        assert manager.post(f"/admin/users/{user_id}", data=edit_form()).status_code == 403
        assert manager.post(f"/admin/users/{user_id}/password").status_code == 403
        assert manager.post(f"/admin/users/{user_id}/unlock").status_code == 403
    # Their own clerk: not to another site, not promoted.
    for fields in ({"sites": ["s2"]}, {"role": "manager"}, {"role": "admin", "sites": []}):
        response = manager.post(f"/admin/users/{people['lan']}", data=edit_form(**fields))
        assert response.status_code == 403, fields
    assert snapshot(database) == before
    ok = manager.post(f"/admin/users/{people['lan']}", data=edit_form(full_name="Lan"))
    assert ok.status_code == 302 and user_named(database, "lan").full_name == "Lan"


def test_nobody_demotes_or_deactivates_themselves(
    app: Any, database: Database, people: dict[str, int], clock: Any
) -> None:
    make_user(database, clock, "root2", "admin")
    admin = login(app, "root")
    before = snapshot(database)
    me = f"/admin/users/{people['root']}"
    demoted = admin.post(me, data=edit_form(role="manager", sites=["s1"]))
    assert demoted.status_code == 400
    _error_beside(demoted.get_data(as_text=True), "role", "Bạn không thể tự đổi vai trò của mình.")
    deactivated = admin.post(me, data=edit_form(role="admin", sites=[], active=""))
    assert deactivated.status_code == 400
    _error_beside(
        deactivated.get_data(as_text=True), "active", "Bạn không thể tự khóa tài khoản của mình."
    )
    assert snapshot(database) == before
    # Another admin may do it, and one's own name may change.
    assert (
        login(app, "root2").post(me, data=edit_form(role="manager", sites=["s1"])).status_code
        == 302
    )
    assert user_named(database, "root").role == "manager"


def test_the_last_active_admin_stays_an_active_admin(
    database: Database, people: dict[str, int], clock: Any
) -> None:
    fields = {"full_name": "", "photo_url": None, "site_codes": ()}

    def uow() -> engine.UnitOfWork:
        return engine.UnitOfWork(database.writes, clock=clock)

    for change in ({"role": "admin", "active": False}, {"role": "manager", "active": True}):
        site_codes = ("s1",) if change["role"] == "manager" else ()
        with pytest.raises(AccountError, match="quản trị viên cuối cùng"):
            update_user(uow(), people["root"], **{**fields, **change, "site_codes": site_codes})
    # With an inactive second admin it is still the last active one.
    second = make_user(database, clock, "root2", "admin")
    update_user(uow(), second, **fields, role="admin", active=False)
    with pytest.raises(AccountError, match="quản trị viên cuối cùng"):
        update_user(uow(), people["root"], **fields, role="admin", active=False)
    # With two active admins, one may go.
    update_user(uow(), second, **fields, role="admin", active=True)
    update_user(uow(), people["root"], **fields, role="admin", active=False)
    assert not user_named(database, "root").active


def test_deactivating_a_clerk_ends_their_login_and_frees_their_counter(
    app: Any, database: Database, people: dict[str, int], uow: Any
) -> None:
    clerk = login(app, "lan", addr="10.0.0.9")
    engine.sign_in(uow(), "s1", 1, people["lan"])
    with database.reads() as session:
        held = session.scalars(select(Counter.number).where(Counter.clerk_id == people["lan"]))
        assert list(held) == [1]
    admin = login(app, "root")
    response = admin.post(f"/admin/users/{people['lan']}", data=edit_form(active=""))
    assert response.status_code == 302
    with database.reads() as session:
        held = session.scalars(select(Counter.clerk_id).where(Counter.clerk_id.is_not(None)))
        assert list(held) == []
    assert not user_named(database, "lan").active
    assert clerk.get("/admin/users").status_code == 302  # logged out: to the login page
    assert (
        app.test_client().post("/login", data={"username": "lan", "password": PASSWORD}).status_code
        == 401
    )
    assert "user.deactivate" in [e.action for e in audit_rows(database)]
    # And back.
    assert admin.post(f"/admin/users/{people['lan']}", data=edit_form()).status_code == 302
    assert audit_rows(database)[-1].action == "user.activate"
    login(app, "lan")


# --- passwords and lockouts -------------------------------------------------------------------


def test_a_password_reset_shows_a_new_password_once_and_ends_the_sessions(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    manager = login(app, "quanly1")
    assert manager.get("/admin/users").status_code == 200
    admin = login(app, "root")
    response = admin.post(f"/admin/users/{people['quanly1']}/password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = re.search(r'class="secret"><code>([^<]+)</code>', response.get_data(as_text=True))
    assert password
    after = manager.get("/admin/users")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    assert (
        app.test_client()
        .post("/login", data={"username": "quanly1", "password": PASSWORD})
        .status_code
        == 401
    )
    login(app, "quanly1", password.group(1))
    entry = [e for e in audit_rows(database) if e.action == "user.password_reset"][-1]
    assert (entry.user_id, entry.target, entry.remote_addr) == (
        people["root"],
        "quanly1",
        ADMIN_ADDR,
    )
    assert password.group(1) not in str(entry.detail)
    assert admin.post("/admin/users/9999/password").status_code == 404


def test_a_locked_account_is_unlocked(
    app: Any, database: Database, people: dict[str, int], clock: Any
) -> None:
    for _ in range(MAX_FAILURES):
        app.test_client().post("/login", data={"username": "lan", "password": "sai-mat-khau-1"})
    assert user_named(database, "lan").locked_until is not None
    manager = login(app, "quanly1")
    page = manager.get("/admin/users").get_data(as_text=True)
    assert "Tạm khóa đến 23/11/2026 09:15" in page  # 02:00 UTC + 15 min, in Hồ Chí Minh time
    response = manager.post(f"/admin/users/{people['lan']}/unlock")
    assert response.status_code == 302
    assert user_named(database, "lan").locked_until is None
    login(app, "lan")
    entry = [e for e in audit_rows(database) if e.action == "user.unlock"][-1]
    assert (entry.user_id, entry.target, entry.remote_addr) == (
        people["quanly1"],
        "lan",
        ADMIN_ADDR,
    )


# --- CSRF -------------------------------------------------------------------------------------


def test_every_account_form_without_its_csrf_token_is_refused(
    app: Any, database: Database, people: dict[str, int]
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    admin = login(app, "root")
    before = snapshot(database)
    lan = people["lan"]
    posts = [
        ("/admin/users/new", new_user_form()),
        (f"/admin/users/{lan}", edit_form(full_name="Khác")),
        (f"/admin/users/{lan}/password", {}),
        (f"/admin/users/{lan}/unlock", {}),
    ]
    for path, data in posts:
        response = admin.post(path, data=data)
        assert response.status_code == 400, path
        assert snapshot(database) == before, path
    # With the page's token the same form goes through.
    token = csrf_from(admin.get(f"/admin/users/{lan}").get_data(as_text=True))
    response = admin.post(f"/admin/users/{lan}", data=edit_form(full_name="Khác", csrf_token=token))
    assert response.status_code == 302
    assert user_named(database, "lan").full_name == "Khác"


# --- the audit log ----------------------------------------------------------------------------


def _entries(page: str) -> list[str]:
    return re.findall(r'<tr data-entry="(\d+)">', page)


def _seed_audit(database: Database, people: dict[str, int], clock: Any) -> None:
    with database.writes() as session, session.begin():
        s1, s2 = (session.scalar(select(Site.id).where(Site.code == c)) for c in ("s1", "s2"))
        at = clock()
        audit.record(
            session,
            "counter.release",
            user_id=people["quanly1"],
            site_id=s1,
            target="quầy 1",
            remote_addr="10.0.0.1",
            at=at,
        )
        audit.record(
            session,
            "counter.release",
            user_id=people["quanly2"],
            site_id=s2,
            target="quầy 2",
            remote_addr="10.0.0.2",
            at=at + timedelta(minutes=1),
        )
        audit.record(
            session,
            "site.update",
            user_id=people["root"],
            site_id=s2,
            target="s2",
            remote_addr="10.0.0.3",
            at=at + timedelta(minutes=2),
        )
        audit.record(
            session,
            "profile.update",
            user_id=people["quanly1"],
            target="quanly1",
            remote_addr="10.0.0.4",
            at=at + timedelta(minutes=3),
        )


def test_the_audit_log_shows_who_what_when_and_where_newest_first(
    app: Any, database: Database, people: dict[str, int], clock: Any
) -> None:
    _seed_audit(database, people, clock)
    admin = login(app, "root")
    page = admin.get("/admin/audit").get_data(as_text=True)
    newest_first = sorted(audit_rows(database), key=lambda e: (e.at, e.id), reverse=True)
    assert _entries(page) == [str(e.id) for e in newest_first]
    release = next(e for e in audit_rows(database) if e.target == "quầy 1")
    row = re.search(rf'<tr data-entry="{release.id}">.*?</tr>', page, re.DOTALL)
    assert row
    cells = row.group(0)
    # 02:00 UTC is 09:00 in Hồ Chí Minh; the manager's name and full name; from where.
    assert "23/11/2026 09:00" in cells and "quanly1 (Quản Lý)" in cells
    assert "counter.release" in cells and "quầy 1" in cells and "10.0.0.1" in cells


def test_the_audit_log_says_actions_and_details_in_words(
    app: Any, database: Database, people: dict[str, int], clock: Any
) -> None:
    """Issue 9: "login.success" and raw JSON were shown as they are stored."""
    at = clock()
    with database.writes() as session, session.begin():
        for action, detail in (
            ("login.failure", {"reason": "password", "failures": 3}),
            ("user.update", {"role": ["clerk", "manager"], "sites": [["s1"], ["s1", "s2"]]}),
            ("device.code", {"role": "display", "counter": None, "label": "TV", "settings": {}}),
            ("site.settings", {"repeat": [2, 3], "ticket_footer": ["", "Xin cảm ơn"]}),
            (
                "service.create",
                {"sessions": [None, [{"start": "07:30", "end": "11:30", "days": [1, 2]}]]},
            ),
            ("some.new_action", {"x": 1}),
        ):
            audit.record(session, action, target="t", detail=detail, at=at)
    page = login(app, "root").get("/admin/audit").get_data(as_text=True)

    def row(action: str) -> str:
        found = re.search(
            rf'data-action="{re.escape(action)}"[^>]*>([^<]*)</td>.*?'
            r'<td class="detail">(.*?)</td>',
            page,
            re.DOTALL,
        )
        assert found, action
        return f"{found[1]} | {re.sub(r'<[^>]+>', '', found[2])}"

    assert row("login.success").startswith("Đăng nhập thành công |")
    assert row("login.failure") == (
        "Đăng nhập không thành công | Lý do: sai mật khẩu; Số lần sai liên tiếp: 3"
    )
    assert row("user.update") == (
        "Sửa tài khoản | Vai trò: Cán bộ → Người quản lý; Đơn vị: s1 → s1, s2"
    )
    assert row("device.code") == (
        "Tạo mã kết nối thiết bị | Vai trò: Màn hình hiển thị; Quầy: —; Tên gọi: TV; Cài đặt: —"
    )
    assert row("site.settings") == (
        "Sửa cài đặt đơn vị | Số lần đọc: 2 → 3; Dòng cuối phiếu: — → Xin cảm ơn"
    )
    assert row("service.create") == "Thêm lĩnh vực | Giờ tiếp nhận: 07:30–11:30 (T2, T3)"
    assert row("some.new_action") == "some.new_action | x: 1"  # unknown: shown as it is
    assert "{&#34;" not in page and '{"' not in page  # no JSON
    assert '<option value="login.failure" >Đăng nhập không thành công</option>' in page


def test_the_audit_log_filters_by_site_user_and_action(
    app: Any, database: Database, people: dict[str, int], clock: Any
) -> None:
    _seed_audit(database, people, clock)
    admin = login(app, "root")

    def actions(query: str) -> list[str]:
        page = admin.get("/admin/audit" + query).get_data(as_text=True)
        found = re.findall(r'<td class="action" data-action="([^"]+)"', page)
        return [a for a in found if a != "user.create" and not a.startswith("login.")]

    assert actions("?action=counter.release") == ["counter.release", "counter.release"]
    assert actions("?site=s2") == ["site.update", "counter.release"]
    assert actions(f"?user={people['quanly1']}&action=counter.release") == ["counter.release"]
    assert actions(f"?site=s2&user={people['root']}") == ["site.update"]
    assert actions("?site=nowhere") == []
    assert admin.get("/admin/audit?user=abc&page=-3").status_code == 200


def test_a_manager_reads_only_their_sites_and_their_own_entries(
    app: Any, database: Database, people: dict[str, int], clock: Any
) -> None:
    _seed_audit(database, people, clock)
    manager = login(app, "quanly1")
    page = manager.get("/admin/audit").get_data(as_text=True)
    targets = re.findall(r'<td class="action"[^>]*>[^<]*</td>\s*<td>([^<]*)</td>', page)
    assert "quầy 1" in targets and "quanly1" in targets  # their site's, their own
    assert "quầy 2" not in targets and "s2" not in targets  # not another site's
    assert 'value="s2"' not in page  # nor that site in the filter
    assert manager.get("/admin/audit?site=s2").get_data(as_text=True).count("data-entry=") == 0


def test_the_audit_log_has_pages_of_fifty(
    app: Any, database: Database, people: dict[str, int], clock: Any
) -> None:
    with database.writes() as session, session.begin():
        for n in range(70):
            audit.record(session, "test.entry", target=f"t{n}", at=clock() + timedelta(seconds=n))
    admin = login(app, "root")
    first = admin.get("/admin/audit?action=test.entry").get_data(as_text=True)
    assert len(_entries(first)) == 50 and "t69" in first and "t19<" not in first
    assert "page=2" in first and "action=test.entry" in first
    second = admin.get("/admin/audit?action=test.entry&page=2").get_data(as_text=True)
    assert len(_entries(second)) == 20 and "t0<" in second
