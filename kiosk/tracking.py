"""The ticket's tracking URL: printed as a QR code, so it must never change shape."""

from __future__ import annotations

from urllib.parse import quote

TRACKING_PATH = "/t/"


def tracking_url(base_url: str, tracking_token: str) -> str:
    """``{base_url}/t/{tracking_token}``: the citizen's page for one ticket.

    Tickets already printed carry this URL, so its form is a public contract:
    the page that answers it (a later issue) must keep serving it.
    """
    base = base_url.strip().rstrip("/")
    if not base:
        raise ValueError("base_url is empty")
    return base + TRACKING_PATH + quote(tracking_token, safe="")
