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
