"""The phone's pages over HTTP: the ticket page in every status, a wrong token, rating from the
phone, and taking a number from home (the form, the limits per phone and per address).
SQLite and PostgreSQL; the page's own script is tried in Chromium (test_phone_browser.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from server import engine
from server.engine.remote import check_in
from server.models import Counter, Rating, RemotePhone, Service, Site, Ticket
from server.runtime import runtime
from server.tokens import create_token

from ..factories import FakeClock, ServiceSpec, app_on, build_site
from ..factories import issue_in as issue

BOOT = re.compile(r'<script type="application/json" id="phone-data">(.*?)</script>', re.S)


@pytest.fixture
def app(db_url: str, clock: FakeClock) -> Iterator[Flask]:
    """s1 (A: cap 20, B) takes numbers from home and ratings from the phone; counters 1, 2."""
    from server.db import Database

    db = Database(db_url)
    with db.writes() as s:
        build_site(
            s, services=[ServiceSpec("A", name="Hộ tịch", cap=20), ServiceSpec("B")], staffed=True
        )
        site = s.execute(select(Site)).scalar_one()
        site.remote_enabled = True
        site.phone_rating = True
        for service in s.execute(select(Service)).scalars():
            service.remote_enabled = True
        s.commit()
    db.dispose()
    with app_on(db_url, clock, REMOTE_RATE_LIMIT="5 per minute") as app:
        yield app


def page(app: Flask, token: str, lang: str = "") -> tuple[int, str, dict[str, Any]]:
    response = app.test_client().get(f"/t/{token}" + (f"?lang={lang}" if lang else ""))
    html = response.get_data(as_text=True)
    found = BOOT.search(html)
    boot = json.loads(found.group(1)) if found else {}
    return response.status_code, html, boot


def test_a_waiting_ticket_shows_the_people_ahead_the_wait_and_soon(app: Flask) -> None:
    for _ in range(4):
        issue(app)
    last = issue(app)  # A005: four ahead
    status, html, boot = page(app, last["tracking_token"])
    assert status == 200
    view = boot["view"]
    assert view["ticket"]["status"] == "waiting" and view["ticket"]["number"] == "A005"
    assert view["ticket"]["people_ahead"] == 4 and view["ticket"]["estimated_wait_s"] == 1200
    assert view["soon_threshold"] == 3 and view["today"] is True
    assert view["site"]["name"] == "Site s1" and view["waiting"] == {"A": 5, "B": 0}
    assert "A005" in html and "Hộ tịch" in html and "Đang chờ đến lượt" in html
    assert boot["texts"]["soon"].startswith("Sắp đến lượt")
    assert boot["poll_ms"] == 15000  # polling, when it comes to that, at most every 15 s


def test_the_response_is_private(app: Flask) -> None:
    response = app.test_client().get(f"/t/{issue(app)['tracking_token']}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " on" + "click=" not in html  # no inline script
    assert "https://" not in html and "http://" not in html.split("phone-data")[0]


def _at(app: Flask, status: str) -> dict[str, Any]:
    """A ticket brought to ``status`` through the engine (counter 1 serves A)."""
    rt = runtime(app)
    ticket = issue(app)
    if status in ("called", "serving", "done", "no_show"):
        engine.call_next(rt.uow(), "s1", 1)
    if status in ("serving", "done"):
        engine.start(rt.uow(), "s1", 1)
    if status == "done":
        engine.finish(rt.uow(), "s1", 1)
    if status == "no_show":
        engine.no_show(rt.uow(), "s1", 1)
    if status == "cancelled":
        engine.cancel(rt.uow(), "s1", ticket["id"])
    if status == "transferred":
        engine.transfer(rt.uow(), "s1", ticket["id"], to_service="B")
    return ticket


@pytest.mark.parametrize(
    ("status", "shown", "headline"),
    [
        ("called", "called", "Mời bạn đến quầy 1"),
        ("serving", "serving", "Đang được phục vụ tại quầy 1"),
        ("done", "done", "Đã giải quyết xong. Cảm ơn bạn!"),
        ("no_show", "no_show", "Bạn đã vắng mặt: đến quầy 1 để được gọi lại"),
        ("cancelled", "cancelled", "Số này đã bị hủy"),
        ("transferred", "waiting", "Đang chờ đến lượt"),
    ],
)
def test_each_status_on_the_page(app: Flask, status: str, shown: str, headline: str) -> None:
    ticket = _at(app, status)
    code, html, boot = page(app, ticket["tracking_token"])
    assert code == 200
    assert boot["view"]["ticket"]["status"] == shown
    assert f'data-status="{shown}"' in html and headline in html
    if status == "transferred":
        assert boot["view"]["action"] == "transferred"
        assert boot["view"]["ticket"]["service"] == "B"
    if status == "done":
        assert boot["view"]["rating"] == {
            "enabled": True,
            "allowed": True,
            "rated": False,
            "scale": 4,
            "window_s": 600,
        }
        assert [level["score"] for level in boot["levels"]] == [4, 3, 2, 1]


def test_a_past_days_ticket(app: Flask, clock: FakeClock) -> None:
    ticket = _at(app, "called")
    clock.advance(days=1)
    _code, _html, boot = page(app, ticket["tracking_token"])
    assert boot["view"]["today"] is False
    assert boot["view"]["ticket"]["business_day"] == "2026-11-23"
    assert boot["view"]["rating"]["allowed"] is False


def test_a_number_from_home_shows_its_check_in_code_and_qr(app: Flask, database: Any) -> None:
    issue(app)
    response = app.test_client().post("/s/s1", data={"service": "A", "phone": "0912345678"})
    token = response.headers["Location"].rsplit("/", 1)[1]
    _code, html, boot = page(app, token)
    view = boot["view"]
    assert view["ticket"]["status"] == "remote"
    with database.reads() as s:
        code = s.execute(select(Ticket.check_in_code).where(Ticket.tracking_token == token))
        check_in_code = code.scalar_one()
    assert view["check_in"] == {"code": check_in_code, "waiting": 1, "estimated_wait_s": 300}
    assert check_in_code in html and '<path class="qr-ink" d="M' in html
    check_in(runtime(app).uow(), "s1", code=check_in_code)
    _code, _html, boot = page(app, token)
    assert boot["view"]["ticket"]["status"] == "waiting" and boot["view"]["check_in"] is None
    assert boot["view"]["action"] == "checked_in"


@pytest.mark.parametrize("token", ["nope", "A" * 22, "x" * 70, "..%2F..%2Fadmin", "<script>"])
def test_a_wrong_token_gets_the_vietnamese_404_page(app: Flask, token: str) -> None:
    issue(app)
    client = app.test_client()
    response = client.get(f"/t/{token}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Không tìm thấy phiếu số thứ tự này." in html and 'lang="vi"' in html
    live = client.get(f"/t/{token}/live")
    assert live.status_code == 404
    if "%2F" not in token:  # one path segment: the polling answer, as JSON
        assert live.get_json()["code"] == "ticket_not_found"
    english = client.get(f"/t/{token}?lang=en").get_data(as_text=True)
    assert "This queue ticket was not found." in english


def test_a_token_with_nul_bytes_is_refused_in_vietnamese(app: Flask) -> None:
    # the input guard answers before the page: bad input, not a missing ticket
    response = app.test_client().get("/t/%00%00")
    assert response.status_code == 400
    assert 'lang="vi"' in response.get_data(as_text=True)


def test_the_page_in_english(app: Flask) -> None:
    _code, html, boot = page(app, _at(app, "called")["tracking_token"], lang="en")
    assert "Please go to counter 1" in html
    assert boot["texts"]["called"] == "Please go to counter {counter}" and boot["lang"] == "en"


# --- rating from the phone ------------------------------------------------------------------


def rate(app: Flask, token: str, body: Any) -> Any:
    return app.test_client().post(f"/t/{token}/rating", json=body)


def test_the_phone_rates_once_tied_to_the_counter_and_the_clerk(
    app: Flask, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from werkzeug.security import generate_password_hash

    from server.accounts import services
    from server.accounts.services import create_user

    monkeypatch.setattr(
        services, "hash_password", lambda p: generate_password_hash(p, "pbkdf2:sha256:1000")
    )
    with database.writes() as s, s.begin():
        clerk = create_user(
            s, "lan", "clerk", "mat-khau-dai-lam-1", runtime(app).clock(), site_codes=("s1",)
        )
        clerk_id = clerk.id
    engine.sign_in(runtime(app).uow(), "s1", 1, clerk_id, take_over=True)
    ticket = _at(app, "done")
    response = rate(app, ticket["tracking_token"], {"score": 1, "reasons": ["waited_long"]})
    assert response.status_code == 201, response.get_json()
    with database.reads() as s:
        rating = s.execute(select(Rating)).scalar_one()
        assert (rating.ticket_id, rating.score, rating.reasons) == (
            ticket["id"],
            1,
            ["waited_long"],
        )
        assert rating.clerk_id == clerk_id and rating.device_id is None
        assert rating.counter_id == s.get(Ticket, ticket["id"]).counter_id
    again = rate(app, ticket["tracking_token"], {"score": 4})
    assert again.status_code == 409 and again.get_json()["code"] == "already_rated"
    _code, _html, boot = page(app, ticket["tracking_token"])
    assert boot["view"]["rating"]["rated"] is True and boot["view"]["rating"]["allowed"] is False


def test_no_phone_rating_after_the_tablets(app: Flask) -> None:
    with runtime(app).db.writes() as s:
        tablet = create_token(s, "s1", "tablet", 1)
    ticket = _at(app, "done")
    rated = app.test_client().post(
        "/api/v1/sites/s1/counters/1/rating",
        json={"ticket_id": ticket["id"], "score": 4},
        headers={"Authorization": f"Bearer {tablet}"},
    )
    assert rated.status_code == 201
    _code, _html, boot = page(app, ticket["tracking_token"])
    assert boot["view"]["rating"]["allowed"] is False
    response = rate(app, ticket["tracking_token"], {"score": 1})
    assert response.status_code == 409 and response.get_json()["code"] == "already_rated"


@pytest.mark.parametrize(
    ("setup", "body", "status", "code"),
    [
        ("waiting", {"score": 4}, 409, "rating_not_allowed"),
        ("late", {"score": 4}, 409, "rating_not_allowed"),
        ("off", {"score": 4}, 409, "phone_rating_off"),
        ("done", {"score": 9}, 400, "validation_error"),
        ("done", {"score": 5}, 400, "invalid_score"),
        ("done", {"score": 4, "reasons": ["slow"]}, 400, "reasons_need_low_score"),
        ("done", {"score": "4"}, 400, "validation_error"),
        ("done", None, 400, "validation_error"),
    ],
)
def test_phone_ratings_follow_the_tablets_rules(
    app: Flask, database: Any, clock: FakeClock, setup: str, body: Any, status: int, code: str
) -> None:
    ticket = _at(app, "waiting" if setup == "waiting" else "done")
    if setup == "late":
        clock.advance(minutes=11)
    if setup == "off":
        with database.writes() as s:
            s.execute(select(Site)).scalar_one().phone_rating = False
            s.commit()
    response = rate(app, ticket["tracking_token"], body)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    with database.reads() as s:
        assert s.execute(select(Rating)).first() is None


def test_a_wrong_token_rates_nothing(app: Flask) -> None:
    _at(app, "done")
    response = rate(app, "x" * 22, {"score": 4})
    assert response.status_code == 404


# --- taking a number from home --------------------------------------------------------------


def take(client: Any, **form: str) -> Any:
    return client.post("/s/s1", data={"service": "A", "phone": "0912345678", **form})


def test_the_remote_page_lists_the_services_taking_numbers_from_home(
    app: Flask, database: Any
) -> None:
    issue(app)
    with database.writes() as s:
        s.execute(select(Service).where(Service.code == "B")).scalar_one().remote_enabled = False
        s.commit()
    response = app.test_client().get("/s/s1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="A"' in html and 'value="B"' not in html
    assert "Đang chờ: 1" in html and "Chờ khoảng 5 phút" in html
    assert "tối đa 2 số mỗi ngày" in html and 'type="tel"' in html
    assert "xóa sau 30 ngày" in html


def test_with_no_clerk_signed_in_the_phone_says_no_counter_serves_yet(
    app: Flask, database: Any
) -> None:
    """Issue 9, item 5: never "Không phải chờ" (nor a time) with no one to call."""
    with database.writes() as s:
        s.execute(update(Counter).values(clerk_id=None))
        s.commit()
    ticket = engine.issue_ticket(runtime(app).uow(), "s1", "A").ticket
    status, _html, boot = page(app, ticket["tracking_token"])
    assert status == 200
    view = boot["view"]["ticket"]
    assert (view["people_ahead"], view["estimated_wait_s"]) == (0, None)
    html = app.test_client().get("/s/s1").get_data(as_text=True)
    assert "Chưa có quầy nào đang phục vụ lĩnh vực này" in html
    assert "Không phải chờ" not in html


def test_taking_a_number_lands_on_its_page(app: Flask, database: Any) -> None:
    client = app.test_client()
    response = take(client, key="form-key-123456")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/t/")
    assert client.get(location).status_code == 200
    # The same form sent again (a double tap): the same ticket.
    assert take(client, key="form-key-123456").headers["Location"] == location
    with database.reads() as s:
        ticket = s.execute(select(Ticket)).scalar_one()
        assert ticket.channel == "remote" and ticket.status == "remote"
        assert s.execute(select(RemotePhone.taken)).scalar_one() == 1


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"phone": "12345"}, 400, "Số điện thoại không hợp lệ"),
        ({"phone": ""}, 400, "Số điện thoại không hợp lệ"),
        ({"service": "ZZ"}, 409, "Không tìm thấy lĩnh vực “ZZ”."),
        ({"service": "<b>"}, 400, "Không tìm thấy lĩnh vực"),
        ({"service": ""}, 400, "Không tìm thấy lĩnh vực"),
    ],
)
def test_a_wrong_form_is_refused_with_a_vietnamese_message(
    app: Flask, database: Any, form: dict[str, str], status: int, message: str
) -> None:
    response = take(app.test_client(), **form)
    html = response.get_data(as_text=True)
    assert response.status_code == status and message in html
    assert "<b>" not in html.split('id="error"')[1][:200]  # what was typed stays text
    with database.reads() as s:
        assert s.execute(select(Ticket)).first() is None


def test_the_per_phone_limit_on_the_page(app: Flask) -> None:
    client = app.test_client()
    assert take(client).status_code == 303
    assert take(client, service="B").status_code == 303
    refused = take(client, phone="+84 912 345 678")
    assert refused.status_code == 409
    assert "Mỗi số điện thoại chỉ được lấy 2 số mỗi ngày." in refused.get_data(as_text=True)
    assert 'value="+84 912 345 678"' in refused.get_data(as_text=True)  # kept for a retry


def test_the_per_address_limit(app: Flask, database: Any) -> None:
    client = app.test_client()
    for n in range(5):  # the test app allows 5 a minute from one address
        assert take(client, phone=f"090000000{n}").status_code == 303
    limited = take(client, phone="0900000009")
    assert limited.status_code == 429
    assert "Thử quá nhiều lần" in limited.get_data(as_text=True)
    other = app.test_client()
    assert (
        other.post(
            "/s/s1",
            data={"service": "A", "phone": "0900000008"},
            environ_base={"REMOTE_ADDR": "10.0.0.7"},
        ).status_code
        == 303
    )
    with database.reads() as s:
        assert len(s.execute(select(Ticket)).all()) == 6


def test_a_site_without_numbers_from_home(app: Flask, database: Any) -> None:
    with database.writes() as s:
        s.execute(select(Site)).scalar_one().remote_enabled = False
        s.commit()
    html = app.test_client().get("/s/s1").get_data(as_text=True)
    assert "Đơn vị này chưa nhận lấy số từ xa." in html and "<form" not in html
    refused = take(app.test_client())
    assert refused.status_code == 409
    assert "Đơn vị này chưa nhận lấy số từ xa." in refused.get_data(as_text=True)
    missing = app.test_client().get("/s/khong-co")
    assert missing.status_code == 404 and "Không tìm thấy đơn vị này." in missing.get_data(
        as_text=True
    )
