"""Bad input on the pages and forms: always a 4xx with a Vietnamese message, never a 5xx.

The cases the issue found (NUL bytes in form fields and URLs on PostgreSQL,
ids past the 32-bit columns, a 10,000-character time zone) are checked one by
one; then a bounded fuzz (hypothesis) sends every route of the app, as an
admin and as a paired kiosk, odd path segments, query strings and form fields
named as the pages name them. The app runs with ``TESTING``: a server error
surfaces as the exception itself.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from server.accounts import services as accounts_services
from server.accounts.services import create_user
from server.messages import ERRORS

from ..api_fixtures import PROBLEM, bearer
from ..factories import build_site, snapshot
from ..integration.test_admin_sites import settings_form
from ..staff import PASSWORD, log_in

HUGE = str(2**63)
TOO_BIG = str(10**30)
LONG = "A" * 10_000


@pytest.fixture
def staff(client: Any, database: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Site s1 and an admin logged in on ``client``."""
    monkeypatch.setattr(
        accounts_services,
        "generate_password_hash",
        lambda password: generate_password_hash(password, "pbkdf2:sha256:1000"),
    )
    with database.writes() as session:
        build_site(session)
    with database.writes() as session, session.begin():
        create_user(session, "admin", "admin", PASSWORD, clock())
        # The account the fuzz edits: the admin's own would log the fuzz out.
        create_user(session, "lan", "clerk", PASSWORD, clock(), site_codes=("s1",))
    log_in(client, "admin")
    return client


@pytest.fixture
def kiosk(app: Any, make_token: Any) -> Any:
    """A second browser, paired as the kiosk of s1."""
    device = app.test_client()
    response = device.get(f"/pair?token={make_token('kiosk')}")
    assert response.status_code == 302
    return device


def is_vietnamese_page(response: Any) -> bool:
    body = response.get_data(as_text=True)
    return response.mimetype == "text/html" and 'lang="vi"' in body and "Về trang chủ" in body


# (method, path, form): each is refused with a 4xx page on both databases (a list filter
# that cannot match anything may show the page without it instead).
BAD_PAGES: list[tuple[str, str, dict[str, str] | None]] = [
    ("POST", "/login", {"username": "admin\x00", "password": "x"}),
    ("POST", "/login", {"username": "admin", "password": "x\x00"}),
    ("POST", "/login?next=/admin/%00", {"username": "admin", "password": "x"}),
    ("GET", "/pair?token=xph_%00", None),
    ("POST", "/pair", {"code": "1234\x005678"}),
    ("GET", "/admin/sites/s1%00/settings", None),
    ("GET", "/admin/sites/%00/services", None),
    ("GET", "/counter/s1%00/1", None),
    ("GET", f"/counter/s1/{HUGE}", None),
    ("POST", f"/counter/s1/{TOO_BIG}/sign-in", {}),
    ("GET", f"/admin/users/{HUGE}", None),
    ("POST", f"/admin/users/{TOO_BIG}/unlock", {}),
    ("GET", f"/admin/sites/s1/services/{HUGE}", None),
    ("GET", f"/admin/sites/s1/counters/{TOO_BIG}", None),
    ("POST", f"/admin/sites/s1/counters/{HUGE}/release", {}),
    ("POST", f"/admin/sites/s1/devices/{HUGE}/revoke", {}),
    ("POST", f"/admin/sites/s1/devices/codes/{HUGE}/cancel", {}),
    ("GET", f"/admin/audit?user={HUGE}", None),
    ("GET", "/admin/audit?action=login%00", None),
    ("POST", "/admin/sites/s1/settings", {"name": "Phường", "timezone": LONG}),
    ("POST", "/admin/sites/s1/settings", {"name": "Phường", "timezone": "Asia/\x00"}),
    ("POST", "/admin/sites/new", {"code": "s9", "name": "S9", "timezone": LONG}),
    ("POST", "/admin/sites/new", {"code": "s\x009", "name": "S9"}),
    ("POST", "/admin/users/new", {"username": "an\x00", "role": "clerk"}),
    ("POST", "/admin/sites/s1/services/new", {"code": "D\x00", "name": "Đất đai"}),
    ("POST", "/admin/sites/s1/services/new", {"code": "DD", "name": "x", "daily_cap": HUGE}),
    ("POST", "/admin/sites/s1/counters/new", {"number": TOO_BIG, "name": "Quầy"}),
    ("POST", "/admin/sites/s1/devices/code", {"role": "kiosk", "counter": HUGE}),
]


@pytest.mark.parametrize(
    ("method", "path", "form"), BAD_PAGES, ids=[f"{m} {p}" for m, p, _ in BAD_PAGES]
)
def test_bad_input_on_a_page_is_a_4xx_page(
    staff: Any, database: Any, method: str, path: str, form: dict[str, str] | None
) -> None:
    before = snapshot(database)
    response = staff.open(path, method=method, data=form)
    assert response.status_code < 500
    if "?" not in path or method == "POST":
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:500]
    assert 'lang="vi"' in response.get_data(as_text=True)
    after = snapshot(database)
    after.pop("audit_log", None), before.pop("audit_log", None)  # a refused login is audited
    assert after == before


