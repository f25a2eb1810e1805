"""REST API: bad input is a 4xx application/problem+json and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from server.messages import ERRORS, FIELD_ERRORS

from ..api_fixtures import PREFIX, PROBLEM, Api, assert_problem, bearer
from ..factories import build_site, snapshot


@pytest.fixture
def api(client: Any, database: Any, make_token: Any) -> Api:
    """Site s1 with a waiting A ticket (id 1) and a B ticket called at counter 2 (id 2)."""
    with database.writes() as session:
        build_site(session)
    api = Api(client, make_token("admin"))
    api.issue("A")
    api.issue("B")
    api.act(2, "call-next")
    return api


TICKETS = "/sites/s1/tickets"
COUNTER = "/sites/s1/counters/1"

# (path, JSON body, status, code): each sent as a POST with a correct JSON content type.
BAD_BODIES: list[tuple[str, Any, int, str]] = [
    # unknown fields
    (TICKETS, {"service": "A", "extra": 1}, 422, "validation_error"),
    (TICKETS, {"service": "A", "Priority": "elderly"}, 422, "validation_error"),
    (f"{COUNTER}/finish", {"dossier": "H01"}, 422, "validation_error"),
    (f"{COUNTER}/call-next", {"ticket_id": 1}, 422, "validation_error"),
    (f"{COUNTER}/pause", {"reason": "lunch"}, 422, "validation_error"),
    (f"{COUNTER}/resume", {"x": None}, 422, "validation_error"),
    ("/sites/s1/tickets/1/cancel", {"why": "test"}, 422, "validation_error"),
    # missing or wrong types
    (TICKETS, {}, 422, "validation_error"),
    (TICKETS, {"service": None}, 422, "validation_error"),
    (TICKETS, {"service": 7}, 422, "validation_error"),
    (TICKETS, {"service": ["A"]}, 422, "validation_error"),
    (TICKETS, {"service": "A", "priority": 1}, 422, "validation_error"),
    (TICKETS, {"service": "A", "priority": True}, 422, "validation_error"),
    (TICKETS, ["A"], 422, "validation_error"),
    (TICKETS, "A", 422, "validation_error"),
    (TICKETS, 1, 422, "validation_error"),
    (f"{COUNTER}/call", {"ticket_id": "1"}, 422, "validation_error"),
    (f"{COUNTER}/call", {"ticket_id": 1.0}, 422, "validation_error"),
    (f"{COUNTER}/call", {"ticket_id": True}, 422, "validation_error"),
    (f"{COUNTER}/call", {"ticket_id": None}, 422, "validation_error"),
    (f"{COUNTER}/transfer", {"to_counter": "2"}, 422, "validation_error"),
    (f"{COUNTER}/finish", {"dossier_code": 123}, 422, "validation_error"),
    ("/sites/s1/tickets/2/requeue", {"position": 0}, 422, "validation_error"),
    # values out of range
    (f"{COUNTER}/call", {"ticket_id": -1}, 422, "validation_error"),
    (f"{COUNTER}/call", {"ticket_id": 0}, 422, "validation_error"),
    (f"{COUNTER}/call", {"ticket_id": 2**31}, 422, "validation_error"),
    (f"{COUNTER}/call", {"ticket_id": 10**30}, 422, "validation_error"),
    (f"{COUNTER}/recall", {"ticket_id": -5}, 422, "validation_error"),
    (f"{COUNTER}/transfer", {"to_counter": -2}, 422, "validation_error"),
    (f"{COUNTER}/transfer", {"to_counter": 10**12}, 422, "validation_error"),
    (TICKETS, {"service": "A", "priority": "vip"}, 422, "validation_error"),
    ("/sites/s1/tickets/2/requeue", {"position": "middle"}, 422, "validation_error"),
    # strings: empty, too long, control characters
    (TICKETS, {"service": ""}, 422, "validation_error"),
    (TICKETS, {"service": "   "}, 422, "validation_error"),
    (TICKETS, {"service": "A" * 41}, 422, "validation_error"),
    (TICKETS, {"service": "A" * 10_000}, 422, "validation_error"),
    # NUL (which PostgreSQL refuses in text) is refused at the door, before the body is read
    (TICKETS, {"service": "A\u0000"}, 400, "invalid_text"),
    (TICKETS, {"service\u0000": "A"}, 400, "invalid_text"),
    (TICKETS, {"service": "A\nB"}, 422, "validation_error"),
    (f"{COUNTER}/transfer", {"to_service": "B\u0000"}, 400, "invalid_text"),
    (f"{COUNTER}/transfer", {"to_service": "B" * 41}, 422, "validation_error"),
    (f"{COUNTER}/finish", {"dossier_code": "H" * 65}, 422, "validation_error"),
    (f"{COUNTER}/finish", {"dossier_code": ""}, 422, "validation_error"),
    # unknown things
    (TICKETS, {"service": "ZZ"}, 404, "service_not_found"),
    (TICKETS, {"service": "a"}, 404, "service_not_found"),
    (f"{COUNTER}/call", {"ticket_id": 99}, 404, "ticket_not_found"),
    (f"{COUNTER}/transfer", {"ticket_id": 1, "to_counter": 99}, 404, "counter_not_found"),
    ("/sites/s1/counters/99/call-next", {}, 404, "counter_not_found"),
]


def test_bad_bodies_are_refused_without_a_change(api: Api, database: Any) -> None:
    before = snapshot(database)
    for path, body, status, code in BAD_BODIES:
        case = f"POST {path} {body!r}"[:120]
        try:
            problem = assert_problem(api.post(path, body), status, code)
        except AssertionError as err:
            raise AssertionError(f"{case}: {err}") from None
        if code == "validation_error":
            assert problem["errors"], case
            for error in problem["errors"]:
                assert set(error) == {"field", "type", "message"}, case
                assert error["type"] in FIELD_ERRORS, (case, error)  # a Vietnamese message
        assert snapshot(database) == before, case


def test_validation_errors_name_the_field(api: Api) -> None:
    problem = assert_problem(
        api.post(TICKETS, {"service": "A", "colour": "red"}), 422, "validation_error"
    )
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("colour", "extra_forbidden")]
    assert problem["errors"][0]["message"] == "Trường này không được hỗ trợ."
    problem = assert_problem(api.post(TICKETS, {"service": "A" * 41}), 422, "validation_error")
    assert problem["errors"] == [
        {"field": "service", "type": "string_too_long", "message": "Tối đa 40 ký tự."}
    ]
    assert problem["detail"] == ERRORS["validation_error"]
    problem = assert_problem(api.post(f"{COUNTER}/call", {}), 422, "validation_error")
    assert problem["errors"] == [
        {"field": "ticket_id", "type": "missing", "message": "Thiếu trường bắt buộc."}
    ]


RAW_BODIES: list[tuple[bytes, str, int, str]] = [
    (b"{", "application/json", 400, "invalid_json"),
    (b"{'service': 'A'}", "application/json", 400, "invalid_json"),
    (b'{"service": "A",}', "application/json", 400, "invalid_json"),
    (b"\xff\xfe\x00garbage", "application/json", 400, "invalid_json"),
    (b"[" * 100_000, "application/json", 400, "invalid_json"),
    (b"null", "application/json", 422, "validation_error"),
    # a lone surrogate: no database encodes it (UnicodeEncodeError in the driver before)
    (b'{"service": "A\\ud800"}', "application/json", 400, "invalid_text"),
    (b'{"service": "A\\u0000"}', "application/problem+json", 400, "invalid_text"),
    # the door reads the raw body first: every way of writing those two is seen
    (b'{"service": "A\\uDBFF"}', "application/json", 400, "invalid_text"),
    (b'{"A\\udc00": "A"}', "application/json", 400, "invalid_text"),
    (b'{"service": "A\xed\xa0\x80"}', "application/json", 400, "invalid_text"),
    ('{"service": "A\\u0000"}'.encode("utf-16"), "application/json", 400, "invalid_text"),
    (b"service=A", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b'{"service": "A"}', "text/plain", 415, "unsupported_media_type"),
    (b'{"service": "A"}', "", 415, "unsupported_media_type"),
]


def test_bodies_that_are_not_json_are_refused(api: Api, database: Any) -> None:
    before = snapshot(database)
    for raw, content_type, status, code in RAW_BODIES:
        case = f"{content_type or 'no type'} {raw[:20]!r}"
        headers = {**bearer(api.token), "Content-Type": content_type}
        response = api.client.post(f"{PREFIX}{TICKETS}", data=raw, headers=headers)
        try:
            assert_problem(response, status, code)
        except AssertionError as err:
            raise AssertionError(f"{case}: {err}") from None
    assert snapshot(database) == before


def test_json_content_type_variants_are_accepted(api: Api) -> None:
    for content_type in ("application/json; charset=utf-8", "application/problem+json"):
        headers = {**bearer(api.token), "Content-Type": content_type}
        response = api.client.post(f"{PREFIX}{TICKETS}", data=b'{"service":"A"}', headers=headers)
        assert response.status_code == 201, response.get_json()


def test_an_empty_body_means_no_parameters(api: Api) -> None:
    """Counter actions without parameters accept no body at all, whatever its type says."""
    headers = {**bearer(api.token), "Content-Type": "text/plain"}
    response = api.client.post(f"{PREFIX}{COUNTER}/call-next", data=b"", headers=headers)
    assert response.status_code == 200
    response = api.client.post(f"{PREFIX}{COUNTER}/recall", data=b"  \n", headers=headers)
    assert response.status_code == 200


BAD_PATH_IDS = [
    "/tickets/-1",
    "/tickets/1.5",
    "/tickets/abc",
    "/tickets/2147483648",
    "/tickets/99999999999999999999",
    "/sites/s1/counters/-1/call-next",
    "/sites/s1/counters/2147483648/call-next",
    "/sites/s1/tickets/-1/cancel",
    "/sites/s1/tickets/99999999999999999999/requeue",
]


def test_path_ids_that_are_not_in_range_are_404(api: Api, database: Any) -> None:
    before = snapshot(database)
    for path in BAD_PATH_IDS:
        method = api.get if path.startswith("/tickets") else api.post
        try:
            assert_problem(method(path), 404, "not_found")
        except AssertionError as err:
            raise AssertionError(f"{path}: {err}") from None
    assert snapshot(database) == before


def test_the_largest_id_is_a_normal_miss(api: Api) -> None:
    assert_problem(api.get("/tickets/2147483647"), 404, "ticket_not_found")
    response = api.post("/sites/s1/counters/2147483647/call-next")
    assert_problem(response, 404, "counter_not_found")


# --- unknown URLs and methods -------------------------------------------------------------


def test_unknown_api_urls_are_404_problems(api: Api) -> None:
    paths = ["/api/v1", "/api/v1/", "/api/v1/nope", "/api/v1/sites/s1", "/api/v1/sites/s1/bogus"]
    for path in paths:
        for headers in ({}, bearer(api.token)):
            assert_problem(api.client.get(path, headers=headers), 404, "not_found")


def test_unknown_urls_outside_the_api_keep_the_html_page(client: Any) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype != PROBLEM


WRONG_METHODS = [
    ("DELETE", "/api/v1/sites/s1/services", "GET"),
    ("POST", "/api/v1/sites/s1/state", "GET"),
    ("PUT", "/api/v1/tickets/1", "GET"),
    ("GET", "/api/v1/sites/s1/counters/1/call-next", "POST"),
    ("GET", "/api/v1/sites/s1/tickets", "POST"),
    ("PATCH", "/api/v1/sites/s1/tickets/1/cancel", "POST"),
    ("POST", "/api/v1/openapi.json", "GET"),
]


def test_wrong_methods_are_405_problems(api: Api, database: Any) -> None:
    before = snapshot(database)
    for method, path, allowed in WRONG_METHODS:
        response = api.client.open(path, method=method, headers=bearer(api.token))
        assert_problem(response, 405, "method_not_allowed")
        assert allowed in response.headers["Allow"], (method, path)
    assert snapshot(database) == before


def test_an_unexpected_failure_is_a_500_problem(app: Any, api: Api, monkeypatch: Any) -> None:
    from server import engine

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(engine, "call_next", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    problem = assert_problem(api.post(f"{COUNTER}/call-next"), 500, "internal_error")
    assert "database" not in problem["detail"]  # no internals leak to the client
