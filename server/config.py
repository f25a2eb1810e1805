"""Configuration, as a class, from XEPHANG_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


class Config:
    DATABASE_URL: str | None = None  # None: SQLite in the instance folder
    REDIS_URL: str | None = None
    # Redis channel the Socket.IO processes of one installation share.
    REDIS_CHANNEL: str = "xephang"
    SECRET_KEY: str | None = None
    # "threading" for tests and the CLI; `xephang serve` switches to gevent.
    ASYNC_MODE: str = "threading"
    CORS_ORIGINS: list[str] | str | None = None
    # "site" (default): the authority for its own queue, syncs to a hub once joined;
    # "hub": the province's server, receives every site's events (server.hub).
    ROLE: str = "site"

    @classmethod
    def from_env(cls) -> dict[str, Any]:
        env = os.environ
        return {
            "DATABASE_URL": env.get("XEPHANG_DATABASE_URL") or cls.DATABASE_URL,
            "REDIS_URL": env.get("XEPHANG_REDIS_URL") or cls.REDIS_URL,
            "REDIS_CHANNEL": env.get("XEPHANG_REDIS_CHANNEL") or cls.REDIS_CHANNEL,
            "SECRET_KEY": env.get("XEPHANG_SECRET_KEY") or cls.SECRET_KEY,
            "ASYNC_MODE": env.get("XEPHANG_ASYNC_MODE") or cls.ASYNC_MODE,
            "ROLE": (env.get("XEPHANG_ROLE") or cls.ROLE).strip().lower(),
            # The sync worker (a site): entries per batch, longest wait between tries,
            # how long one request to the hub may take (seconds), how many days the entries
            # the hub acknowledged stay in the outbox.
            "SYNC_BATCH": int(env.get("XEPHANG_SYNC_BATCH") or 5000),
            "SYNC_BACKOFF_MAX_S": float(env.get("XEPHANG_SYNC_BACKOFF_MAX_S") or 30.0),
            "SYNC_TIMEOUT_S": float(env.get("XEPHANG_SYNC_TIMEOUT_S") or 30.0),
            "SYNC_KEEP_DAYS": float(env.get("XEPHANG_SYNC_KEEP_DAYS") or 3.0),
            # The key of the phone numbers' hashes (numbers from home); default: from the secret.
            "PHONE_HASH_KEY": env.get("XEPHANG_PHONE_HASH_KEY") or None,
            # A hub: requests per client address through /r/<site>/ (server.hub.relay).
            "RELAY_RATE_LIMIT": rate_limit(env.get("XEPHANG_RELAY_RATE_LIMIT")),
        }


def rate_limit(value: str | None) -> str | None:
    """A Flask-Limiter limit ("600 per minute"), checked now rather than at the first request."""
    if not value:
        return None
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            f"XEPHANG_RELAY_RATE_LIMIT không hợp lệ: {value!r} (ví dụ: 600 per minute)"
        ) from None
    return value


def default_database_url(instance_path: str) -> str:
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'xephang.sqlite3'}"


def instance_secret(instance_path: str) -> str:
    """A secret key kept in the instance folder, made once, when none is configured."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
