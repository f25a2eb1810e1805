"""The `xephang` command: init, init --demo, token create; and the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select, update

from server.app import create_app
from server.cli import cli
from server.db import Database
from server.demo import COUNTERS, SERVICES
from server.models import ApiToken, Counter, Service, Site
from server.runtime import runtime

from ..api_fixtures import Api, assert_problem
from ..factories import FakeClock, snapshot

SUNDAY_3AM = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)  # Sun 03:00 in Asia/Ho_Chi_Minh


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def url(db_file: Path) -> str:
    return f"sqlite:///{db_file}"


@pytest.fixture
def run(url: str) -> Any:
    """Invoke the command group as `xephang ARGS` with the database URL in the environment."""
    env = {"XEPHANG_DATABASE_URL": url, "XEPHANG_SECRET_KEY": "cli-test", "XEPHANG_REDIS_URL": ""}

    def invoke(*args: str) -> Result:
        return CliRunner(env=env).invoke(cli, list(args))

    return invoke


@pytest.fixture
def database(url: str) -> Iterator[Database]:
    db = Database(url)
    yield db
    db.dispose()


def serve(url: str, clock: FakeClock | None = None) -> Any:
    """An app on the CLI's database, for checking what the CLI made against the API."""
    overrides: dict[str, Any] = {"DATABASE_URL": url, "SECRET_KEY": "x", "TESTING": True}
    if clock is not None:
        overrides["CLOCK"] = clock
    return create_app(overrides)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def printed_token(result: Result) -> str:
    """The token `token create` printed (its last line of output)."""
    return ok(result).stdout.strip().splitlines()[-1]


# --- init -------------------------------------------------------------------------------


def test_init_creates_the_schema(run: Any, database: Database, url: str) -> None:
    result = ok(run("init"))
    assert "Cơ sở dữ liệu đã sẵn sàng" in result.output
    tables = set(inspect(database.engine).get_table_names())
    assert {"sites", "services", "counters", "tickets", "ticket_events", "api_tokens"} <= tables
    assert "alembic_version" in tables
    with database.reads() as session:
        assert session.execute(select(Site)).first() is None  # no demo without --demo


def test_init_twice_changes_nothing(run: Any, database: Database) -> None:
    ok(run("init"))
    before = snapshot(database)
    ok(run("init"))
    assert snapshot(database) == before


def test_init_demo_adds_the_demo_site(run: Any, database: Database) -> None:
    result = ok(run("init", "--demo"))
    assert "Đã tạo đơn vị demo." in result.output
    with database.reads() as session:
        site = session.execute(select(Site).where(Site.code == "demo")).scalar_one()
        services = list(
            session.execute(
                select(Service).where(Service.site_id == site.id).order_by(Service.sort_order)
            ).scalars()
        )
        counters = list(
            session.execute(select(Counter).where(Counter.site_id == site.id)).scalars()
        )
    assert [s.code for s in services] == [code for code, *_ in SERVICES]
    for service in services:
        assert service.active
        assert service.sessions == []  # open at all hours
        assert service.daily_cap is None
        assert service.range_start is None and service.range_end is None  # no range cap either
    assert sorted(c.number for c in counters) == [1, 2, 3, 4, 5] == sorted(COUNTERS)
    assert all(c.active and c.status == "open" for c in counters)


def test_init_demo_again_changes_nothing(run: Any, database: Database) -> None:
    ok(run("init", "--demo"))
    before = snapshot(database)
    result = ok(run("init", "--demo"))
    assert "Đơn vị demo đã có sẵn." in result.output
    assert snapshot(database) == before
    ok(run("init"))
    assert snapshot(database) == before


def test_the_demo_is_open_at_any_hour_without_a_cap(run: Any, url: str) -> None:
    ok(run("init", "--demo"))
    kiosk = printed_token(run("token", "create", "--site", "demo", "--role", "kiosk"))
    app = serve(url, FakeClock(SUNDAY_3AM))
    try:
        api = Api(app.test_client(), kiosk, site="demo")
        services = api.get("/sites/demo/services").get_json()["services"]
        assert {s["code"] for s in services} == {code for code, *_ in SERVICES}
        for service in services:
            assert (service["state"], service["open"], service["daily_cap"]) == ("open", True, None)
        for code, *_ in SERVICES:
            assert api.issue(code)["status"] == "waiting"
    finally:
        runtime(app).db.dispose()


# --- token create ---------------------------------------------------------------------------


