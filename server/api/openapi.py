"""The OpenAPI description, assembled from the routes as they are declared."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .schemas import ProblemOut


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    roles: tuple[str, ...]
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    problems: tuple[int, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    operation_id: str = ""
    # Only for a staff member logged in on a page (session cookie + X-CSRFToken), not tokens.
    staff_page: bool = False
    # The query string's parameters, described by a model's fields (aliases are the names).
    query: type[BaseModel] | None = None
    # Other media types the success answer may have (a file instead of JSON).
    files: tuple[str, ...] = ()


OPERATIONS: list[Operation] = []


# A Werkzeug rule variable: <name>, <converter:name> or <converter(args):name>.
VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


def _openapi_path(flask_path: str) -> str:
    return VARIABLE.sub(lambda m: "{" + m["name"] + "}", flask_path)


def _path_schema(converter: str | None, args: str | None) -> dict[str, Any]:
    if converter != "int":
        return {"type": "string"}
    schema: dict[str, Any] = {"type": "integer", "minimum": 0}
    upper = re.search(r"max=(\d+)", args or "")
    if upper:
        schema["maximum"] = int(upper[1])
    return schema


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for m in VARIABLE.finditer(op.path):
        params.append(
            {
                "name": m["name"],
                "in": "path",
                "required": True,
                "schema": _path_schema(m["converter"], m["args"]),
            }
        )
    if op.query is not None:
        schema = op.query.model_json_schema(mode="validation")
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            described = {k: v for k, v in prop.items() if k not in ("title", "description")}
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "description": prop.get("description", ""),
                    "schema": described,
                }
            )
    for name, description in op.headers.items():
        params.append(
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": description,
                "schema": {"type": "string"},
            }
        )
    return params


IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "“true” khi đây là câu trả lời lại cho một yêu cầu trước với cùng "
        "Idempotency-Key (không có gì thay đổi)",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _describe_replay(responses: dict[str, Any], status: str) -> None:
    """A request sent again with its Idempotency-Key gets 200 and what the first one made."""
    replay = {
        **responses[status],
        "description": "Gửi lại với cùng Idempotency-Key (và cùng nội dung): trả lại đúng kết "
        "quả của lần đầu, có header Idempotent-Replayed; cùng khóa với nội dung khác: 409",
        "headers": REPLAYED,
    }
    if status == "200":
        responses[status] = {**replay, "description": "OK; " + replay["description"]}
    else:
        responses["200"] = replay


def build_spec(prefix: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ProblemOut}
    for op in OPERATIONS:
        models.update(m for m in (op.body, op.response) if m is not None)
    _, schemas = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    problem_ref = {"$ref": "#/components/schemas/ProblemOut"}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {
            str(op.status): {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}
                    }
                }
                if op.response
                else {},
            }
        }
        if IDEMPOTENCY_KEY in op.headers:
            _describe_replay(responses, str(op.status))
        for media in op.files:
            responses[str(op.status)]["content"][media] = {
                "schema": {"type": "string", "format": "binary"}
            }
        body_problems = (400, 415, 422) if op.body else ()
        for status in sorted({401, 403, *op.problems, *body_problems}):
            responses[str(status)] = {
                "description": "Problem",
                "content": {"application/problem+json": {"schema": problem_ref}},
            }
        entry: dict[str, Any] = {
            "summary": op.summary,
            "description": "Roles: "
            + ", ".join(op.roles)
            + ("; chỉ từ trang cán bộ đã đăng nhập" if op.staff_page else ""),
            "parameters": _parameters(op),
            "responses": responses,
            "security": [{"session": []}] if op.staff_page else [{"bearer": []}, {"session": []}],
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}
                    }
                },
            }
        if op.operation_id:
            entry["operationId"] = op.operation_id
        paths.setdefault(prefix + _openapi_path(op.path), {})[op.method.lower()] = entry
    paths[prefix + "/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "Mô tả API này (OpenAPI 3.1)",
            "security": [],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "xephang API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # A logged-in staff page; its writes also send the X-CSRFToken header.
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }
