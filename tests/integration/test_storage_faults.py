"""A database that takes no writes answers 503 with what is wrong, not a 500 per request.

How the faults are made (the tests run as root, and root writes through chmod):
- a read-only SQLite file: the app opens it with the URI ``?mode=ro``, which is
  what SQLite does for a file it may not write (SQLITE_READONLY on a write);
- a full disk: ``PRAGMA max_page_count`` caps the database at its present size,
  so the next page SQLite needs fails with SQLITE_FULL ("database or disk is
  full"), the same error as a full filesystem, without one;
- PostgreSQL read-only: the app's sessions have ``default_transaction_read_only``
  (as on a hot standby or a database set read-only by an operator).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from server.cli import cli
from server.db import Database
from server.messages import ERRORS
from server.models import Base
from server.runtime import runtime
from server.storage import FULL, READ_ONLY, StorageWatch, storage_fault

from ..api_fixtures import PROBLEM, bearer
from ..conftest import _truncate
from ..factories import FakeClock, app_on, build_site


def _sqlite_file(tmp_path: Path) -> Path:
    path = tmp_path / "ro.sqlite3"
    db = Database(f"sqlite:///{path}")
    Base.metadata.create_all(db.engine)
    with db.writes() as session:
        build_site(session)
    db.dispose()
    return path


def _token(url: str) -> str:
    from server.tokens import create_token

    db = Database(url)
    with db.writes() as session:
        token = create_token(session, "s1", "admin")
    db.dispose()
    return token


@pytest.fixture(params=["sqlite", "postgresql"])
def read_only(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Any]:
    """(app, admin token): the app on a database it may read and never write."""
    if request.param == "sqlite":
        path = _sqlite_file(tmp_path)
        token = _token(f"sqlite:///{path}")
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        writable = str(request.getfixturevalue("pg_database"))
        _truncate(writable)
        db = Database(writable)
        with db.writes() as session:
            build_site(session)
        db.dispose()
        token = _token(writable)
        options = quote("-c default_transaction_read_only=on")
        url = make_url(writable).render_as_string(hide_password=False) + f"?options={options}"
    with app_on(url, clock) as app:
        yield app, token


def _issue(client: Any, token: str) -> Any:
    return client.post("/api/v1/sites/s1/tickets", json={"service": "A"}, headers=bearer(token))


def test_a_write_on_a_read_only_database_is_a_503_problem(read_only: Any) -> None:
    app, token = read_only
    client = app.test_client()
    response = _issue(client, token)
    assert (response.status_code, response.mimetype) == (503, PROBLEM)
    body = response.get_json()
    assert (body["code"], body["reason"]) == ("storage_unavailable", READ_ONLY)
    assert "chỉ đọc" in body["detail"] and body["detail"].startswith(
        ERRORS["storage_unavailable"].split("{")[0]
    )
    assert response.headers["Retry-After"] == "60"
    # Reading still works: the queue can be shown.
    listed = client.get("/api/v1/sites/s1/services", headers=bearer(token))
    assert listed.status_code == 200


def test_a_page_says_it_in_vietnamese_with_a_way_back(read_only: Any) -> None:
    app, _ = read_only
    response = app.test_client().post("/login", data={"username": "ai", "password": "x" * 12})
    assert (response.status_code, response.mimetype) == (503, "text/html")
    page = response.get_data(as_text=True)
    assert "không lưu được dữ liệu" in page and "chỉ đọc" in page
    assert 'href="/"' in page and "Về trang chủ" in page


def test_healthz_reports_it(read_only: Any) -> None:
    app, _ = read_only
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert response.get_json()["storage"] == READ_ONLY


def test_one_log_line_not_a_traceback_per_request(
    read_only: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, token = read_only
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            assert _issue(client, token).status_code == 503
    lines = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert len(lines) == 1 and READ_ONLY in lines[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]


def test_the_log_line_comes_again_after_a_minute_with_the_count() -> None:
    now = [0.0]
    watch = StorageWatch(clock=lambda: now[0])
    err = OSError(28, "No space left on device")
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("server.storage")
    logger.addHandler(handler)
    try:
        for second in (0, 10, 30, 59.5, 60, 61):
            now[0] = second
            watch.record(FULL, err)
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2
    assert "(0 more" in records[0] and "(3 more" in records[1]
    assert watch.recent() == FULL
    now[0] = 200
    assert watch.recent() is None


def test_a_full_disk_is_a_503_too(db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the full-disk stand-in is SQLite's page cap")
    path = _sqlite_file(tmp_path)
    url = f"sqlite:///{path}"
    token = _token(url)
    with app_on(url, clock) as app:
        engine = runtime(app).db.engine

        @event.listens_for(engine, "connect")
        def _cap(dbapi_conn: Any, _record: Any) -> None:
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

        engine.dispose()
        client = app.test_client()
        statuses = []
        for _ in range(200):  # until the tickets fill the last free page
            response = _issue(client, token)
            statuses.append(response.status_code)
            if response.status_code != 201:
                break
        assert response.status_code == 503, statuses[-3:]
        assert response.get_json()["reason"] == FULL
        assert "ổ đĩa" in response.get_json()["detail"]
        health = client.get("/healthz")
        assert (health.status_code, health.get_json()["storage"]) == (503, FULL)


def test_storage_faults_are_told_apart_from_other_errors(tmp_path: Path) -> None:
    import sqlite3

    path = _sqlite_file(tmp_path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as info:
        conn.execute("UPDATE sites SET seq = 1")
    assert storage_fault(info.value) == READ_ONLY
    with pytest.raises(sqlite3.OperationalError) as other:
        conn.execute("SELECT nothing FROM nowhere")
    assert storage_fault(other.value) is None
    conn.close()


# --- the command line ---------------------------------------------------------------


def _run(url: str, *args: str) -> Any:
    env = {"XEPHANG_DATABASE_URL": url, "XEPHANG_SECRET_KEY": "x", "XEPHANG_REDIS_URL": ""}
    return CliRunner(env=env).invoke(cli, list(args))


def test_init_on_a_read_only_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    Database(f"sqlite:///{path}").engine.connect().close()  # an empty file, no schema yet
    result = _run(f"sqlite:///file:{path}?mode=ro&uri=true", "init")
    assert result.exit_code == 1, result.output
    assert "Không ghi được cơ sở dữ liệu" in result.output and "chỉ đọc" in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)


def test_serve_on_a_read_only_file_says_so_before_serving(tmp_path: Path) -> None:
    path = tmp_path / "ready.sqlite3"
    assert _run(f"sqlite:///{path}", "init").exit_code == 0
    result = _run(f"sqlite:///file:{path}?mode=ro&uri=true", "serve", "--port", "1")
    assert result.exit_code == 1, result.output
    assert "Không ghi được cơ sở dữ liệu" in result.output and "chỉ đọc" in result.output
    assert "đang chạy" not in result.output


def test_a_read_only_postgresql_session_is_told_apart(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    from sqlalchemy.exc import DBAPIError

    db = Database(db_url)
    try:
        with db.writes() as session:
            session.execute(text("SET TRANSACTION READ ONLY"))
            with pytest.raises(DBAPIError) as info:
                session.execute(text("UPDATE sites SET seq = seq"))
    finally:
        db.dispose()
    assert storage_fault(info.value) == READ_ONLY
