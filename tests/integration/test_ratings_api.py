"""REST API and page of the rating tablet: only the tablet of the counter may post a rating."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select, update

from server.api.schemas import RatingOut
from server.engine import QueueError
from server.models import ApiToken, Counter, Rating, Site, User
from server.tokens import create_token

from ..api_fixtures import Api, assert_problem
from ..factories import HCM_MORNING, FakeClock, build_site, snapshot

RATING = "/sites/s1/counters/{n}/rating"


@pytest.fixture
def api(client: Any, database: Any, make_token: Any) -> Api:
    """Site s1: counters 1 and 2 serve A; an admin token drives the counters."""
    with database.writes() as session:
        build_site(session, counters={1: {"A": 1}, 2: {"A": 1}})
    return Api(client, make_token("admin"))


def finished(api: Api, clock: FakeClock, counter: int = 1) -> dict[str, Any]:
    api.issue("A")
    called = api.act(counter, "call-next")
    clock.advance(minutes=4)
    return api.act(counter, "finish", {"ticket_id": called["id"], "dossier_code": "HS-1"})


def stored(database: Any) -> list[Rating]:
    with database.reads() as session:
        return list(session.execute(select(Rating)).scalars())


def test_the_tablet_of_the_counter_rates_its_finished_ticket(
    api: Api, clock: FakeClock, database: Any, make_token: Any
) -> None:
    tablet = make_token("tablet", counter=1)
    ticket = finished(api, clock)
    response = api.post(
        RATING.format(n=1),
        {"ticket_id": ticket["id"], "score": 1, "reasons": ["slow"]},
        token=tablet,
    )
    assert response.status_code == 201, response.get_json()
    body = RatingOut.model_validate(response.get_json())
    assert (body.ticket_id, body.counter, body.score, body.scale, body.reasons) == (
        ticket["id"],
        1,
        1,
        4,
        ["slow"],
    )
    [rating] = stored(database)
    assert rating.dossier_code == "HS-1"
    with database.reads() as session:
        token_id = session.execute(
            select(ApiToken.id).where(ApiToken.role == "tablet")
        ).scalar_one()
    assert rating.device_id == token_id

    again = api.post(RATING.format(n=1), {"ticket_id": ticket["id"], "score": 4}, token=tablet)
    assert_problem(again, 409, "already_rated")


@pytest.mark.parametrize("role", ["display", "kiosk", "clerk", "admin", "manager"])
def test_no_other_role_may_post_a_rating(
    api: Api, clock: FakeClock, database: Any, make_token: Any, role: str
) -> None:
    ticket = finished(api, clock)
    token = make_token(role, counter=1 if role == "clerk" else None)
    response = api.post(RATING.format(n=1), {"ticket_id": ticket["id"], "score": 4}, token=token)
    assert_problem(response, 403, "forbidden")
    assert stored(database) == []


def test_the_tablet_of_another_counter_is_refused(
    api: Api, clock: FakeClock, database: Any, make_token: Any
) -> None:
    ticket = finished(api, clock, counter=1)
    other = make_token("tablet", counter=2)
    for n in (1, 2):
        response = api.post(
            RATING.format(n=n), {"ticket_id": ticket["id"], "score": 4}, token=other
        )
        if n == 1:
            assert_problem(response, 403, "forbidden")
        else:  # its own counter did not finish that ticket
            assert_problem(response, 409, "rating_not_allowed")
    assert stored(database) == []


def test_a_tablet_of_another_site_is_refused(
    api: Api, clock: FakeClock, database: Any, make_token: Any
) -> None:
    with database.writes() as session:
        build_site(session, code="s2")
    ticket = finished(api, clock)
    foreign = make_token("tablet", site="s2", counter=1)
    response = api.post(RATING.format(n=1), {"ticket_id": ticket["id"], "score": 4}, token=foreign)
    assert_problem(response, 403, "forbidden")
    assert stored(database) == []


def test_without_a_token_it_is_unauthorized(api: Api, clock: FakeClock, database: Any) -> None:
    ticket = finished(api, clock)
    response = api.client.post(
        "/api/v1" + RATING.format(n=1), json={"ticket_id": ticket["id"], "score": 4}
    )
    assert_problem(response, 401, "unauthorized")
    assert stored(database) == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"ticket_id": 1}, 422, "validation_error"),
        ({"score": 4}, 422, "validation_error"),
        ({"ticket_id": "1", "score": 4}, 422, "validation_error"),
        ({"ticket_id": 1, "score": "4"}, 422, "validation_error"),
        ({"ticket_id": 1, "score": 0}, 422, "validation_error"),
        ({"ticket_id": 1, "score": 4, "reasons": ["nope"]}, 422, "validation_error"),
        ({"ticket_id": 1, "score": 4, "extra": True}, 422, "validation_error"),
        ({"ticket_id": 2**40, "score": 4}, 422, "validation_error"),
        ([1, 2], 422, "validation_error"),
    ],
)
def test_bad_input_is_a_problem(
    api: Api, clock: FakeClock, database: Any, make_token: Any, body: Any, status: int, code: str
) -> None:
    tablet = make_token("tablet", counter=1)
    finished(api, clock)
    before = snapshot(database)
    assert_problem(api.post(RATING.format(n=1), body, token=tablet), status, code)
    assert snapshot(database) == before


def test_rules_of_the_engine_become_problems(
    api: Api, clock: FakeClock, database: Any, make_token: Any
) -> None:
    tablet = make_token("tablet", counter=1)
    ticket = finished(api, clock)
    post = lambda body: api.post(RATING.format(n=1), body, token=tablet)  # noqa: E731
    assert_problem(post({"ticket_id": ticket["id"], "score": 5}), 422, "invalid_score")
    problem = assert_problem(
        post({"ticket_id": ticket["id"], "score": 4, "reasons": ["slow"]}),
        422,
        "reasons_need_low_score",
    )
    assert "hài lòng" in problem["detail"]
    assert_problem(post({"ticket_id": 999_999, "score": 4}), 404, "ticket_not_found")
    clock.advance(minutes=11)
    assert_problem(post({"ticket_id": ticket["id"], "score": 4}), 409, "rating_not_allowed")
    assert stored(database) == []


def test_rating_is_in_the_openapi_description(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/sites/{site}/counters/{n}/rating"]["post"]
    assert "201" in operation["responses"]


# --- tablet tokens --------------------------------------------------------------------------


def test_a_tablet_token_must_name_an_existing_counter(database: Any) -> None:
    with database.writes() as session:
        build_site(session)
        with pytest.raises(QueueError) as err:
            create_token(session, "s1", "tablet")
        assert err.value.code == "counter_required_for_tablet"
        with pytest.raises(QueueError) as err:
            create_token(session, "s1", "tablet", counter=9)
        assert err.value.code == "counter_not_found"
        assert create_token(session, "s1", "tablet", counter=2).startswith("xph_")
        with pytest.raises(QueueError) as err:
            create_token(session, "s1", "display", counter=2)
        assert err.value.code == "counter_only_for_clerk"


def test_a_tablet_reads_its_sites_state(api: Api, make_token: Any) -> None:
    tablet = make_token("tablet", counter=1)
    assert api.get("/sites/s1/state", token=tablet).status_code == 200
    assert_problem(api.post("/sites/s1/counters/1/call-next", token=tablet), 403, "forbidden")
    assert_problem(api.post("/sites/s1/tickets", {"service": "A"}, token=tablet), 403, "forbidden")


# --- the tablet page ---------------------------------------------------------------------------


def boot_of(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="xephang-boot" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, html
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_an_unpaired_browser_is_sent_to_pair(client: Any, api: Api) -> None:
    response = client.get("/rate/")
    assert response.status_code == 302
    assert "/pair" in response.headers["Location"]


@pytest.mark.parametrize("role", ["display", "kiosk"])
def test_other_devices_do_not_get_the_tablet_page(
    client: Any, api: Api, make_token: Any, role: str
) -> None:
    client.get("/pair", query_string={"token": make_token(role)})
    response = client.get("/rate/")
    assert response.status_code == 302
    assert "/pair" in response.headers["Location"]


def test_pairing_a_tablet_lands_on_its_page(client: Any, api: Api, make_token: Any) -> None:
    response = client.get("/pair", query_string={"token": make_token("tablet", counter=1)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/rate/")
    page = client.get("/rate/")
    assert page.status_code == 200
    boot = boot_of(page.get_data(as_text=True))
    assert boot["counter"] == {"number": 1, "name": "Quầy 1"}
    assert boot["clerk"] is None
    assert boot["scale"] == 4
    assert [(lv["score"], lv["label"]) for lv in boot["levels"]] == [
        (4, "Rất hài lòng"),
        (3, "Hài lòng"),
        (2, "Bình thường"),
        (1, "Không hài lòng"),
    ]
    assert [lv["low"] for lv in boot["levels"]] == [False, False, False, True]
    assert [r["code"] for r in boot["reasons"]][0] == "waited_long"
    assert boot["reasons"][0]["label"] == "Chờ lâu"


@pytest.mark.parametrize("scale", [3, 5])
def test_the_page_follows_the_sites_scale(
    client: Any, api: Api, database: Any, make_token: Any, scale: int
) -> None:
    with database.writes() as session:
        session.execute(update(Site).values(rating_scale=scale))
        session.commit()
    client.get("/pair", query_string={"token": make_token("tablet", counter=1)})
    boot = boot_of(client.get("/rate/").get_data(as_text=True))
    assert [lv["score"] for lv in boot["levels"]] == list(range(scale, 0, -1))


def test_the_clerks_name_and_photo_are_data_not_markup(
    client: Any, api: Api, database: Any, make_token: Any
) -> None:
    evil = '<img src=x onerror="alert(1)"></script><script>alert(2)</script>'
    with database.writes() as session:
        user = User(
            username="x",
            full_name=evil,
            password_hash="x",
            role="clerk",
            photo_url="javascript:alert(3)",
            created_at=HCM_MORNING,
        )
        session.add(user)
        session.flush()
        session.execute(update(Counter).where(Counter.number == 1).values(clerk_id=user.id))
        session.commit()
    client.get("/pair", query_string={"token": make_token("tablet", counter=1)})
    html = client.get("/rate/").get_data(as_text=True)
    assert "<script>alert(2)" not in html
    assert 'onerror="alert' not in html
    boot = boot_of(html)
    assert boot["clerk"] == {"name": evil, "photo_url": None}


def test_the_page_speaks_english_on_request(client: Any, api: Api, make_token: Any) -> None:
    client.get("/pair", query_string={"token": make_token("tablet", counter=1)})
    boot = boot_of(client.get("/rate/?lang=en").get_data(as_text=True))
    assert boot["levels"][0]["label"] == "Very satisfied"
    assert boot["reasons"][0]["label"] == "Long wait"
    assert boot["texts"]["send"] == "Send"
