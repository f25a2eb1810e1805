"""The OpenAPI description, assembled from the routes as they are declared."""

from __future__ import annotations

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


OPERATIONS: list[Operation] = []


def _openapi_path(flask_path: str) -> str:
    return flask_path.replace("<int:", "<").replace("<", "{").replace(">", "}")


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for part in op.path.split("/"):
        if part.startswith("<"):
            typ = "integer" if part.startswith("<int:") else "string"
            name = part.strip("<>").split(":")[-1]
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": typ}})
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
        for status in sorted({401, 403, *op.problems, *((422,) if op.body else ())}):
            responses[str(status)] = {
                "description": "Problem",
                "content": {"application/problem+json": {"schema": problem_ref}},
            }
        entry: dict[str, Any] = {
            "summary": op.summary,
            "description": "Roles: " + ", ".join(op.roles),
            "parameters": _parameters(op),
            "responses": responses,
            "security": [{"bearer": []}],
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
        paths.setdefault(prefix + _openapi_path(op.path), {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "xephang API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
