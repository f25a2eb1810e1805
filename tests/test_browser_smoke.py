"""The browser set-up itself: Debian's Chromium opens a page the server renders."""

from __future__ import annotations

from .factories import build_site
from .live import served_in_thread


def test_pair_page_renders_vietnamese_in_chromium(database, app, page):
    with database.writes() as s:
        build_site(s)
    with served_in_thread(app) as url:
        page.goto(f"{url}/pair")
        assert page.locator("h1").inner_text() == "Kết nối thiết bị"
