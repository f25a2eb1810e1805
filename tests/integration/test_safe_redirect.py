"""Issue 9 item 8: ``next`` sends the browser only to a path on this server.

The attacks are the ones a string-prefix check let through (``/%09/evil.example``
answered ``302 Location: //evil.example``); every view that redirects to a ``next``
someone else wrote goes through ``server.safe_redirect.local_path``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from server.accounts.services import create_user
from server.safe_redirect import local_path

from ..factories import build_site
from ..staff import PASSWORD

# Each one lands on another host in a browser (tab/newline dropped, backslash read as
# a slash, a scheme, a scheme-relative address) or is no path at all.
FOREIGN = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "data:text/html,x",
    "evil.example",
    "/\x00/evil.example",
    "/\x7f/evil.example",
    "",
    "/" + "a" * 3000,
]
LOCAL = {
    "/": "/",
    "/display/?speak=1": "/display/?speak=1",
    "/admin/sites/demo/devices": "/admin/sites/demo/devices",
    "/counter/?n=1#top": "/counter/?n=1#top",
    "/.//evil.example": "/.//evil.example",  # a path on this server ("//evil.example" here)
    "/a%2F%2Fb": "/a%2F%2Fb",
}


@pytest.mark.parametrize("target", FOREIGN)
def test_a_target_off_this_server_is_refused(target: str) -> None:
    assert local_path(target) is None


@pytest.mark.parametrize(("target", "path"), LOCAL.items())
def test_a_path_on_this_server_is_kept(target: str, path: str) -> None:
    assert local_path(target) == path


def test_only_text_is_a_target() -> None:
    assert local_path(None) is None
    assert local_path(["/"]) is None


# --- every view that follows a ``next`` ---------------------------------------------------


ATTACKS = ["/%09/evil.example", "/%0d%0a/evil.example", "/%5Cevil.example", "//evil.example"]


def _staff(database: Any, clock: Any) -> None:
    with database.writes() as session:
        build_site(session)
    with database.writes() as session, session.begin():
        create_user(session, "lan", "clerk", PASSWORD, clock(), site_codes=("s1",))


def _location(response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


@pytest.mark.parametrize("attack", ATTACKS)
def test_login_never_sends_elsewhere(client: Any, database: Any, clock: Any, attack: str) -> None:
    _staff(database, clock)
    # the form carries ``next`` on (a hidden field), as the login page's own form does
    form = {"username": "lan", "password": PASSWORD, "next": unquote(attack)}
    # a refused ``next`` lands on the user's own page, as no ``next`` does (a clerk's: the counter)
    assert _location(client.post(f"/login?next={attack}", data=form)) == "/counter/"
    page = client.get(f"/login?next={attack}").get_data(as_text=True)
    assert 'name="next" value=""' in page


def test_login_follows_a_local_next(client: Any, database: Any, clock: Any) -> None:
    _staff(database, clock)
    response = client.post(
        "/login?next=/counter/%3Fx%3D1", data={"username": "lan", "password": PASSWORD}
    )
    assert _location(response) == "/counter/?x=1"


@pytest.mark.parametrize("attack", ATTACKS)
def test_pairing_never_sends_elsewhere(
    client: Any, database: Any, make_token: Any, attack: str
) -> None:
    with database.writes() as session:
        build_site(session)
    token = make_token("display")
    response = client.get(f"/pair?token={token}&next={attack}")
    assert _location(response) == "/display/"  # the display's own home


@pytest.mark.parametrize("attack", ATTACKS)
def test_logout_never_sends_elsewhere(client: Any, database: Any, clock: Any, attack: str) -> None:
    _staff(database, clock)
    client.post("/login", data={"username": "lan", "password": PASSWORD})
    response = client.post("/logout", data={"next": unquote(attack)})
    assert _location(response) == "/login"
