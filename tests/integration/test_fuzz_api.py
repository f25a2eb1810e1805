"""Fuzzing the REST API from its own OpenAPI document: no input gives a 5xx.

Schemathesis reads /api/v1/openapi.json from the app (in process, through
WSGI) and generates requests, valid and invalid, for every operation. The
number of cases is bounded (``CASES``), so the suite stays quick; the app runs
with ``TESTING``, so a server error surfaces as the exception itself.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from ..api_fixtures import Api, bearer
from ..factories import build_site

# Cases per generation mode; each is one in-process request.
CASES = 150


@pytest.fixture
def fuzzed(client: Any, database: Any, make_token: Any) -> tuple[Any, dict[str, str]]:
    """Site s1 with a waiting ticket (1) and one called at counter 2 (2); an admin token."""
    with database.writes() as session:
        build_site(session)
    token = make_token("admin")
    api = Api(client, token)
    api.issue("A")
    api.issue("B")
    api.act(2, "call-next")
    return client.application, bearer(token)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_from_the_openapi_document_is_a_server_error(
    fuzzed: tuple[Any, dict[str, str]], mode: GenerationMode
) -> None:
    app, headers = fuzzed
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    seen: list[int] = []

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=CASES,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        response = case.call(headers=headers)
        seen.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)

    fuzz()
    assert len(seen) >= CASES // 2  # the cases really ran
