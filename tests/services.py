"""Where the external services of the tests are, and whether they must be there (CI)."""

from __future__ import annotations

import os
import socket

import pytest

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "XEPHANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("XEPHANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    """Skip when a service is missing, except under CI=true, where that is a failure."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


def require_postgres() -> None:
    require("PostgreSQL", "127.0.0.1", 5432)


def require_redis() -> None:
    require("Redis", "127.0.0.1", 6379)