def test_a_nul_byte_is_refused_with_a_vietnamese_page_and_a_way_back(staff: Any) -> None:
    response = staff.post("/login", data={"username": "admin\x00", "password": "x"})
    assert response.status_code == 400
    assert is_vietnamese_page(response)
    assert "ký tự không hợp lệ" in response.get_data(as_text=True)


def test_a_nul_byte_under_the_api_is_a_problem(client: Any, make_token: Any, database: Any) -> None:
    with database.writes() as session:
        build_site(session)
    response = client.get("/api/v1/sites/s1%00/services", headers=bearer(make_token("admin")))
    assert (response.status_code, response.mimetype) == (400, PROBLEM)
    assert response.get_json()["code"] == "invalid_text"
    assert response.get_json()["detail"] == ERRORS["invalid_text"]


def test_a_huge_time_zone_is_a_field_error(staff: Any) -> None:
    response = staff.post("/admin/sites/s1/settings", data=settings_form(timezone=LONG))
    assert 400 <= response.status_code < 500
    assert "Múi giờ không hợp lệ" in response.get_data(as_text=True)


# --- the fuzz --------------------------------------------------------------------

CASES = 250
SKIPPED = ("static", "accounts.logout", "devices.unpair")  # logging out ends the fuzz
REAL = {"code": "s1", "site": "s1", "name": "NotoSans-Regular.ttf", "user_id": "2"}

odd_text = st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(["\x00", "s1\x00", "%", "..", LONG, "Asia/Ho_Chi_Minh", " ", "\u0301"]),
)
odd_number = st.one_of(
    st.integers(min_value=-5, max_value=2**31 + 5).map(str),
    st.sampled_from([HUGE, TOO_BIG, "1e9", "-0", "0x10", "１２"]),
)
odd_value = st.one_of(odd_text, odd_number)


def _field_names(pages: list[str]) -> list[str]:
    names = set()
    for page in pages:
        names.update(re.findall(r'name="([^"]+)"', page))
    return sorted(names - {"csrf_token"})


def _routes(app: Any) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(method, rule, [(converter, variable)]) of every route the fuzz visits."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith(SKIPPED) or rule.rule.startswith("/api/v1/"):
            continue
        variables = [(type(c).__name__, v) for v, c in rule._converters.items()]
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((method, rule.rule, variables))
    return sorted(found)


def _path(rule: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        return quote(values[match["name"]], safe="")

    return re.sub(r"<(?:[^:>]+:)?(?P<name>\w+)>", fill, rule)


def test_no_page_or_form_answers_a_server_error(staff: Any, kiosk: Any, app: Any) -> None:
    routes = _routes(app)
    pages = [
        staff.get(p).get_data(as_text=True)
        for p in (
            "/login",
            "/pair",
            "/admin/sites/new",
            "/admin/sites/s1/settings",
            "/admin/sites/s1/services/new",
            "/admin/sites/s1/counters/new",
            "/admin/users/new",
            "/admin/audit",
        )
    ]
    fields = _field_names(pages)
    assert "timezone" in fields and "username" in fields
    statuses: list[int] = []

    @st.composite
    def requests(draw: Any) -> tuple[Any, str, str, dict[str, Any]]:
        method, rule, variables = draw(st.sampled_from(routes))
        values = {}
        for converter, name in variables:
            real = REAL.get(name, "1")
            values[name] = draw(
                st.one_of(st.just(real), odd_number if "Integer" in converter else odd_text)
            )
        path = _path(rule, values)
        query = draw(
            st.dictionaries(st.sampled_from(fields + ["next", "lang"]), odd_value, max_size=3)
        )
        form = {}
        if method == "POST":
            form = draw(st.dictionaries(st.sampled_from(fields), odd_value, max_size=8))
        client = draw(st.sampled_from([staff, kiosk]))
        return client, method, path, {"query_string": query, "data": form}

    @given(request=requests())
    @settings(
        max_examples=CASES,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(request: tuple[Any, str, str, dict[str, Any]]) -> None:
        client, method, path, kwargs = request
        response = client.open(path, method=method, **kwargs)
        statuses.append(response.status_code)
        if client is staff and response.location and "/login" in response.location:
            log_in(staff, "admin")  # a form the fuzz filled ended the session: carry on
        assert response.status_code < 500, repr((method, path, kwargs))[:300]

    fuzz()
    assert len(statuses) >= CASES // 2
    assert any(400 <= s < 500 for s in statuses)
    assert statuses.count(200) >= CASES // 10  # pages were really reached, not only redirects
