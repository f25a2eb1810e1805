"""Rate limits on guessable secrets: pairing codes and passwords, per client address.

Account lockout stops guessing one password; these stop one address trying many
accounts or many pairing codes. Kept in Redis when the installation has it (so
every process counts together), else in this process's memory. When Redis is
configured but cannot be reached, each process counts in its own memory until
Redis answers again (Flask-Limiter's in-memory fallback, logged once per outage):
never no limit at all.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

limiter = Limiter(key_func=get_remote_address, default_limits=[])

# 8-digit codes live 24 hours: ten tries a minute from one address cannot find one.
PAIRING_ATTEMPTS = "10 per minute;100 per day"
# A whole shift logs in at 7:30 through one router: generous per minute, still no spraying.
LOGIN_ATTEMPTS = "30 per minute;300 per hour"


def init_limits(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config.get("REDIS_CHANNEL", "xephang"))
    # Redis down: count per process in memory (logged when it happens and when it ends).
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # A Redis that does not answer must not hold a login page for long.
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2}
    )
    # Should even the fallback fail, the limit is a guard, never a reason to refuse.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    app.register_error_handler(TooManyRequests, _too_many)


def _too_many(error: TooManyRequests) -> Response | tuple[str, int]:
    if request.path.startswith("/api/"):
        # Here, not at the top: the API's blueprints import the limits defined in this module.
        from .api.problems import problem

        return problem(429, "too_many_requests")
    return render_template("too_many.html"), 429
