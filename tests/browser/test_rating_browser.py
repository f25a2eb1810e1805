"""The rating tablet in real Chromium (Debian's /usr/bin/chromium, Playwright).

A tablet is paired for counter 1; the counter finishes a ticket through the API; the tablet
shows the rating buttons for that ticket; a tap stores the rating; a low rating asks for the
reasons first. Names are written as text (a clerk's name with markup stays text).

``XEPHANG_SCREENSHOTS=1`` also writes docs/rating-tablet.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from server.models import Counter, Rating, User

from ..api_fixtures import bearer
from ..factories import HCM_MORNING, build_site
from ..live import EVENT_WAIT_S, served_in_thread, wait_until

pytestmark = pytest.mark.slow

WAIT_MS = EVENT_WAIT_S * 1000
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def base_url(app: Any) -> Iterator[str]:
    """The app served by werkzeug in a thread (Socket.IO in threading mode)."""
    with served_in_thread(app) as url:
        yield url


@pytest.fixture
def hall(database: Any, make_token: Any) -> dict[str, str]:
    """Site s1 with a clerk signed in at counter 1 (one at counter 2 whose name has markup)."""
    with database.writes() as s:
        build_site(s, counters={1: {"A": 1}, 2: {"A": 1}})
        for number, username, name in (
            (1, "lan", "Nguyễn Thị Lan"),
            (2, "evil", "<b>Bình</b><img src=x onerror=alert(1)>"),
        ):
            user = User(
                username=username,
                full_name=name,
                password_hash="x",
                role="clerk",
                created_at=HCM_MORNING,
            )
            s.add(user)
            s.flush()
            s.execute(update(Counter).where(Counter.number == number).values(clerk_id=user.id))
        s.commit()
    return {
        "admin": make_token("admin"),
        "tablet": make_token("tablet", counter=1),
        "tablet2": make_token("tablet", counter=2),
    }


def serve_one(app: Any, token: str, counter: int = 1, dossier: str = "HS-001") -> dict[str, Any]:
    """Issue a ticket, call it and finish it at the counter, through the REST API."""
    client = app.test_client()
    headers = bearer(token)
    issued = client.post("/api/v1/sites/s1/tickets", json={"service": "A"}, headers=headers)
    assert issued.status_code == 201, issued.get_json()
    called = client.post(f"/api/v1/sites/s1/counters/{counter}/call-next", headers=headers)
    assert called.status_code == 200, called.get_json()
    done = client.post(
        f"/api/v1/sites/s1/counters/{counter}/finish",
        json={"ticket_id": called.get_json()["id"], "dossier_code": dossier},
        headers=headers,
    )
    assert done.status_code == 200, done.get_json()
    body: dict[str, Any] = done.get_json()
    return body


def ratings(database: Any) -> list[Rating]:
    with database.reads() as s:
        return list(s.execute(select(Rating).order_by(Rating.id)).scalars())


def open_tablet(page: Any, base_url: str, token: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})  # a 10-inch tablet, landscape
    page.goto(f"{base_url}/pair?token={token}")
    page.wait_for_url(f"{base_url}/rate/")
    page.wait_for_selector("body[data-connected='true']", timeout=WAIT_MS)


def test_the_tablet_shows_the_buttons_after_finish_and_stores_the_rating(
    app: Any, database: Any, hall: dict[str, str], base_url: str, page: Any
) -> None:
    open_tablet(page, base_url, hall["tablet"])
    assert page.locator("#idle").is_visible()
    assert page.locator("#counter-name").inner_text() == "Quầy 1"
    assert page.locator("#clerk-name").inner_text() == "Nguyễn Thị Lan"
    assert page.locator("#rating").is_hidden()

    ticket = serve_one(app, hall["admin"])
    page.wait_for_selector("#rating:not([hidden])", timeout=WAIT_MS)
    assert page.locator("#rating-ticket").inner_text() == ticket["number"]
    labels = page.locator("#levels button").all_inner_texts()
    assert labels == ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"]
    if os.environ.get("XEPHANG_SCREENSHOTS"):
        page.screenshot(path=str(DOCS / "rating-tablet.png"))

    page.locator("#levels button", has_text="Rất hài lòng").click()
    page.wait_for_selector("#thanks:not([hidden])", timeout=WAIT_MS)
    [rating] = wait_until("the rating", lambda: ratings(database))
    assert (rating.ticket_id, rating.score, rating.scale, rating.reasons) == (
        ticket["id"],
        4,
        4,
        [],
    )
    assert rating.dossier_code == "HS-001"
    with database.reads() as s:
        clerk = s.execute(select(User.id).where(User.username == "lan")).scalar_one()
    assert rating.clerk_id == clerk

    # A low rating asks why, then stores the chosen reasons.
    second = serve_one(app, hall["admin"], dossier="HS-002")
    page.wait_for_selector("#rating:not([hidden])", timeout=WAIT_MS)
    assert page.locator("#rating-ticket").inner_text() == second["number"]
    page.locator("#levels button", has_text="Không hài lòng").click()
    page.wait_for_selector("#reasons:not([hidden])", timeout=WAIT_MS)
    page.locator("#reason-list button", has_text="Chờ lâu").click()
    page.locator("#reason-list button", has_text="Giải quyết chậm").click()
    page.locator("#send").click()
    page.wait_for_selector("#thanks:not([hidden])", timeout=WAIT_MS)
    wait_until("the second rating", lambda: len(ratings(database)) == 2)
    low = ratings(database)[1]
    assert (low.ticket_id, low.score, low.reasons) == (second["id"], 1, ["waited_long", "slow"])


def test_the_tablet_ignores_other_counters_and_shows_names_as_text(
    app: Any, hall: dict[str, str], base_url: str, page: Any
) -> None:
    open_tablet(page, base_url, hall["tablet2"])
    name = page.locator("#clerk-name")
    assert name.inner_text() == "<b>Bình</b><img src=x onerror=alert(1)>"
    assert page.locator("#idle b, #idle img:not(#clerk-photo)").count() == 0

    serve_one(app, hall["admin"], counter=1)  # another counter's ticket: not for this tablet
    mine = serve_one(app, hall["admin"], counter=2)
    page.wait_for_selector("#rating:not([hidden])", timeout=WAIT_MS)
    # Events arrive in order: had counter 1's finish been taken, this would say 2.
    assert page.locator("body").get_attribute("data-asked") == "1"
    assert page.locator("#rating-ticket").inner_text() == mine["number"]
