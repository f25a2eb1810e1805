"""REST API: /api/v1/openapi.json is a valid OpenAPI 3.1 document that matches the routes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from ..api_fixtures import PREFIX, Api, assert_problem
from ..factories import build_site

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")  # public: no token
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]*:)?(\w+)>", r"{\1}", rule)


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_api_route_is_described_and_nothing_else(app: Any, spec: dict[str, Any]) -> None:
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in (rule.methods or set()) - IGNORED_METHODS
    }
    described = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert routes == described
    # The routes the issues name are among them.
    for path, method in [
        ("/sites/{site}/services", "get"),
        ("/sites/{site}/tickets", "post"),
        ("/tickets/{ticket_id}", "get"),
        ("/sites/{site}/state", "get"),
        ("/sites/{site}/tickets/{ticket_id}/requeue", "post"),
        ("/sites/{site}/tickets/{ticket_id}/cancel", "post"),
        *(
            (f"/sites/{{site}}/counters/{{n}}/{action}", "post")
            for action in (
                "call-next",
                "call",
                "recall",
                "start",
                "finish",
                "no-show",
                "transfer",
                "pause",
                "resume",
            )
        ),
        ("/openapi.json", "get"),
    ]:
        assert (PREFIX + path, method) in described


def test_operations_are_complete(spec: dict[str, Any]) -> None:
    operation_ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            operation_ids.append(op["operationId"])
            names = set(re.findall(r"{(\w+)}", path))
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == params, (path, method)
            for param in op.get("parameters", []):
                if param["name"] in ("n", "ticket_id"):
                    assert param["schema"]["type"] == "integer"
                    assert param["schema"]["maximum"] == 2**31 - 1
            if path.endswith("/openapi.json"):
                assert op["security"] == []
                continue
            # A person at the counter page, never a device: signing in, one's own figures.
            if path.endswith(("/sign-in", "/me/today")):
                assert op["security"] == [{"session": []}]
            else:
                assert op["security"] == [{"bearer": []}, {"session": []}]
            assert op["summary"] and op["description"].startswith("Roles: ")
            problems = {"401", "403"}
            if method == "post":
                problems |= {"400", "415", "422"}
                assert "requestBody" in op, (path, method)
            for status in problems:
                content = op["responses"][status]["content"]
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/ProblemOut"
                }, (path, method, status)
    assert len(operation_ids) == len(set(operation_ids))
    issue = spec["paths"][f"{PREFIX}/sites/{{site}}/tickets"]["post"]
    assert "201" in issue["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in issue["parameters"])


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/sites/{site}/tickets", "201"),
        ("/sites/{site}/counters/{n}/call-next", "200"),
        ("/sites/{site}/counters/{n}/call", "200"),
    ],
)
def test_keyed_operations_describe_the_key_and_the_replay(
    spec: dict[str, Any], path: str, status: str
) -> None:
    """Issue 9, items 1 and 15: the header, and the 200 answer a retry with it gets."""
    op = spec["paths"][PREFIX + path]["post"]
    (key,) = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and not key["required"]
    replay = op["responses"]["200"]
    assert "Idempotent-Replayed" in replay["headers"]
    assert "409" in replay["description"] and "409" in op["responses"]
    assert replay["content"] == op["responses"][status]["content"]


def test_request_schemas_refuse_unknown_fields(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("IssueTicketIn", "TicketRefIn", "CallIn", "FinishIn", "TransferIn", "RequeueIn"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["IssueTicketIn"]["required"] == ["service"]


def test_responses_conform_to_the_document(
    client: Any, database: Any, make_token: Any, spec: dict[str, Any]
) -> None:
    """Walk a ticket through its life and check every answer against its declared schema."""
    with database.writes() as session:
        build_site(session)
    api = Api(client, make_token("admin"))

    def check(method: str, path: str, template: str, json: Any = None) -> dict[str, Any]:
        response = api.get(path) if method == "get" else api.post(path, json)
        op = spec["paths"][PREFIX + template][method]
        declared = op["responses"][str(response.status_code)]
        media = "application/problem+json" if response.status_code >= 400 else "application/json"
        schema = declared["content"][media]["schema"]
        body: dict[str, Any] = response.get_json()
        validator = Draft202012Validator({**schema, "components": spec["components"]})
        errors = [e.message for e in validator.iter_errors(body)]
        assert not errors, (method, path, errors)
        return body

    counter = "/sites/{site}/counters/{n}"
    check("get", "/sites/s1/services", "/sites/{site}/services")
    check("post", "/sites/s1/counters/1/call-next", counter + "/call-next")  # 409 problem
    first = check("post", "/sites/s1/tickets", "/sites/{site}/tickets", {"service": "A"})
    second = check("post", "/sites/s1/tickets", "/sites/{site}/tickets", {"service": "A"})
    check("get", f"/tickets/{first['id']}", "/tickets/{ticket_id}")
    check("post", "/sites/s1/counters/1/call-next", counter + "/call-next")
    check("post", "/sites/s1/counters/1/recall", counter + "/recall")
    check("post", "/sites/s1/counters/1/start", counter + "/start")
    check("post", "/sites/s1/counters/1/finish", counter + "/finish", {"dossier_code": "X-1"})
    check("post", "/sites/s1/counters/1/call", counter + "/call", {"ticket_id": second["id"]})
    check("post", "/sites/s1/counters/1/no-show", counter + "/no-show")
    check(
        "post",
        f"/sites/s1/tickets/{second['id']}/requeue",
        "/sites/{site}/tickets/{ticket_id}/requeue",
    )
    check(
        "post",
        "/sites/s1/counters/1/transfer",
        counter + "/transfer",
        {"ticket_id": second["id"], "to_service": "B"},
    )
    check(
        "post",
        f"/sites/s1/tickets/{second['id']}/cancel",
        "/sites/{site}/tickets/{ticket_id}/cancel",
    )
    check("post", "/sites/s1/counters/2/pause", counter + "/pause")
    check("post", "/sites/s1/counters/2/resume", counter + "/resume")
    check("get", "/sites/s1/state", "/sites/{site}/state")
    check("post", "/sites/s1/tickets", "/sites/{site}/tickets", {"service": 5})  # 422 problem
    assert_problem(api.get("/tickets/999"), 404, "ticket_not_found")
