"""What an installation chooses for its tickets: its public address and the footer.

Read from the app's configuration first (``PUBLIC_URL``, ``TICKET_FOOTER``),
then from the environment (``XEPHANG_PUBLIC_URL``, ``XEPHANG_TICKET_FOOTER``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

PUBLIC_URL_ENV = "XEPHANG_PUBLIC_URL"
FOOTER_ENV = "XEPHANG_TICKET_FOOTER"


def _setting(
    config: Mapping[str, Any], key: str, env_name: str, env: Mapping[str, str]
) -> str | None:
    value = str(config.get(key) or env.get(env_name) or "").strip()
    return value or None


def public_url(config: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> str | None:
    """The address citizens' phones reach the server at; the QR code's URL starts with it."""
    return _setting(config, "PUBLIC_URL", PUBLIC_URL_ENV, env)


def ticket_footer(config: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> str | None:
    """The footer text (one paragraph per line); ``None`` keeps the default footer."""
    value = config.get("TICKET_FOOTER") or env.get(FOOTER_ENV)
    return str(value).replace("\\n", "\n") if value else None
