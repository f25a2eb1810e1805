"""REST API from a staff page: the login session (cookie) instead of a bearer token.

A write needs the page's CSRF token in ``X-CSRFToken`` (when CSRF is on); a clerk acts for
the counter they signed in at; managers act on their sites only, an admin on every site.
Signing in at a counter is for a logged-in staff member only, never a device's token.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug.security import generate_password_hash

from server.accounts import services
from server.accounts.services import create_user
from server.models import Counter, Site, TicketEvent, User

from ..api_fixtures import PREFIX, assert_problem, bearer
from ..factories import build_site, snapshot
from ..staff import PASSWORD, csrf_token, log_in

# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def staff(database: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Sites s1 and s2 (services A, B; counters 1 for A, 2 for B) and their staff."""
    # A cheap hash: these tests are about sessions, not password storage
    # (tests/integration/test_accounts.py).
    monkeypatch.setattr(
        services, "hash_password", lambda p: generate_password_hash(p, "pbkdf2:sha256:1000")
    )
    with database.writes() as session:
        build_site(session, "s1")
        build_site(session, "s2")
    people = {
        "lan": ("clerk", ("s1",), "Nguyễn Thị Lan"),
        "binh": ("clerk", ("s1",), "Trần Văn Bình"),
        "hoa": ("clerk", ("s2",), "Lê Thị Hoa"),
        "quan": ("manager", ("s1",), "Phạm Quân"),
        "admin": ("admin", (), "Quản trị"),
    }
    ids = {}
    with database.writes() as session, session.begin():
        for username, (role, sites, name) in people.items():
            user = create_user(
                session, username, role, PASSWORD, clock(), site_codes=sites, full_name=name
            )
            ids[username] = user.id
    return ids


