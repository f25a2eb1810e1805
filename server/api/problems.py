"""Errors as application/problem+json with a stable code and a Vietnamese detail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ..engine.errors import QueueError
from ..messages import error_text, field_error_text

STATUS_BY_KIND = {"not_found": 404, "conflict": 409, "invalid": 422, "forbidden": 403}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class ApiProblem(Exception):
    def __init__(self, status: int, code: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.errors = errors


def problem(
    status: int,
    code: str,
    params: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"about:blank#{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": error_text(code, params),
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def from_http_error(err: HTTPException) -> Response:
    """Werkzeug's errors (no route, wrong method, ...) in the API's problem format."""
    status = err.code or 500
    code = HTTP_ERROR_CODES.get(status)
    if code is None:
        code = "bad_request" if status < 500 else "internal_error"
    response = problem(status, code)
    for name, value in err.get_headers():
        if name.lower() == "allow":
            response.headers["Allow"] = value
    return response


def from_queue_error(err: QueueError) -> Response:
    return problem(STATUS_BY_KIND[err.kind], err.code, err.params)


def from_validation_error(err: ValidationError) -> Response:
    errors = [
        {
            "field": ".".join(str(p) for p in e["loc"]),
            "type": e["type"],
            "message": field_error_text(e["type"], e.get("ctx")),
        }
        for e in err.errors(include_url=False, include_input=False)
    ]
    return problem(422, "validation_error", errors=errors)


def from_api_problem(err: ApiProblem) -> Response:
    response = problem(err.status, err.code, errors=err.errors)
    if err.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="xephang"'
    return response


def answer_with_problems(bp: Blueprint) -> None:
    """Make a blueprint's refusals problem+json, as the REST API's are."""
    bp.register_error_handler(ApiProblem, from_api_problem)
    bp.register_error_handler(QueueError, from_queue_error)
    bp.register_error_handler(ValidationError, from_validation_error)
