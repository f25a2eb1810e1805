"""Helpers for the REST API tests: a small client wrapper and problem checks."""

from __future__ import annotations

from typing import Any

from server.messages import ERRORS

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """The Flask test client, speaking to /api/v1 with one token unless told otherwise."""

    def __init__(self, client: Any, token: str, site: str = "s1") -> None:
        self.client = client
        self.token = token
        self.site = site

    def _headers(self, token: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        return {**bearer(token or self.token), **(headers or {})}

    def get(self, path: str, *, token: str | None = None, **kwargs: Any) -> Any:
        headers = self._headers(token, kwargs.pop("headers", None))
        return self.client.get(PREFIX + path, headers=headers, **kwargs)

    def post(self, path: str, json: Any = None, *, token: str | None = None, **kwargs: Any) -> Any:
        headers = self._headers(token, kwargs.pop("headers", None))
        if json is not None:
            kwargs["json"] = json
        return self.client.post(PREFIX + path, headers=headers, **kwargs)

    # --- shortcuts that expect success -------------------------------------------

    def issue(self, service: str = "A", **fields: Any) -> dict[str, Any]:
        response = self.post(f"/sites/{self.site}/tickets", {"service": service, **fields})
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def act(
        self, counter: int, action: str, json: Any = None, *, expect: int = 200, **kwargs: Any
    ) -> dict[str, Any]:
        response = self.post(f"/sites/{self.site}/counters/{counter}/{action}", json, **kwargs)
        assert response.status_code == expect, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        response = self.get(f"/tickets/{ticket_id}")
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with the stable code and a Vietnamese detail from the catalog."""
    body = response.get_json(force=True)
    assert response.status_code == status, body
    assert response.mimetype == PROBLEM, response.mimetype
    assert body["status"] == status
    assert body["code"] == code, body
    assert code in ERRORS, f"{code} has no Vietnamese message in server/messages.py"
    detail = body["detail"]
    assert isinstance(detail, str) and detail
    assert any(ord(ch) > 127 for ch in detail), f"detail is not Vietnamese: {detail!r}"
    if code != "internal_error":
        assert detail != ERRORS["internal_error"]
    assert body["title"] and body["type"].endswith(code)
    result: dict[str, Any] = body
    return result
