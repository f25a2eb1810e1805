"""Pairing a device by a one-time code, listing tokens and revoking them (SQLite, PostgreSQL)."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from server.cli import cli
from server.db import Database
from server.devices import SESSION_KEY
from server.engine.errors import QueueError
from server.messages import error_text
from server.models import ApiToken, PairingCode
from server.pairing_codes import (
    cancel_pairing_code,
    create_pairing_code,
    list_tokens,
    redeem_pairing_code,
    revoke_token,
)
from server.timeutil import utcnow
from server.tokens import resolve_token

from ..api_fixtures import Api, assert_problem
from ..factories import build_site

CODE = re.compile(r"^\d{4}-\d{4}$")


@pytest.fixture
def site(database: Database) -> None:
    with database.writes() as s:
        build_site(s)


def make_code(database: Database, clock: Any, role: str = "display", **kwargs: Any) -> str:
    with database.writes() as s:
        return create_pairing_code(s, "s1", role, now=clock(), **kwargs)


def redeem(database: Database, code: str, now: Any) -> str:
    with database.writes() as s:
        return redeem_pairing_code(s, code, now)


def refusal(database: Database, code: str, now: Any) -> QueueError:
    with pytest.raises(QueueError) as caught:
        redeem(database, code, now)
    return caught.value


# --- the codes --------------------------------------------------------------------------------


def test_a_code_is_short_stored_as_a_digest_and_gives_its_device_token_once(
    database: Database, site: None, clock: Any
) -> None:
    code = make_code(
        database, clock, "kiosk", label="Sảnh A", settings={"printer": "none", "paper": 58}
    )
    assert CODE.match(code)
    with database.reads() as s:
        row = s.execute(select(PairingCode)).scalar_one()
    assert row.code_hash == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert row.expires_at == clock() + timedelta(hours=24)
    assert row.used_at is None and row.token_id is None

    clock.advance(hours=1)
    raw = redeem(database, code.replace("-", " "), clock())  # typed with a space: still the code
    with database.reads() as s:
        principal = resolve_token(s, raw)
        token = s.get(ApiToken, principal.token_id) if principal else None
        row = s.execute(select(PairingCode)).scalar_one()
    assert principal is not None and token is not None
    assert (principal.role, principal.site_code, principal.counter) == ("kiosk", "s1", None)
    assert (token.label, token.settings) == ("Sảnh A", {"printer": "none", "paper": 58})
    assert row.used_at == clock() and row.token_id == principal.token_id

    again = refusal(database, code, clock())
    assert again.code == "pairing_code_used"
    assert error_text(again.code) == "Mã kết nối này đã được sử dụng. Vui lòng xin mã mới."


def test_a_clerk_code_keeps_its_counter(database: Database, site: None, clock: Any) -> None:
    raw = redeem(database, make_code(database, clock, "clerk", counter=2), clock())
    with database.reads() as s:
        principal = resolve_token(s, raw)
    assert principal is not None and (principal.role, principal.counter) == ("clerk", 2)


def test_an_expired_or_unknown_code_is_refused(database: Database, site: None, clock: Any) -> None:
    code = make_code(database, clock, ttl=timedelta(minutes=10))
    late = clock() + timedelta(minutes=10)
    expired = refusal(database, code, late)
    assert expired.code == "pairing_code_expired"
    assert error_text(expired.code) == "Mã kết nối đã hết hạn. Vui lòng xin mã mới."
    for wrong in ("0000-0000" if code != "0000-0000" else "1111-1111", "12-34", "abcd-efgh", ""):
        unknown = refusal(database, wrong, clock())
        assert unknown.code == "pairing_code_not_found"
    assert (
        error_text("pairing_code_not_found") == "Mã kết nối không đúng. Vui lòng kiểm tra lại mã."
    )
    with database.reads() as s:
        assert s.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 0
        assert s.execute(select(PairingCode.used_at)).scalar_one() is None


def code_row(database: Database) -> PairingCode:
    with database.reads() as s:
        return s.execute(select(PairingCode).order_by(PairingCode.id.desc()).limit(1)).scalar_one()


def cancel(database: Database, code_id: int, now: Any, site_id: int | None = None) -> bool:
    with database.writes() as s:
        row = s.get(PairingCode, code_id)
        return cancel_pairing_code(s, site_id or (row.site_id if row else 1), code_id, now)


def test_a_cancelled_code_pairs_nothing(database: Database, site: None, clock: Any) -> None:
    code = make_code(database, clock)
    pending = code_row(database)
    clock.advance(minutes=5)
    assert cancel(database, pending.id, clock()) is True
    assert code_row(database).expires_at == clock()
    assert refusal(database, code, clock()).code == "pairing_code_expired"
    assert refusal(database, code, clock() + timedelta(hours=1)).code == "pairing_code_expired"
    # Again: it had already expired, nothing changes.
    clock.advance(minutes=5)
    assert cancel(database, pending.id, clock()) is False
    assert code_row(database).expires_at == clock() - timedelta(minutes=5)
    with database.reads() as s:
        assert s.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 0


def test_a_used_unknown_or_other_sites_code_cannot_be_cancelled(
    database: Database, site: None, clock: Any
) -> None:
    with database.writes() as s:
        build_site(s, "s2")
    code = make_code(database, clock)
    used = code_row(database)
    redeem(database, code, clock())
    with database.writes() as s:
        create_pairing_code(s, "s2", "display", now=clock())
    other = code_row(database)  # s2's
    assert other.site_id != used.site_id
    for code_id in (used.id, 9999, other.id):
        with pytest.raises(QueueError) as caught:
            cancel(database, code_id, clock(), site_id=used.site_id)
        assert (caught.value.code, caught.value.kind) == ("pairing_code_not_found", "not_found")
    assert code_row(database).expires_at == other.expires_at


def test_a_cancel_left_to_the_caller_is_undone_by_a_rollback(
    database: Database, site: None, clock: Any
) -> None:
    code = make_code(database, clock)
    pending = code_row(database)
    with database.writes() as s:
        assert cancel_pairing_code(s, pending.site_id, pending.id, clock(), commit=False)
        s.rollback()
    assert code_row(database).expires_at == pending.expires_at
    assert redeem(database, code, clock())


@pytest.mark.parametrize(
    ("role", "kwargs", "code"),
    [
        ("boss", {}, "invalid_role"),
        ("kiosk", {"counter": 1}, "counter_only_for_clerk"),
        ("clerk", {"counter": 9}, "counter_not_found"),
    ],
)
def test_a_code_that_could_not_pair_is_not_made(
    database: Database, site: None, clock: Any, role: str, kwargs: dict[str, Any], code: str
) -> None:
    with pytest.raises(QueueError) as caught:
        make_code(database, clock, role, **kwargs)
    assert caught.value.code == code
    with database.reads() as s:
        assert s.execute(select(PairingCode)).first() is None


def test_two_devices_typing_one_code_at_once_get_one_token(
    database: Database, site: None, clock: Any
) -> None:
    code = make_code(database, clock)
    start = threading.Barrier(6)
    tokens: list[str] = []
    refused: list[str] = []

    def device() -> None:
        start.wait()
        try:
            tokens.append(redeem(database, code, clock()))
        except QueueError as err:
            refused.append(err.code)

    threads = [threading.Thread(target=device) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 1 and refused == ["pairing_code_used"] * 5
    with database.reads() as s:
        assert s.execute(select(func.count()).select_from(ApiToken)).scalar_one() == 1


# --- the /pair page ---------------------------------------------------------------------------


def test_the_form_asks_for_the_code_first(database: Database, site: None, client: Any) -> None:
    page = client.get("/pair").get_data(as_text=True)
    assert 'name="code"' in page and 'name="csrf_token"' in page
    assert page.index("Mã kết nối") < page.index("Mã truy cập")
    assert "Pairing code" in client.get("/pair?lang=en").get_data(as_text=True)


def test_a_code_typed_into_the_form_pairs_the_device_once(
    database: Database, site: None, app: Any, clock: Any
) -> None:
    code = make_code(database, clock)
    first = app.test_client()
    response = first.post("/pair", data={"code": code, "next": "/display/counter/1"})
    assert response.status_code == 302 and response.headers["Location"] == "/display/counter/1"
    with first.session_transaction() as session:
        kept = session[SESSION_KEY]
    with database.reads() as s:
        principal = resolve_token(s, kept)
        assert principal is not None and principal.role == "display"
        assert s.execute(select(PairingCode.token_id)).scalar_one() == principal.token_id

    second = app.test_client()
    response = second.post("/pair", data={"code": code})
    assert response.status_code == 400
    assert "Mã kết nối này đã được sử dụng" in response.get_data(as_text=True)
    with second.session_transaction() as session:
        assert SESSION_KEY not in session
    english = second.post("/pair?lang=en", data={"code": "0000-000"}).get_data(as_text=True)
    assert "This pairing code is not right" in english


def test_a_code_in_the_link_fills_the_form_and_only_the_post_spends_it(
    database: Database, site: None, client: Any, clock: Any
) -> None:
    code = make_code(database, clock, "kiosk", settings={"printer": "none"})
    # A chat app previewing the link fetches it with GET: that must not use the code up.
    for _ in range(2):
        page = client.get("/pair", query_string={"code": code})
        assert page.status_code == 200 and f'value="{code}"' in page.get_data(as_text=True)
    assert client.get("/kiosk/").status_code == 302  # not paired yet
    response = client.post("/pair", data={"code": code})
    assert response.status_code == 302 and response.headers["Location"] == "/kiosk/"
    assert client.get("/kiosk/").status_code == 200


def test_guessing_pairing_codes_is_slowed_down(
    database: Database, site: None, client: Any, clock: Any
) -> None:
    """Ten wrong codes a minute from one address, then 429 — even for a right code."""
    for _ in range(10):
        assert client.post("/pair", data={"code": "0000-0000"}).status_code == 400
    code = make_code(database, clock, "kiosk")
    refused = client.post("/pair", data={"code": code})
    assert refused.status_code == 429
    assert "Thử quá nhiều lần" in refused.get_data(as_text=True)
    other_address = client.post(
        "/pair", data={"code": code}, environ_overrides={"REMOTE_ADDR": "10.0.0.7"}
    )
    assert other_address.status_code == 302  # the code was not spent by the refused try


# --- revocation -------------------------------------------------------------------------------


def revoke_all(database: Database, clock: Any) -> None:
    with database.writes() as s:
        for row in list_tokens(s, "s1"):
            revoke_token(s, row.id, clock())


def test_a_revoked_token_cannot_read_the_api(
    database: Database, site: None, client: Any, clock: Any
) -> None:
    raw = redeem(database, make_code(database, clock), clock())
    api = Api(client, raw)
    assert api.get("/sites/s1/state").status_code == 200
    revoke_all(database, clock)
    assert_problem(api.get("/sites/s1/state"), 401, "unauthorized")


def test_a_revoked_token_cannot_open_device_pages(
    database: Database, site: None, client: Any, clock: Any
) -> None:
    client.post("/pair", data={"code": make_code(database, clock, "display")})
    assert client.get("/display/").status_code == 200
    revoke_all(database, clock)
    response = client.get("/display/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/pair?next=")
    # and the old token does not pair a browser again
    with client.session_transaction() as session:
        raw = session[SESSION_KEY]
    assert client.post("/pair", data={"token": raw}).status_code == 401


def test_a_revoked_token_cannot_connect_and_is_cut_off_at_its_next_sync(
    database: Database, site: None, app: Any, clock: Any
) -> None:
    socketio = app.extensions["socketio"]
    raw = redeem(database, make_code(database, clock), clock())
    connected = socketio.test_client(app, auth={"token": raw})
    assert connected.is_connected()
    connected.emit("sync")
    assert [m["name"] for m in connected.get_received()] == ["state", "state"]

    revoke_all(database, clock)
    refused = socketio.test_client(app, auth={"token": raw})
    assert not refused.is_connected()
    connected.emit("sync")
    assert not connected.is_connected()


def test_revoking_twice_keeps_the_first_time_and_an_unknown_token_is_refused(
    database: Database, site: None, clock: Any, make_token: Any
) -> None:
    make_token("display")
    revoke_all(database, clock)
    first = clock()
    clock.advance(minutes=5)
    revoke_all(database, clock)
    with database.writes() as s:
        assert [row.revoked_at for row in list_tokens(s, "s1")] == [first]
        with pytest.raises(QueueError) as caught:
            revoke_token(s, 999, clock())
    assert (
        error_text(caught.value.code, caught.value.params) == "Không tìm thấy mã truy cập số 999."
    )


# --- the commands -----------------------------------------------------------------------------


@pytest.fixture
def run(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    env = {"XEPHANG_DATABASE_URL": url, "XEPHANG_SECRET_KEY": "cli-test", "XEPHANG_REDIS_URL": ""}

    def invoke(*args: str) -> Result:
        return CliRunner(env=env).invoke(cli, list(args))

    invoke.url = url  # type: ignore[attr-defined]
    return invoke


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_device_code_prints_a_code_that_pairs_a_kiosk_with_its_printer(run: Any) -> None:
    ok(run("init", "--demo"))
    args = ["device", "code", "--site", "demo", "--role", "kiosk", "--label", "Sảnh"]
    result = ok(run(*args, "--printer", "none", "--paper", "58"))
    lines = result.stdout.strip().splitlines()
    assert CODE.match(lines[0]) and lines[1].startswith("Hết hạn lúc ")
    assert "xph_" not in result.stdout
    db = Database(run.url)
    try:
        with db.writes() as s:
            raw = redeem_pairing_code(s, lines[0], utcnow())
            token = s.execute(select(ApiToken)).scalar_one()
        assert raw.startswith("xph_")
        assert (token.role, token.label, token.settings) == (
            "kiosk",
            "Sảnh",
            {"printer": "none", "paper": 58},
        )
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "display", "--printer", "none"], "kiosk"),
        (
            ["--role", "kiosk", "--counter", "1"],
            "Chỉ mã truy cập của cán bộ hoặc máy đánh giá mới gắn với một quầy.",
        ),
        (["--role", "clerk", "--counter", "9"], "Không tìm thấy quầy số 9."),
        (["--role", "admin"], "--role"),
    ],
)
def test_device_code_refusals(run: Any, args: list[str], message: str) -> None:
    ok(run("init", "--demo"))
    result = run("device", "code", "--site", "demo", *args)
    assert result.exit_code != 0 and message in result.output
    assert not re.search(r"\d{4}-\d{4}\n", result.output)


def test_token_list_and_revoke(run: Any) -> None:
    ok(run("init", "--demo"))
    ok(run("token", "create", "--site", "demo", "--role", "display", "--label", "Sảnh"))
    ok(run("token", "create", "--site", "demo", "--role", "clerk", "--counter", "2"))
    listed = ok(run("token", "list", "--site", "demo")).stdout.strip().splitlines()
    rows = [line.split("\t") for line in listed[1:]]
    assert [row[:4] for row in rows] == [["1", "display", "-", "Sảnh"], ["2", "clerk", "2", "-"]]
    assert [row[5] for row in rows] == ["-", "-"]

    assert "1" in ok(run("token", "revoke", "1")).stdout
    listed = ok(run("token", "list", "--site", "demo")).stdout.strip().splitlines()
    rows = [line.split("\t") for line in listed[1:]]
    assert rows[0][5] != "-" and rows[1][5] == "-"
    missing = run("token", "revoke", "99")
    assert missing.exit_code != 0 and "Không tìm thấy mã truy cập số 99." in missing.output
    unknown = run("token", "list", "--site", "nowhere")
    assert unknown.exit_code != 0 and "Không tìm thấy đơn vị “nowhere”." in unknown.output


def test_the_form_works_with_csrf_checks_on(
    database: Database, site: None, db_url: str, clock: Any
) -> None:
    from server.app import create_app
    from server.runtime import runtime

    app = create_app(
        {
            "DATABASE_URL": db_url,
            "CLOCK": clock,
            "ASYNC_MODE": "threading",
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "WTF_CSRF_ENABLED": True,
        }
    )
    try:
        client = app.test_client()
        code = make_code(database, clock)
        assert client.post("/pair", data={"code": code}).status_code == 400  # no CSRF token
        form = client.get("/pair").get_data(as_text=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert found is not None
        response = client.post("/pair", data={"code": code, "csrf_token": found[1]})
        assert response.status_code == 302 and response.headers["Location"] == "/display/"
    finally:
        runtime(app).db.dispose()