class Page:
    """A browser tab: one Flask test client with its own cookies, logged in as someone."""

    def __init__(self, app: Any, username: str | None = None) -> None:
        self.client = app.test_client()
        self.app = app
        self.csrf = ""
        if username is not None:
            self.login(username)

    def login(self, username: str) -> None:
        log_in(self.client, username)
        self.csrf_token()  # what the staff page's JavaScript sends with every write

    def csrf_token(self) -> str:
        """The token a staff page carries (the login form's hidden field, same session)."""
        self.csrf = csrf_token(self.client)
        return self.csrf

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(PREFIX + path, **kwargs)

    def post(self, path: str, json: Any = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if csrf and self.csrf:
            headers["X-CSRFToken"] = self.csrf
        return self.client.post(PREFIX + path, json=json, headers=headers, **kwargs)

    def ok(self, path: str, json: Any = None, status: int = 200) -> dict[str, Any]:
        response = self.post(path, json)
        assert response.status_code == status, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body


def holder(database: Any, number: int, site: str = "s1") -> int | None:
    with database.reads() as session:
        return session.execute(
            select(Counter.clerk_id)
            .join(Site, Site.id == Counter.site_id)
            .where(Site.code == site, Counter.number == number)
        ).scalar_one()


def refused(database: Any, response_of: Any, status: int, code: str) -> dict[str, Any]:
    """The request is refused with this problem, and no row anywhere changes."""
    before = snapshot(database)
    problem = assert_problem(response_of(), status, code)
    assert snapshot(database) == before
    return problem


def issue(app: Any, make_token: Any, site: str = "s1", service: str = "A") -> dict[str, Any]:
    response = app.test_client().post(
        f"{PREFIX}/sites/{site}/tickets",
        json={"service": service},
        headers=bearer(make_token("kiosk", site)),
    )
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def last_actor(database: Any) -> str:
    with database.reads() as session:
        return str(
            session.execute(
                select(TicketEvent.actor).order_by(TicketEvent.id.desc()).limit(1)
            ).scalar_one()
        )


# --- who is calling ---------------------------------------------------------------------------


def test_without_a_token_or_a_login_it_is_401(app, client, database, staff) -> None:
    assert_problem(client.get(f"{PREFIX}/sites/s1/state"), 401, "unauthorized")
    refused(
        database,
        lambda: client.post(f"{PREFIX}/sites/s1/counters/1/sign-in", json={}),
        401,
        "unauthorized",
    )


def test_a_logged_in_clerk_reads_their_sites_state(app, staff) -> None:
    lan = Page(app, "lan")
    response = lan.get("/sites/s1/state")
    assert response.status_code == 200
    assert response.get_json()["site"]["code"] == "s1"


def test_a_clerk_of_another_site_is_forbidden(app, database, staff) -> None:
    hoa = Page(app, "hoa")
    assert_problem(hoa.get("/sites/s1/state"), 403, "forbidden")
    refused(database, lambda: hoa.post("/sites/s1/counters/1/sign-in", {}), 403, "forbidden")


def test_a_deactivated_account_is_logged_out_of_the_api(app, database, staff) -> None:
    lan = Page(app, "lan")
    with database.writes() as session:
        session.execute(update(User).where(User.username == "lan").values(active=False))
        session.commit()
    assert_problem(lan.get("/sites/s1/state"), 401, "unauthorized")


def test_a_bad_authorization_header_is_not_rescued_by_the_session(app, staff) -> None:
    lan = Page(app, "lan")
    response = lan.get("/sites/s1/state", headers={"Authorization": "Bearer nope"})
    assert_problem(response, 401, "unauthorized")


# --- signing in at a counter ------------------------------------------------------------------


def test_a_clerk_signs_in_and_acts_for_that_counter(app, database, staff, make_token) -> None:
    lan = Page(app, "lan")
    ticket = issue(app, make_token)
    body = lan.ok("/sites/s1/counters/1/sign-in", {})
    assert body["counter"]["number"] == 1
    assert body["counter"]["clerk"] == {
        "id": staff["lan"],
        "name": "Nguyễn Thị Lan",
        "photo_url": None,
    }
    assert holder(database, 1) == staff["lan"]

    called = lan.ok("/sites/s1/counters/1/call-next")
    assert called["id"] == ticket["id"]
    assert last_actor(database) == f"clerk:1@user#{staff['lan']}"
    queue = lan.get("/sites/s1/counters/1/queue")
    assert queue.status_code == 200
    assert queue.get_json()["counter"]["current"]["id"] == ticket["id"]
    lan.ok("/sites/s1/counters/1/finish", {"ticket_id": ticket["id"]})
    with database.reads() as session:
        from server.models import Ticket

        assert session.get(Ticket, ticket["id"]).clerk_id == staff["lan"]


def test_a_clerk_signing_in_is_logged_without_a_counter(app, database, staff) -> None:
    Page(app, "lan").ok("/sites/s1/counters/1/sign-in", {})
    assert last_actor(database) == f"clerk@user#{staff['lan']}"


def test_a_clerk_may_not_act_for_another_counter(app, database, staff, make_token) -> None:
    issue(app, make_token, service="B")
    lan = Page(app, "lan")
    lan.ok("/sites/s1/counters/1/sign-in", {})
    refused(database, lambda: lan.post("/sites/s1/counters/2/call-next"), 403, "forbidden")
    assert_problem(lan.get("/sites/s1/counters/2/queue"), 403, "forbidden")
    refused(database, lambda: lan.post("/sites/s1/counters/2/sign-out", {}), 403, "forbidden")


def test_a_clerk_not_signed_in_at_a_counter_must_sign_in_first(app, database, staff, make_token):
    issue(app, make_token)
    lan = Page(app, "lan")
    assert_problem(lan.get("/sites/s1/counters/1/queue"), 403, "counter_sign_in_required")
    for action in ("call-next", "pause", "sign-out"):
        refused(
            database,
            lambda action=action: lan.post(f"/sites/s1/counters/1/{action}", {}),
            403,
            "counter_sign_in_required",
        )
    # Site-wide reads and issuing still work without a counter.
    assert lan.get("/sites/s1/state").status_code == 200


def test_signing_in_elsewhere_moves_the_clerk(app, database, staff) -> None:
    lan = Page(app, "lan")
    lan.ok("/sites/s1/counters/1/sign-in", {})
    lan.ok("/sites/s1/counters/2/sign-in", {})
    assert (holder(database, 1), holder(database, 2)) == (None, staff["lan"])
    assert lan.get("/sites/s1/counters/2/queue").status_code == 200
    assert_problem(lan.get("/sites/s1/counters/1/queue"), 403, "forbidden")


def test_a_counter_held_by_another_clerk_is_409(app, database, staff) -> None:
    Page(app, "lan").ok("/sites/s1/counters/1/sign-in", {})
    binh = Page(app, "binh")
    problem = refused(
        database, lambda: binh.post("/sites/s1/counters/1/sign-in", {}), 409, "counter_taken"
    )
    assert "Nguyễn Thị Lan" in problem["detail"] and "1" in problem["detail"]


def test_a_clerk_may_not_take_over(app, database, staff) -> None:
    Page(app, "lan").ok("/sites/s1/counters/1/sign-in", {})
    binh = Page(app, "binh")
    refused(
        database,
        lambda: binh.post("/sites/s1/counters/1/sign-in", {"take_over": True}),
        403,
        "take_over_not_allowed",
    )
    # Not even a free counter: the flag itself is a manager's.
    refused(
        database,
        lambda: binh.post("/sites/s1/counters/2/sign-in", {"take_over": True}),
        403,
        "take_over_not_allowed",
    )


def test_a_manager_takes_over_a_counter(app, database, staff) -> None:
    Page(app, "lan").ok("/sites/s1/counters/1/sign-in", {})
    quan = Page(app, "quan")
    refused(database, lambda: quan.post("/sites/s1/counters/1/sign-in", {}), 409, "counter_taken")
    body = quan.ok("/sites/s1/counters/1/sign-in", {"take_over": True})
    assert body["counter"]["clerk"]["id"] == staff["quan"]
    assert holder(database, 1) == staff["quan"]
    with database.reads() as session:
        event = session.execute(
            select(TicketEvent).order_by(TicketEvent.id.desc()).limit(1)
        ).scalar_one()
    assert event.kind == "clerk_signed_in"
    assert event.data == {"clerk_before": staff["lan"], "clerk_after": staff["quan"]}
    assert event.actor == f"manager@user#{staff['quan']}"


def test_an_unknown_or_inactive_counter_is_404(app, database, staff) -> None:
    with database.writes() as session:
        session.execute(update(Counter).where(Counter.number == 2).values(active=False))
        session.commit()
    lan = Page(app, "lan")
    refused(
        database, lambda: lan.post("/sites/s1/counters/2/sign-in", {}), 404, "counter_not_found"
    )
    refused(
        database, lambda: lan.post("/sites/s1/counters/7/sign-in", {}), 404, "counter_not_found"
    )


@pytest.mark.parametrize("role", ["admin", "manager", "clerk"])
def test_a_bearer_token_cannot_sign_in(app, client, database, staff, make_token, role) -> None:
    token = make_token(role, counter=1 if role == "clerk" else None)
    refused(
        database,
        lambda: client.post(
            f"{PREFIX}/sites/s1/counters/1/sign-in", json={}, headers=bearer(token)
        ),
        403,
        "staff_login_required",
    )


@pytest.mark.parametrize("role", ["kiosk", "display", "tablet"])
def test_devices_cannot_sign_in_or_out(app, client, database, staff, make_token, role) -> None:
    token = make_token(role, counter=1 if role == "tablet" else None)
    for action in ("sign-in", "sign-out"):
        refused(
            database,
            lambda action=action: client.post(
                f"{PREFIX}/sites/s1/counters/1/{action}", json={}, headers=bearer(token)
            ),
            403,
            "forbidden",
        )


# --- managers and admins --------------------------------------------------------------------


def test_a_manager_of_site_a_is_forbidden_on_site_b(app, database, staff, make_token) -> None:
    issue(app, make_token, site="s2")
    quan = Page(app, "quan")
    assert quan.get("/sites/s1/state").status_code == 200
    assert_problem(quan.get("/sites/s2/state"), 403, "forbidden")
    assert_problem(quan.get("/sites/s2/counters/1/queue"), 403, "forbidden")
    for action in ("call-next", "sign-in", "sign-out", "pause"):
        refused(
            database,
            lambda action=action: quan.post(f"/sites/s2/counters/1/{action}", {}),
            403,
            "forbidden",
        )


def test_a_manager_acts_on_any_counter_of_their_site(app, database, staff, make_token) -> None:
    ticket = issue(app, make_token)
    quan = Page(app, "quan")
    assert quan.get("/sites/s1/counters/1/queue").get_json()["waiting"][0]["id"] == ticket["id"]
    assert quan.ok("/sites/s1/counters/1/call-next")["id"] == ticket["id"]
    assert last_actor(database) == f"manager@user#{staff['quan']}"


def test_an_admin_works_on_every_site(app, database, staff, make_token) -> None:
    issue(app, make_token, site="s2")
    admin = Page(app, "admin")
    assert admin.get("/sites/s2/state").status_code == 200
    assert admin.ok("/sites/s2/counters/1/call-next")["counter"] == 1
    assert admin.ok("/sites/s2/counters/1/sign-in", {})["counter"]["clerk"]["id"] == staff["admin"]
    assert_problem(admin.get("/sites/nowhere/state"), 404, "site_not_found")


def test_a_manager_frees_a_counter_a_clerk_forgot(app, database, staff) -> None:
    Page(app, "lan").ok("/sites/s1/counters/1/sign-in", {})
    quan = Page(app, "quan")
    body = quan.ok("/sites/s1/counters/1/sign-out", {})
    assert body["counter"]["clerk"] is None
    assert holder(database, 1) is None
    assert last_actor(database) == f"manager@user#{staff['quan']}"


# --- signing out ------------------------------------------------------------------------------


def test_a_clerk_signs_out_of_their_counter(app, database, staff) -> None:
    lan = Page(app, "lan")
    lan.ok("/sites/s1/counters/1/sign-in", {})
    body = lan.ok("/sites/s1/counters/1/sign-out")
    assert body["counter"]["clerk"] is None and holder(database, 1) is None
    assert last_actor(database) == f"clerk:1@user#{staff['lan']}"
    # Signed out: the counter's actions need a sign-in again, and another clerk may take it.
    assert_problem(lan.get("/sites/s1/counters/1/queue"), 403, "counter_sign_in_required")
    Page(app, "binh").ok("/sites/s1/counters/1/sign-in", {})


def test_logout_frees_the_counter(app, database, staff) -> None:
    lan = Page(app, "lan")
    lan.ok("/sites/s1/counters/2/sign-in", {})
    response = lan.client.post("/logout")
    assert response.status_code == 302
    assert holder(database, 2) is None
    with database.reads() as session:
        kinds = session.execute(select(TicketEvent.kind).order_by(TicketEvent.id)).scalars().all()
    assert kinds == ["clerk_signed_in", "clerk_signed_out"]
    assert last_actor(database) == f"clerk@user#{staff['lan']}"
    assert_problem(lan.get("/sites/s1/state"), 401, "unauthorized")


def test_logout_of_a_manager_leaves_other_clerks_at_their_counters(app, database, staff) -> None:
    Page(app, "lan").ok("/sites/s1/counters/1/sign-in", {})
    quan = Page(app, "quan")
    assert quan.client.post("/logout").status_code == 302
    assert holder(database, 1) == staff["lan"]


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.fixture
def csrf_on(app: Any) -> Any:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_a_write_without_the_csrf_token_is_refused(csrf_on, database, staff, make_token) -> None:
    issue(csrf_on, make_token)
    lan = Page(csrf_on, "lan")
    for path in ("/sites/s1/counters/1/sign-in", "/sites/s1/tickets"):
        refused(
            database,
            lambda path=path: lan.post(
                path, {"service": "A"} if "tickets" in path else {}, csrf=False
            ),
            400,
            "csrf_invalid",
        )
    refused(
        database,
        lambda: lan.post(
            "/sites/s1/counters/1/sign-in", {}, csrf=False, headers={"X-CSRFToken": "forged"}
        ),
        400,
        "csrf_invalid",
    )
    assert holder(database, 1) is None


def test_a_write_with_the_pages_csrf_token_passes(csrf_on, database, staff, make_token) -> None:
    ticket = issue(csrf_on, make_token)
    lan = Page(csrf_on, "lan")
    assert lan.csrf
    lan.ok("/sites/s1/counters/1/sign-in", {})
    assert lan.ok("/sites/s1/counters/1/call-next")["id"] == ticket["id"]


def test_reads_need_no_csrf_token(csrf_on, staff) -> None:
    lan = Page(csrf_on, "lan")
    lan.csrf = ""
    assert lan.get("/sites/s1/state").status_code == 200


def test_another_sessions_csrf_token_is_refused(csrf_on, database, staff) -> None:
    lan, binh = Page(csrf_on, "lan"), Page(csrf_on, "binh")
    refused(
        database,
        lambda: lan.post(
            "/sites/s1/counters/1/sign-in", {}, csrf=False, headers={"X-CSRFToken": binh.csrf}
        ),
        400,
        "csrf_invalid",
    )


def test_bearer_tokens_need_no_csrf_token(csrf_on, client, database, staff, make_token) -> None:
    issue(csrf_on, make_token)
    response = client.post(
        f"{PREFIX}/sites/s1/counters/1/call-next", headers=bearer(make_token("clerk", counter=1))
    )
    assert response.status_code == 200, response.get_json()


def test_with_csrf_off_a_session_write_needs_no_token(app, database, staff) -> None:
    assert not app.config["WTF_CSRF_ENABLED"]
    lan = Page(app, "lan")
    lan.csrf = ""
    lan.ok("/sites/s1/counters/1/sign-in", {})


# --- the OpenAPI document ---------------------------------------------------------------------


def test_the_openapi_document_describes_the_new_routes(client) -> None:
    spec = client.get(f"{PREFIX}/openapi.json").get_json()
    counter = f"{PREFIX}/sites/{{site}}/counters/{{n}}"
    queue = spec["paths"][counter + "/queue"]["get"]
    sign_in = spec["paths"][counter + "/sign-in"]["post"]
    sign_out = spec["paths"][counter + "/sign-out"]["post"]
    assert sign_in["security"] == [{"session": []}]
    assert {"bearer": []} in queue["security"] and {"session": []} in queue["security"]
    assert {"bearer": []} in sign_out["security"]
    body = sign_in["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "take_over" in spec["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert "clerk" in spec["components"]["schemas"]["CounterOut"]["properties"]
    assert spec["components"]["securitySchemes"]["session"]["in"] == "cookie"
