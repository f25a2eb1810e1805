"""Issue 9 items 10 and 15: logins end on the server, no username enumeration, pairing
links leave a staff login alone (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from server.accounts.services import LOCKOUT, MAX_FAILURES, create_user, reset_password
from server.devices import SESSION_KEY
from server.engine import UnitOfWork
from server.models import User

from ..factories import build_site
from ..staff import PASSWORD, log_in

LOCKED = "Tài khoản tạm khóa do đăng nhập sai nhiều lần."
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
STAFF_PAGE = "/admin/"


def _setup(database: Any, clock: Any) -> None:
    with database.writes() as session:
        build_site(session)
    with database.writes() as session, session.begin():
        create_user(session, "root", "admin", PASSWORD, clock())
        create_user(session, "quan", "manager", PASSWORD, clock(), site_codes=("s1",))
        create_user(session, "lan", "clerk", PASSWORD, clock(), site_codes=("s1",))


def _browser(app: Any, username: str) -> Any:
    client = app.test_client()
    log_in(client, username)
    assert client.get(STAFF_PAGE).status_code == 200
    return client


def _copy(app: Any, client: Any) -> Any:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _logged_in(client: Any) -> bool:
    response = client.get(STAFF_PAGE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


# --- item 10: the session ends on the server ------------------------------------------------


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, database, clock) -> None:
    _setup(database, clock)
    browser = _browser(app, "root")
    copy = _copy(app, browser)
    assert _logged_in(copy)
    assert browser.post("/logout").status_code == 302
    assert not _logged_in(browser)
    assert not _logged_in(copy)  # the copy is dead too: the session ended in the database
    from server.models import StaffSession

    with database.reads() as session:
        rows = session.scalars(select(StaffSession)).all()
        assert [row.ended_at is not None for row in rows] == [True]


def test_logging_out_in_one_browser_leaves_the_others_logged_in(app, database, clock) -> None:
    _setup(database, clock)
    office = _browser(app, "root")
    home = _browser(app, "root")
    office.post("/logout")
    assert not _logged_in(office)
    assert _logged_in(home)


def test_log_out_everywhere_from_ones_own_menu(app, database, clock) -> None:
    _setup(database, clock)
    office = _browser(app, "root")
    home = _browser(app, "root")
    page = office.get(STAFF_PAGE).get_data(as_text=True)
    assert 'name="everywhere" value="1"' in page  # the button in the admin menu
    office.post("/logout", data={"everywhere": "1"})
    assert not _logged_in(office)
    assert not _logged_in(home)


def test_an_admin_logs_an_account_out_everywhere(app, database, clock) -> None:
    _setup(database, clock)
    manager_pc = _browser(app, "quan")
    manager_phone = _browser(app, "quan")
    admin = _browser(app, "root")
    with database.reads() as session:
        quan = session.scalar(select(User.id).where(User.username == "quan"))
    page = admin.get(f"/admin/users/{quan}").get_data(as_text=True)
    assert f"/admin/users/{quan}/sessions/end" in page
    response = admin.post(f"/admin/users/{quan}/sessions/end")
    assert response.status_code == 302
    assert "Đã đăng xuất quan khỏi mọi nơi." in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert not _logged_in(manager_pc)
    assert not _logged_in(manager_phone)
    assert _logged_in(admin)
    # a manager may not do it to an admin
    refused = _browser(app, "quan").post("/admin/users/1/sessions/end")
    assert refused.status_code == 403
    assert _logged_in(admin)


def test_a_new_password_ends_every_copy_of_every_session(app, database, clock) -> None:
    _setup(database, clock)
    browser = _browser(app, "quan")
    copy = _copy(app, browser)
    reset_password(UnitOfWork(database.writes, clock=clock), "quan", "mat-khau-moi-12345")
    assert not _logged_in(browser)
    assert not _logged_in(copy)
    log_in(app.test_client(), "quan", "mat-khau-moi-12345")  # the new one works


def test_a_forged_session_id_opens_nothing(app, database, clock) -> None:
    _setup(database, clock)
    for forged in ("1:", "1:abc", "x:y", "99999999999999999999:abc", "1"):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = forged
            session["_fresh"] = True
        assert not _logged_in(client), forged


# --- item 15: the lockout message tells nothing about which usernames exist ----------------


def _attempt(client: Any, username: str) -> str:
    response = client.post("/login", data={"username": username, "password": "sai-mat-khau"})
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert (LOCKED in text) != (WRONG in text)
    return "locked" if LOCKED in text else "wrong"


def test_an_unknown_username_locks_exactly_as_a_real_one(app, database, clock) -> None:
    _setup(database, clock)
    client = app.test_client()
    answers = {
        name: [_attempt(client, name) for _ in range(MAX_FAILURES + 2)]
        for name in ("lan", "khong-co-ai", "  Khong-Co-Ai  ")
    }
    expected = ["wrong"] * (MAX_FAILURES - 1) + ["locked"] * 3
    assert answers["lan"] == expected
    # the same name typed again (case, spaces) is the same name: already locked
    assert answers["khong-co-ai"] == expected
    assert answers["  Khong-Co-Ai  "] == ["locked"] * (MAX_FAILURES + 2)
    # once the lockout is over, both start counting again
    clock.advance(seconds=LOCKOUT.total_seconds() + 1)
    assert _attempt(client, "lan") == _attempt(client, "khong-co-ai") == "wrong"
    # only a digest of the unknown name is kept
    from server.models import LoginFailure

    with database.reads() as session:
        [row] = session.scalars(select(LoginFailure)).all()
        assert "khong" not in row.name_hash and len(row.name_hash) == 64


def test_a_deactivated_account_answers_as_an_unknown_name(app, database, clock) -> None:
    _setup(database, clock)
    with database.writes() as session, session.begin():
        session.scalar(select(User).where(User.username == "lan")).active = False
    client = app.test_client()
    answers = [_attempt(client, "lan") for _ in range(MAX_FAILURES + 1)]
    assert answers == ["wrong"] * (MAX_FAILURES - 1) + ["locked"] * 2


def test_old_unknown_names_are_forgotten(app, database, clock) -> None:
    _setup(database, clock)
    client = app.test_client()
    _attempt(client, "mot")
    clock.advance(days=31)
    _attempt(client, "hai")
    from server.models import LoginFailure

    with database.reads() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 1


# --- item 15: a pairing link does not log a staff member out ------------------------------


def test_a_pairing_link_in_a_staff_browser_changes_nothing_and_says_why(
    app, database, clock, make_token
) -> None:
    _setup(database, clock)
    browser = _browser(app, "quan")
    token = make_token("display")
    link = f"/pair?token={token}&next=/display/"
    response = browser.get(link)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "đang đăng nhập tài khoản cán bộ quan" in page
    assert _logged_in(browser)  # still logged in
    with browser.session_transaction() as session:
        assert SESSION_KEY not in session  # and not paired
    # the button logs out and comes back to the same link, which then pairs
    assert 'name="next" value="/pair?token=' in page
    out = browser.post("/logout", data={"next": link})
    assert out.headers["Location"] == link
    paired = browser.get(out.headers["Location"])
    assert (paired.status_code, paired.headers["Location"]) == (302, "/display/")
    with browser.session_transaction() as session:
        assert session[SESSION_KEY] == token


def test_a_pairing_code_is_not_spent_while_staff_is_logged_in(app, database, clock) -> None:
    from server.pairing_codes import create_pairing_code

    _setup(database, clock)
    with database.writes() as session:
        code = create_pairing_code(session, "s1", "kiosk", now=clock())
    browser = _browser(app, "quan")
    assert browser.post("/pair", data={"code": code}).status_code == 409
    device = app.test_client()
    assert device.post("/pair", data={"code": code}).status_code == 302  # still unused
