"""The browser set-up itself: Debian's Chromium opens a page the server renders."""

from __future__ import annotations

from ..factories import build_site
from ..live import served_in_thread


def test_pair_page_renders_vietnamese_in_chromium(database, app, page):
    with database.writes() as s:
        build_site(s)
    with served_in_thread(app) as url:
        page.goto(f"{url}/pair")
        assert page.locator("h1").inner_text() == "Kết nối thiết bị"


def test_every_page_has_the_favicon(database, app, chromium, make_token, clock):
    """Issue 9: the tabs of a kiosk, a display, the clerk's and the admin's pages had no icon."""
    from server.accounts.services import create_user

    from ..staff import PASSWORD, log_in_page

    with database.writes() as s:
        build_site(s)
    with database.writes() as s, s.begin():
        create_user(s, "root", "admin", PASSWORD, clock())
    devices = {
        "/kiosk/": make_token("kiosk"),
        "/display/": make_token("display"),
        "/display/counter/1": make_token("display"),
        "/rate/": make_token("tablet", counter=1),
    }
    icon = """async () => {
      const link = document.querySelector('link[rel="icon"]');
      if (!link) return null;
      const image = new Image();
      image.src = link.href;
      await image.decode();  // a picture the browser can draw
      const ico = await fetch("/favicon.ico");
      return [new URL(link.href).pathname, image.naturalWidth > 0, ico.status,
              ico.headers.get("content-type"), (await ico.arrayBuffer()).byteLength > 0];
    }"""
    expected = ["/static/favicon.svg", True, 200, "image/x-icon", True]
    with served_in_thread(app) as url:
        seen = {}
        for path in ("/login", "/pair", *devices):
            context = chromium.new_context()
            page = context.new_page()
            if path in devices:
                page.goto(f"{url}/pair?token={devices[path]}&next={path}")
                page.wait_for_url(f"{url}{path}")
            else:
                page.goto(f"{url}{path}")
            seen[path] = page.evaluate(icon)
            context.close()
        context = chromium.new_context()
        page = context.new_page()
        for path in ("/admin/", "/counter/"):
            if path == "/admin/":
                log_in_page(page, url, "root", path)
            else:
                page.goto(f"{url}{path}")
            seen[path] = page.evaluate(icon)
        context.close()
    assert seen == {path: expected for path in seen}
    assert len(seen) == 8
