"""Logging staff in, for the tests of the staff pages: through the test client or Chromium."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "mat-khau-rat-dai-1"
WAIT_MS = 20_000


def csrf_token(client: Any) -> str:
    """The CSRF token of this client's session, as the login form carries it."""
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(client: Any, username: str, password: str = PASSWORD, **extra: str) -> Any:
    """Log ``client`` in through the form (with its CSRF token when checking is on)."""
    form = {"username": username, "password": password, **extra}
    if client.application.config.get("WTF_CSRF_ENABLED") and "csrf_token" not in form:
        form["csrf_token"] = csrf_token(client)
    response = client.post("/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def log_in_page(
    page: Any, base_url: str, username: str, next_path: str, password: str = PASSWORD
) -> None:
    """Log a Chromium page in through /login and wait until it lands on ``next_path``."""
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path}", timeout=WAIT_MS)


def log_in_and_pick(page: Any, base_url: str, username: str, counter: int = 1) -> None:
    """Open the clerk page in Chromium, log in and take ``counter``; wait until it is live."""
    page.goto(f"{base_url}/counter/")
    assert "/login?next=" in page.url  # sent to log in first, and back here afterwards
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector(f"li[data-counter='{counter}']")
    page.locator(f"li[data-counter='{counter}'] button", has_text="Làm việc tại quầy này").click()
    page.wait_for_url(f"**/counter/*/{counter}")
    page.wait_for_selector("body[data-ready='true'][data-connected='true']", timeout=WAIT_MS)
