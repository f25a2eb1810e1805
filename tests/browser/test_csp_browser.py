"""Issue 9 item 11 in real Chromium: every page passes its Content-Security-Policy.

The policy is enforced (it is the server's own header, server/security_headers.py);
each page is opened as the person or device that uses it, and any
``securitypolicyviolation`` event or CSP console error fails the test. The pages still
work under it: a kiosk tap issues a ticket and prints through its framed slip, a
display shows a call, a clerk calls with G, an admin's confirm dialog guards a revoke.

A new page: add it to PAGES (the guard test below names any GET page left out).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from kiosk.device_settings import kiosk_settings
from server import engine
from server.accounts import services
from server.accounts.services import create_user
from server.models import ApiToken, Counter, HubLink, HubSite, Service, Site, User
from server.runtime import runtime
from server.tokens import create_token

from ..factories import build_site
from ..live import EVENT_WAIT_S, served_in_thread
from ..staff import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

WAIT_MS = EVENT_WAIT_S * 1000

# Who opens each page: "anon" (nobody logged in or paired), a device role (paired with
# its token), or a staff username (logged in). ``{ticket}``, ``{service}``, ``{counter}``
# and ``{user}`` are filled in from the fixture's site.
PAGES: list[tuple[str, str]] = [
    ("anon", "/login"),
    ("anon", "/pair"),
    ("anon", "/pair?code=1234-5678"),
    ("anon", "/no-such-page"),
    ("root", "/pair"),  # refused while staff is logged in
    ("kiosk", "/kiosk/"),
    ("kiosk", "/kiosk/tickets/{ticket}/slip?paper=80"),
    ("display", "/display/"),
    ("display", "/display/?speak=1&columns=3&notice=Xin+ch%C3%A0o"),
    ("display", "/display/counter/1"),
    ("tablet", "/rate/"),
    ("lan", "/counter/"),
    ("lan", "/counter/s1/1"),
    ("root", "/admin/"),
    ("root", "/admin/users"),
    ("root", "/admin/users/new"),
    ("root", "/admin/users/{user}"),
    ("root", "/admin/audit"),
    ("root", "/admin/sites/new"),
    ("root", "/admin/sites/s1/settings"),
    ("root", "/admin/sites/s1/services"),
    ("root", "/admin/sites/s1/services/new"),
    ("root", "/admin/sites/s1/services/{service}"),
    ("root", "/admin/sites/s1/counters"),
    ("root", "/admin/sites/s1/counters/new"),
    ("root", "/admin/sites/s1/counters/{counter}"),
    ("root", "/admin/sites/s1/devices"),
    ("root", "/admin/reports"),
    ("root", "/admin/reports?site=s1&period=this_month&group=hour"),
    ("root", "/admin/reports/monthly"),
    ("root", "/admin/live"),
    ("root", "/admin/live/s1"),
    ("anon", "/t/{tracking}"),  # the citizen's phone, from the ticket's QR code
    ("anon", "/t/no-such-ticket"),
    ("anon", "/s/s1"),  # a number taken from home
    ("root", "/province/"),  # the province dashboard (the hall's app plays the hub too)
]
# GET routes that are not pages (files, data, API), so not in PAGES.
NOT_PAGES = {
    "static",
    "admin.static",
    "counter.static",
    "display.static",
    "kiosk.static",
    "display.font",
    "kiosk.font",
    "sounds.sound_file",
    "sounds.status",
    "healthz",
    "favicon",
    "counter.targets",
    "ticket_preview.ticket_png",
    "phone.static",
    "phone.worker",  # the phone page's service worker script
    "admin.live_overview_json",  # the dashboards' snapshots (JSON)
    "admin.live_site_json",
    "hub_link.status",  # the staff banner's JSON (no line to the province hub)
    "province.static",
    "hub.config",  # the hub API a site server reads (JSON)
    "hub.relay_poll",  # the hub API a site's relay worker reads and answers (JSON)
    # A center's own phone pages relayed by the hub, with the center's headers:
    # tests/browser/test_phone_relay_browser.py watches them for refusals.
    "relay.relay",
}

# Runs before any page script, in every frame: keeps what the browser refused.
WATCH_CSP = """
window.print = () => { (window.top.__printed = window.top.__printed || []).push(location.href); };
document.addEventListener("securitypolicyviolation", (e) => {
  (window.top.__csp = window.top.__csp || []).push(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


@pytest.fixture
def hall(app: Any, database: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(
        services, "hash_password", lambda p: generate_password_hash(p, "pbkdf2:sha256:1000")
    )
    with database.writes() as s:
        build_site(s)
    with database.writes() as s, s.begin():
        create_user(s, "root", "admin", PASSWORD, clock())
        lan = create_user(
            s, "lan", "clerk", PASSWORD, clock(), site_codes=("s1",), full_name="Nguyễn Thị Lan"
        )
        lan.photo_url = "https://photos.example/lan.jpg"  # staff photos may be anywhere
        lan_id = lan.id
    with database.writes() as s:
        tokens = {
            "kiosk": create_token(
                s, "s1", "kiosk", settings=kiosk_settings("kiosk", "browser", "80")
            ),
            "display": create_token(s, "s1", "display"),
            "tablet": create_token(s, "s1", "tablet", counter=1),
        }
    # The same server plays the province hub (its dashboard lists s1) and a site whose
    # line to its hub is down (the staff pages show the banner and run its script).
    app.config["ROLE"] = "hub"
    with database.writes() as s:
        site_id = s.scalar(select(Site.id).where(Site.code == "s1"))
        s.add(HubSite(site_id=site_id, managed="local", last_seq=0, site_last_seq=0))
        s.add(
            HubLink(
                site_id=site_id,
                hub_url="http://hub.test",
                credential="x",
                managed="local",
                acked_seq=0,
                joined_at=clock(),
                down_since=clock(),
            )
        )
        s.commit()
    engine.sign_in(runtime(app).uow(), "s1", 1, lan_id)
    ticket = engine.issue_ticket(runtime(app).uow(), "s1", "A", channel="api").ticket
    with database.reads() as s:
        ids = {
            "ticket": ticket["id"],
            "user": lan_id,
            "service": s.scalar(select(Service.id).where(Service.code == "A")),
            "counter": s.scalar(select(Counter.id).where(Counter.number == 1)),
            "tracking": ticket["tracking_token"],
        }
    return {"tokens": tokens, "ids": ids}


@pytest.fixture
def base_url(app: Any, hall: dict[str, Any]) -> Iterator[str]:
    with served_in_thread(app) as url:
        yield url


class Visitor:
    """A browser context for one person or device, recording CSP violations."""

    def __init__(self, chromium: Any, base_url: str, who: str, hall: dict[str, Any]) -> None:
        self.base_url = base_url
        self.context = chromium.new_context(viewport={"width": 1920, "height": 1080})
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on(
            "console",
            lambda m: self.console.append(m.text) if "Content Security Policy" in m.text else None,
        )
        if who in hall["tokens"]:
            self.page.goto(f"{base_url}/pair?token={hall['tokens'][who]}&next=/healthz")
            self.page.wait_for_url(f"{base_url}/healthz", timeout=WAIT_MS)
        elif who != "anon":
            self.page.goto(f"{base_url}/login?next=/healthz")
            self.page.fill("#username", who)
            self.page.fill("#password", PASSWORD)
            self.page.click("main button[type=submit]")
            self.page.wait_for_url(f"{base_url}/healthz", timeout=WAIT_MS)

    def visit(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        return response

    def violations(self) -> list[str]:
        seen = self.page.evaluate("window.top.__csp || []")
        return [*seen, *self.console]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitors(chromium: Any, base_url: str, hall: dict[str, Any]) -> Iterator[Any]:
    opened: dict[str, Visitor] = {}

    def visitor(who: str) -> Visitor:
        if who not in opened:
            opened[who] = Visitor(chromium, base_url, who, hall)
        return opened[who]

    yield visitor
    for each in opened.values():
        each.close()


def test_every_page_passes_its_content_security_policy(hall: dict[str, Any], visitors: Any) -> None:
    problems = []
    for who, template in PAGES:
        path = template.format(**hall["ids"])
        visitor = visitors(who)
        response = visitor.visit(path)
        policy = response.headers.get("content-security-policy", "")
        if "script-src 'self'" not in policy or "frame-ancestors" not in policy:
            problems.append(f"{who} {path}: no policy ({policy!r})")
        visitor.page.wait_for_timeout(300)  # scripts run, sockets connect, images load
        for violation in visitor.violations():
            problems.append(f"{who} {path}: {violation}")
        visitor.page.evaluate("window.top.__csp = []")
        visitor.console.clear()
    assert problems == []


def test_every_page_is_on_the_list(app: Any) -> None:
    listed = {template.split("?")[0] for _who, template in PAGES}
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint.startswith("api."):
            continue
        if rule.endpoint in NOT_PAGES:
            continue
        plain = rule.rule.split("<")[0]  # the path up to its first argument
        if not any(path.startswith(plain) for path in listed):
            missing.append(f"{rule.endpoint} {rule.rule}")
    assert missing == [], "add these pages to PAGES (or to NOT_PAGES if they are not pages)"


def test_pages_still_work_under_the_policy(
    app: Any, database: Any, hall: dict[str, Any], visitors: Any
) -> None:
    # a kiosk tap issues a ticket, printed through the slip framed by the kiosk page
    kiosk = visitors("kiosk")
    kiosk.visit("/kiosk/")
    kiosk.page.wait_for_selector("body[data-ready=true][data-connected=true]", timeout=WAIT_MS)
    kiosk.page.locator(".service[data-code='A']").click()
    kiosk.page.wait_for_selector("#screen-ticket:not([hidden])", timeout=WAIT_MS)
    assert kiosk.page.inner_text("#ticket-number") == "A002"
    kiosk.page.wait_for_function("() => (window.__printed || []).length === 1", timeout=WAIT_MS)

    # a display shows the call a clerk makes with G
    display = visitors("display")
    display.visit("/display/")
    display.page.wait_for_function(
        "() => window.xephangDisplay && window.xephangDisplay.socket.connected", timeout=WAIT_MS
    )
    clerk = visitors("lan")
    clerk.visit("/counter/s1/1")
    clerk.page.wait_for_selector("body[data-ready='true'][data-connected='true']", timeout=WAIT_MS)
    clerk.page.keyboard.press("g")
    clerk.page.wait_for_selector("#current[data-status='called']", timeout=WAIT_MS)
    number = clerk.page.inner_text("#current-number").strip()
    assert number == "A001"
    display.page.wait_for_function(
        "(n) => document.body.textContent.includes(n)", arg=number, timeout=WAIT_MS
    )

    # an admin's confirm dialog (a script file now) guards a revoke: no, then yes
    admin = visitors("root")
    admin.visit("/admin/sites/s1/devices")
    with database.reads() as s:
        display_id = s.scalar(select(ApiToken.id).where(ApiToken.role == "display"))
    revoke = admin.page.locator(f"tr[data-token='{display_id}'] button[type=submit]")
    admin.page.once("dialog", lambda dialog: dialog.dismiss())
    revoke.click()
    admin.page.wait_for_timeout(500)
    with database.reads() as s:
        assert s.get(ApiToken, display_id).revoked_at is None
    admin.page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    admin.page.wait_for_selector(f"tr.revoked[data-token='{display_id}']", timeout=WAIT_MS)

    for each in (kiosk, display, clerk, admin):
        assert each.violations() == []
    with database.reads() as s:
        assert s.scalar(select(User.id).where(User.username == "lan")) == hall["ids"]["user"]
