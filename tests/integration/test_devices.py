"""Pairing a kiosk or display screen by its token (the session cookie keeps it)."""

from __future__ import annotations

from flask import Blueprint

from server.devices import SESSION_KEY, device_principal, paired

from ..factories import build_site


def _site(database):
    with database.writes() as s:
        build_site(s)


def test_pair_form_is_shown_in_vietnamese_and_english(database, client):
    _site(database)
    page = client.get("/pair").get_data(as_text=True)
    assert "Kết nối thiết bị" in page and 'lang="vi"' in page
    page = client.get("/pair?lang=en").get_data(as_text=True)
    assert "Connect this device" in page and 'lang="en"' in page
    # the choice is remembered for the device
    assert "Connect this device" in client.get("/pair").get_data(as_text=True)


def test_pairing_keeps_the_token_and_goes_to_the_next_page(database, client, make_token):
    _site(database)
    token = make_token("display")
    response = client.post("/pair", data={"token": token, "next": "/display/?speak=1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/display/?speak=1"
    with client.session_transaction() as session:
        assert session[SESSION_KEY] == token and session.permanent


def test_a_bad_or_revoked_token_does_not_pair(database, client, make_token):
    _site(database)
    response = client.post("/pair", data={"token": "xph_nope"})
    assert response.status_code == 401
    assert "không hợp lệ" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert SESSION_KEY not in session


def test_next_must_stay_on_this_server(database, client, make_token):
    _site(database)
    token = make_token("display")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil"):
        response = client.get("/pair", query_string={"token": token, "next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == "/display/"  # the display's own home


def test_paired_pages_send_other_devices_to_pair(app, database, client, make_token):
    _site(database)
    probe = Blueprint("probe", __name__)

    @probe.get("/probe")
    @paired("kiosk")
    def page(principal):
        assert device_principal() == principal
        return f"{principal.role}@{principal.site_code}"

    app.register_blueprint(probe)
    response = client.get("/probe")
    assert response.status_code == 302 and response.headers["Location"].startswith("/pair?next=")
    client.get("/pair", query_string={"token": make_token("display")})
    assert client.get("/probe").status_code == 302  # a display is not a kiosk
    client.get("/pair", query_string={"token": make_token("kiosk")})
    assert client.get("/probe").get_data(as_text=True) == "kiosk@s1"
    client.post("/unpair")
    assert client.get("/probe").status_code == 302


def test_the_demo_guide_pairs_each_screen(database, client, make_token):
    """`xephang demo` prints pairing links: each one pairs its device and opens its page."""
    from urllib.parse import urlsplit

    from server.cli import _demo_guide

    _site(database)
    tokens = {
        "kiosk": make_token("kiosk"),
        "clerk": make_token("clerk", counter=1),
        "display": make_token("display"),
        "tablet": make_token("tablet", counter=1),
    }
    clerk = tokens["clerk"]
    guide = _demo_guide("http://127.0.0.1:8080", tokens, {"canbo1": "mat-khau-demo"})
    links = [word for word in guide.split() if "/pair?" in word]
    landing = []
    for link in links:
        parts = urlsplit(link)
        response = client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 302
        landing.append(response.headers["Location"])
    assert landing == ["/kiosk/", "/display/?speak=1", "/display/counter/1", "/rate/"]
    assert f"Bearer {clerk}" in guide and "/counters/1/call-next" in guide
    assert "canbo1   mat-khau-demo" in guide and "/counter/" in guide
