"""Staff accounts: login, lockout, CSRF, roles, the audit log and `xephang user`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Blueprint
from sqlalchemy import select

from server.accounts import current_staff, staff_required
from server.accounts.security import secure_cookies
from server.accounts.services import LOCKOUT, MAX_FAILURES, AccountError, create_user
from server.cli import cli
from server.db import Database
from server.engine import UnitOfWork
from server.models import AuditEntry, User, UserSite

from ..api_fixtures import bearer
from ..factories import build_site

PASSWORD = "mat-khau-rat-dai-1"
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
LOCKED = "Tài khoản tạm khóa do đăng nhập sai nhiều lần."


def _user(database: Database, clock: Any, username: str = "lan", role: str = "clerk") -> int:
    with database.writes() as session:
        build_site(session)
    sites = () if role == "admin" else ("s1",)
    with database.writes() as session, session.begin():
        return create_user(session, username, role, PASSWORD, clock(), site_codes=sites).id


def _login(client: Any, username: str = "lan", password: str = PASSWORD, **extra: str) -> Any:
    return client.post("/login", data={"username": username, "password": password, **extra})


def _csrf_token(client: Any) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _audit(database: Database) -> list[tuple[str, str]]:
    with database.reads() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.target) for e in entries]


def _add_staff_pages(app: Any) -> None:
    pages = Blueprint("staff_pages_test", __name__)

    @pages.get("/t/any")
    @staff_required()
    def any_staff() -> str:
        staff = current_staff()
        assert staff is not None
        return f"{staff.username}:{staff.role}"

    @pages.get("/t/admin")
    @staff_required("admin")
    def admin_only() -> str:
        return "admin page"

    app.register_blueprint(pages)


# --- login ------------------------------------------------------------------------------


def test_login_page_is_in_vietnamese_and_english(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Tên đăng nhập" in page and "Mật khẩu" in page
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Username" in page and "Password" in page


def test_the_right_password_opens_a_staff_session(app: Any, client: Any, database, clock) -> None:
    _add_staff_pages(app)
    _user(database, clock)
    response = _login(client, "  LAN ", next="/t/any")
    assert response.status_code == 302 and response.headers["Location"] == "/t/any"
    assert client.get("/t/any").get_data(as_text=True) == "lan:clerk"
    with database.reads() as session:
        user = session.scalar(select(User).where(User.username == "lan"))
        assert user is not None and user.last_login_at == clock()
    assert ("login.success", "lan") in _audit(database)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(
    client: Any, database, clock
) -> None:
    _user(database, clock)
    wrong = _login(client, password="sai-mat-khau-roi")
    unknown = _login(client, username="khong-co-ai")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.get_data(as_text=True)
    assert WRONG in unknown.get_data(as_text=True)
    assert _audit(database)[-2:] == [("login.failure", "lan"), ("login.failure", "khong-co-ai")]
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_an_open_redirect_is_not_followed(client: Any, database, clock) -> None:
    _user(database, clock)
    response = _login(client, next="//evil.example/")
    assert response.headers["Location"] == "/counter/"  # the clerk's own page instead


@pytest.mark.parametrize(
    ("role", "page"), [("clerk", "/counter/"), ("manager", "/admin/"), ("admin", "/admin/")]
)
def test_a_login_without_next_lands_on_the_users_own_page(
    client: Any, database, clock, role: str, page: str
) -> None:
    _user(database, clock, role=role)
    response = _login(client)
    assert response.status_code == 302 and response.headers["Location"] == page
    assert client.get(page).status_code == 200


def test_repeated_failures_lock_the_account_until_the_time_has_passed(
    client: Any, database, clock
) -> None:
    _user(database, clock)
    for _ in range(MAX_FAILURES - 1):
        assert WRONG in _login(client, password="sai-mat-khau-roi").get_data(as_text=True)
    assert LOCKED in _login(client, password="sai-mat-khau-roi").get_data(as_text=True)
    assert ("login.lockout", "lan") in _audit(database)
    # Locked: even the right password is refused.
    clock.advance(seconds=LOCKOUT.total_seconds() - 1)
    refused = _login(client)
    assert refused.status_code == 401 and LOCKED in refused.get_data(as_text=True)
    clock.advance(seconds=1)
    assert _login(client).status_code == 302


def test_a_success_clears_the_count_of_failures(client: Any, database, clock) -> None:
    _user(database, clock)
    for _ in range(MAX_FAILURES - 1):
        _login(client, password="sai-mat-khau-roi")
    assert _login(client).status_code == 302
    assert WRONG in _login(client, password="sai-mat-khau-roi").get_data(as_text=True)


def test_passwords_are_stored_hashed(database, clock) -> None:
    _user(database, clock)
    with database.reads() as session:
        stored = session.scalar(select(User.password_hash))
    assert stored is not None and PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:", "$argon2"))


# --- roles and logout ---------------------------------------------------------------------


def test_staff_pages_need_a_login_and_the_right_role(
    app: Any, client: Any, database, clock
) -> None:
    _add_staff_pages(app)
    _user(database, clock)
    response = client.get("/t/any?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    _login(client)
    assert client.get("/t/admin").status_code == 403
    with database.writes() as session, session.begin():
        create_user(session, "root", "admin", PASSWORD, clock())
    admin = app.test_client()
    _login(admin, "root")
    assert admin.get("/t/admin").get_data(as_text=True) == "admin page"


def test_logout_ends_the_session_and_is_audited(app: Any, client: Any, database, clock) -> None:
    _add_staff_pages(app)
    _user(database, clock)
    _login(client)
    assert client.post("/logout").status_code == 302
    assert client.get("/t/any").status_code == 302
    assert _audit(database)[-1] == ("logout", "lan")


def test_a_password_reset_ends_the_other_sessions(app: Any, client: Any, database, clock) -> None:
    from server.accounts.services import reset_password

    _add_staff_pages(app)
    _user(database, clock)
    _login(client)
    assert client.get("/t/any").status_code == 200
    reset_password(UnitOfWork(database.writes, clock=clock), "lan", "mat-khau-moi-12345")
    assert client.get("/t/any").status_code == 302
    assert ("user.password_reset", "lan") in _audit(database)


def test_accounts_are_checked_when_made(database, clock) -> None:
    with database.writes() as session:
        build_site(session)
    cases = [
        ("x", "clerk", ("s1",), "ngắn"),  # password too short
        ("ai", "clerk", (), PASSWORD),
        ("ai", "manager", (), PASSWORD),
        ("ai", "admin", ("s1",), PASSWORD),
        ("ai", "clerk", ("nope",), PASSWORD),
        ("có dấu", "clerk", ("s1",), PASSWORD),
    ]
    for username, role, sites, password in cases:
        with database.writes() as session, session.begin(), pytest.raises(AccountError):
            create_user(session, username, role, password, clock(), site_codes=sites)
    with database.writes() as session, session.begin():
        create_user(session, "quan-ly", "manager", PASSWORD, clock(), site_codes=("s1",))
    with database.writes() as session, session.begin(), pytest.raises(AccountError):
        create_user(session, "QUAN-LY", "clerk", PASSWORD, clock(), site_codes=("s1",))
    with database.reads() as session:
        assert session.scalar(select(User.username)) == "quan-ly"
        assert len(session.scalars(select(UserSite)).all()) == 1


# --- CSRF -------------------------------------------------------------------------------


def test_a_form_without_the_csrf_token_is_refused(app: Any, client: Any, database, clock) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    _user(database, clock)
    refused = _login(client)
    assert refused.status_code == 400
    assert "Biểu mẫu đã hết hạn" in refused.get_data(as_text=True)
    assert client.post("/logout").status_code == 400
    assert _login(client, csrf_token=_csrf_token(client)).status_code == 302


def test_the_bearer_token_apis_need_no_csrf_token(
    app: Any, client: Any, database, make_token
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    with database.writes() as session:
        build_site(session)
    kiosk = bearer(make_token("kiosk"))
    api = client.post("/api/v1/sites/s1/tickets", json={"service": "A"}, headers=kiosk)
    assert api.status_code == 201, api.get_data(as_text=True)
    on_kiosk = client.post("/kiosk/api/tickets", json={"service": "A"}, headers=kiosk)
    assert on_kiosk.status_code == 201, on_kiosk.get_data(as_text=True)


def test_session_cookies_are_http_only_and_lax(app: Any, client: Any, database, clock) -> None:
    _user(database, clock)
    cookie = _login(client).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_cookies_are_secure_when_asked_or_served_over_https() -> None:
    assert not secure_cookies({}, {})
    assert secure_cookies({}, {"XEPHANG_PUBLIC_URL": "https://xephang.example.vn"})
    assert secure_cookies({}, {"XEPHANG_SECURE_COOKIES": "1"})
    assert not secure_cookies({"PUBLIC_URL": "https://x.vn"}, {"XEPHANG_SECURE_COOKIES": "0"})
    assert not secure_cookies({"PUBLIC_URL": "http://10.0.0.2:8080"}, {})


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'accounts.sqlite3'}"


@pytest.fixture
def run(cli_url: str) -> Any:
    env = {"XEPHANG_DATABASE_URL": cli_url, "XEPHANG_SECRET_KEY": "cli", "XEPHANG_REDIS_URL": ""}

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner(env=env).invoke(cli, list(args), input=stdin)

    return invoke


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _printed_password(output: str) -> str:
    return output.strip().splitlines()[-1].rsplit(": ", 1)[1]


def _cli_app(url: str) -> Any:
    from server.app import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "TESTING": True})


def test_init_prints_a_first_admin_password_once(run: Any, cli_url: str) -> None:
    first = _ok(run("init"))
    assert "admin" in first
    password = _printed_password(first)
    assert len(password) >= 12
    second = _ok(run("init"))
    assert password not in second and "Mật khẩu" not in second
    app = _cli_app(cli_url)
    assert _login(app.test_client(), "admin", password).status_code == 302
    assert _login(app.test_client(), "admin", "admin").status_code == 401


def test_user_create_prints_a_password_and_password_resets_it(run: Any, cli_url: str) -> None:
    _ok(run("init", "--demo"))
    out = _ok(
        run(
            "user",
            "create",
            "--username",
            "Lan",
            "--role",
            "clerk",
            "--site",
            "demo",
            "--full-name",
            "Nguyễn Thị Lan",
        )
    )
    password = _printed_password(out)
    app = _cli_app(cli_url)
    assert _login(app.test_client(), "lan", password).status_code == 302
    new = _printed_password(_ok(run("user", "password", "lan")))
    assert new != password
    assert _login(app.test_client(), "lan", password).status_code == 401
    assert _login(app.test_client(), "lan", new).status_code == 302
    db = Database(cli_url)
    try:
        with db.reads() as session:
            user = session.scalar(select(User).where(User.username == "lan"))
            assert user is not None and user.full_name == "Nguyễn Thị Lan"
        assert {("user.create", "lan"), ("user.password_reset", "lan")} <= set(_audit(db))
    finally:
        db.dispose()


def test_user_create_reads_the_password_from_stdin(run: Any, cli_url: str) -> None:
    _ok(run("init", "--demo"))
    out = _ok(
        run(
            "user",
            "create",
            "--username",
            "tuan",
            "--role",
            "manager",
            "--site",
            "demo",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    assert PASSWORD not in out
    assert _login(_cli_app(cli_url).test_client(), "tuan", PASSWORD).status_code == 302
    short = run("user", "password", "tuan", "--password-stdin", stdin="ngan\n")
    assert short.exit_code == 2 and "ít nhất" in short.output


def test_user_create_refuses_an_unknown_site_or_a_taken_name(run: Any) -> None:
    _ok(run("init", "--demo"))
    unknown = run("user", "create", "--username", "lan", "--role", "clerk", "--site", "xyz")
    assert unknown.exit_code == 2 and "Không có đơn vị “xyz”" in unknown.output
    taken = run("user", "create", "--username", "admin", "--role", "admin")
    assert taken.exit_code == 2 and "đã có" in taken.output
    missing = run("user", "password", "ai-do")
    assert missing.exit_code == 2 and "Không có tài khoản" in missing.output


def test_one_address_trying_many_accounts_is_slowed_down(
    database: Database, client: Any, clock: Any
) -> None:
    """Lockout guards one account; the address limit guards against trying many of them."""
    _user(database, clock)
    for i in range(30):
        assert _login(client, f"nobody{i}", "wrong-password").status_code == 401
    refused = _login(client)
    assert refused.status_code == 429
    assert "Thử quá nhiều lần" in refused.get_data(as_text=True)
    elsewhere = client.post(
        "/login",
        data={"username": "lan", "password": PASSWORD},
        environ_overrides={"REMOTE_ADDR": "10.0.0.8"},
    )
    assert elsewhere.status_code == 302