def test_token_create_prints_a_token_that_works(run: Any, url: str, database: Database) -> None:
    ok(run("init", "--demo"))
    result = ok(run("token", "create", "--site", "demo", "--role", "clerk", "--counter", "1"))
    assert result.stdout.count("xph_") == 1
    token = printed_token(result)
    assert token.startswith("xph_") and " " not in token
    with database.reads() as session:
        row = session.execute(select(ApiToken)).scalar_one()
    assert (row.role, row.counter_number) == ("clerk", 1)
    assert token not in row.token_hash  # only a digest is stored

    kiosk = printed_token(run("token", "create", "--site", "demo", "--role", "kiosk"))
    app = serve(url)
    try:
        client = app.test_client()
        Api(client, kiosk, site="demo").issue("HT")
        clerk = Api(client, token, site="demo")
        called = clerk.act(1, "call-next")
        assert (called["service"], called["counter"]) == ("HT", 1)
        assert_problem(clerk.post("/sites/demo/counters/2/call-next"), 403, "forbidden")
    finally:
        runtime(app).db.dispose()


@pytest.mark.parametrize("role", ["admin", "manager", "clerk", "kiosk", "display"])
def test_token_create_for_each_role(run: Any, database: Database, role: str) -> None:
    ok(run("init", "--demo"))
    token = printed_token(run("token", "create", "--site", "demo", "--role", role))
    assert token.startswith("xph_")
    with database.reads() as session:
        row = session.execute(select(ApiToken)).scalar_one()
    assert (row.role, row.counter_number) == (role, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "demo", "--role", "boss"], "boss"),
        (["--site", "demo"], "--role"),
        (["--role", "admin"], "--site"),
        (["--site", "nowhere", "--role", "admin"], "Không tìm thấy đơn vị “nowhere”."),
        (
            ["--site", "demo", "--role", "kiosk", "--counter", "1"],
            "Chỉ mã truy cập của cán bộ hoặc máy đánh giá mới gắn với một quầy.",
        ),
        (["--site", "demo", "--role", "clerk", "--counter", "9"], "Không tìm thấy quầy số 9."),
        (["--site", "demo", "--role", "clerk", "--counter", "0"], "--counter"),
        (["--site", "demo", "--role", "clerk", "--counter", "-1"], "--counter"),
        (["--site", "demo", "--role", "clerk", "--counter", str(2**31)], "--counter"),
        (["--site", "demo", "--role", "clerk", "--counter", "one"], "--counter"),
    ],
)
def test_token_create_refusals(run: Any, database: Database, args: list[str], message: str) -> None:
    ok(run("init", "--demo"))
    result = run("token", "create", *args)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.output
    assert "xph_" not in result.output
    with database.reads() as session:
        assert session.execute(select(ApiToken)).first() is None


def test_token_create_before_init_says_so(run: Any) -> None:
    result = run("token", "create", "--site", "demo", "--role", "admin")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "xephang init" in result.output


# --- the installed console script -------------------------------------------------------------


def test_the_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "xephang"
    assert script.exists(), f"{script} missing: run `pip install -e .[dev]`"
    env = {**os.environ, "XEPHANG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    for command in ("init", "serve", "demo", "token"):
        assert command in result.stdout
    assert "xếp hàng" in result.stdout


def test_the_demo_signs_its_clerks_in_so_waits_are_estimated(run: Any, database: Database) -> None:
    """Issue 9, item 5: estimates count staffed counters only; the demo's are staffed."""
    from server import engine
    from server.demo import demo_staff_passwords, staff_demo_counters
    from server.engine.unit_of_work import UnitOfWork
    from server.engine.views import site_by_code
    from server.models import Counter, User

    ok(run("init", "--demo"))
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    with database.writes() as session:
        demo_staff_passwords(session, now)
    with database.writes() as session:  # someone already works at counter 2
        canbo1 = session.scalar(select(User.id).where(User.username == "canbo1"))
        session.execute(update(Counter).where(Counter.number == 2).values(clerk_id=canbo1))
        session.commit()
    uow = lambda: UnitOfWork(database.writes, clock=lambda: now)  # noqa: E731
    assert staff_demo_counters(database.reads, uow) == [3, 4, 5]
    assert staff_demo_counters(database.reads, uow) == []  # a second run changes nothing
    with database.reads() as session:
        services = engine.services_overview(session, site_by_code(session, "demo"), now)
    assert services and all(s["estimated_wait_s"] == 0 for s in services)


def test_the_demo_staff_get_a_fresh_password_each_run(run: Any, database: Database) -> None:
    """No built-in password: each demo run sets and prints new ones, and they log in."""
    from server.accounts.services import authenticate
    from server.demo import DEMO_STAFF, demo_staff_passwords
    from server.models import User

    ok(run("init", "--demo"))
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    with database.writes() as session:
        first = demo_staff_passwords(session, now)
    with database.writes() as session:
        second = demo_staff_passwords(session, now)
        users = session.execute(select(User.username, User.role).where(User.role != "admin")).all()
    assert set(first) == {username for username, _, _ in DEMO_STAFF}
    assert all(first[name] != second[name] and len(second[name]) >= 10 for name in first)
    assert sorted(users) == sorted((name, role) for name, _, role in DEMO_STAFF)
    with database.writes() as session, session.begin():
        assert not authenticate(session, "canbo1", first["canbo1"], now, "").ok
        assert authenticate(session, "canbo1", second["canbo1"], now, "").ok
