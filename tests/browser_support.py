"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright; never a downloaded browser.

Every page enforces its Content-Security-Policy (no eval), so give ``wait_for_function``
a function, ``"() => window.x === 1"``: a bare expression is eval'd while Playwright
polls, and the policy refuses it (the test fails only when the first check was false).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from .services import CI

CHROMIUM = os.environ.get("XEPHANG_CHROMIUM", "/usr/bin/chromium")
# Flags for a headless run as root on a machine with a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def require_chromium() -> None:
    if os.path.exists(CHROMIUM) or shutil.which(CHROMIUM):
        return
    if CI:
        pytest.fail(f"Chromium not found at {CHROMIUM}; CI=true requires it", pytrace=False)
    pytest.skip(f"Chromium not found at {CHROMIUM}")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the test process; each test opens its own context."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies) and page, 1080p landscape."""
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()
