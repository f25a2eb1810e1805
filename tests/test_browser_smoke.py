"""The browser set-up itself: Debian's Chromium opens a page the server renders."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from .factories import build_site


def test_pair_page_renders_vietnamese_in_chromium(database, app, page):
    with database.writes() as s:
        build_site(s)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/pair")
        assert page.locator("h1").inner_text() == "Kết nối thiết bị"
    finally:
        server.shutdown()
        thread.join()
