"""``POST /kiosk/api/tickets``: the kiosk page takes a number (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from server.kiosk_pages import dispatch
from server.models import ApiToken, PrintJob, Site, Ticket
from server.timeutil import utcnow

from ..api_fixtures import assert_problem, bearer
from ..factories import ServiceSpec, build_site, snapshot, ticket_log

URL = "/kiosk/api/tickets"


@pytest.fixture
def site(database):
    """Services A and B open, C closed at 09:00 (afternoon only), D with a daily cap of 1."""
    with database.writes() as s:
        build_site(
            s,
            services=[
                ServiceSpec("A", prefix="A"),
                ServiceSpec("B", prefix="B"),
                ServiceSpec("C", prefix="C", sessions=[{"start": "13:00", "end": "17:00"}]),
                ServiceSpec("D", prefix="D", cap=1),
            ],
            counters={1: {"A": 1, "B": 1, "C": 1, "D": 1}},
            staffed=True,
        )
        build_site(s, code="s2")


@pytest.fixture
def kiosk(site, make_token) -> str:
    return make_token("kiosk")


def post(client, token: str | None, body: Any = None, key: str | None = None, **kwargs: Any):
    headers = dict(bearer(token)) if token else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    headers.update(kwargs.pop("headers", {}))
    if body is not None:
        kwargs["json"] = body
    return client.post(URL, headers=headers, **kwargs)


def set_settings(database, token_id: int, settings: dict[str, Any]) -> None:
    with database.writes() as s:
        s.execute(update(ApiToken).where(ApiToken.id == token_id).values(settings=settings))
        s.commit()


def kiosk_token_id(database) -> int:
    with database.reads() as s:
        return int(
            s.execute(select(func.max(ApiToken.id)).where(ApiToken.role == "kiosk")).one()[0]
        )


def tickets(database) -> list[Ticket]:
    with database.reads() as s:
        return list(s.execute(select(Ticket).order_by(Ticket.id)).scalars())


# --- issuing ------------------------------------------------------------------------


def test_a_kiosk_takes_a_number_and_the_ticket_is_stored(client, database, kiosk):
    response = post(client, kiosk, {"service": "A"}, key="tap-0001-aaaa")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    ticket = body["ticket"]
    assert ticket["number"] == "A001" and ticket["service"] == "A"
    assert ticket["service_name"] == "Lĩnh vực A"
    assert ticket["people_ahead"] == 0 and ticket["position"] == 1
    assert ticket["channel"] == "kiosk" and ticket["priority"] is None
    assert "tracking_token" not in ticket  # the page prints through /kiosk/tickets/<id>/slip
    assert body["replayed"] is False
    assert response.headers["Cache-Control"] == "no-store"
    [stored] = tickets(database)
    assert (stored.id, stored.number, stored.channel) == (ticket["id"], "A001", "kiosk")
    assert stored.idempotency_key == "tap-0001-aaaa"
    [log] = ticket_log(database, stored.id)
    assert log.actor.startswith("kiosk#")


def test_a_priority_ticket_keeps_its_reason(client, database, kiosk):
    response = post(client, kiosk, {"service": "B", "priority": "elderly"}, key="tap-prio-0001")
    assert response.status_code == 201
    assert response.get_json()["ticket"]["priority"] == "elderly"
    assert tickets(database)[0].priority_reason == "elderly"


def test_people_ahead_count_the_queue(client, kiosk):
    for n in range(3):
        post(client, kiosk, {"service": "A"}, key=f"tap-ahead-{n:04d}")
    ticket = post(client, kiosk, {"service": "A"}, key="tap-ahead-last").get_json()["ticket"]
    assert ticket["number"] == "A004" and ticket["people_ahead"] == 3
    assert ticket["estimated_wait_s"] == 3 * 300  # default service time, one counter


# --- double taps and retries --------------------------------------------------------------


def test_the_same_key_gives_the_same_ticket_and_prints_once(client, database, kiosk, monkeypatch):
    calls: list[int] = []
    real = dispatch.print_issued_ticket

    def counting(principal, ticket_id, number=None):
        calls.append(ticket_id)
        return real(principal, ticket_id, number)

    monkeypatch.setattr(dispatch, "print_issued_ticket", counting)
    first = post(client, kiosk, {"service": "A"}, key="tap-same-0001")
    again = post(client, kiosk, {"service": "A"}, key="tap-same-0001")
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["replayed"] is True
    assert again.get_json()["ticket"]["id"] == first.get_json()["ticket"]["id"]
    assert len(tickets(database)) == 1
    assert calls == [first.get_json()["ticket"]["id"]]
    # another tap is another ticket
    other = post(client, kiosk, {"service": "A"}, key="tap-same-0002")
    assert other.status_code == 201 and other.get_json()["ticket"]["number"] == "A002"


def test_a_retry_on_a_browser_printing_kiosk_prints_on_the_page(client, database, kiosk):
    set_settings(database, kiosk_token_id(database), {"printer": "browser", "paper": 58})
    post(client, kiosk, {"service": "A"}, key="tap-brws-0001")
    again = post(client, kiosk, {"service": "A"}, key="tap-brws-0001").get_json()
    # the first answer was lost, so nothing was printed yet: the page prints now
    assert again["print"]["placement"] == "browser"
    assert again["print"]["slip_url"] == f"/kiosk/tickets/{again['ticket']['id']}/slip?paper=58"


def test_a_retry_on_a_kiosk_without_printer_prints_nothing(client, database, kiosk):
    set_settings(database, kiosk_token_id(database), {"printer": "none"})
    first = post(client, kiosk, {"service": "A"}, key="tap-none-0001").get_json()
    assert first["print"]["placement"] == "none" and first["print"]["status"] == "skipped"
    again = post(client, kiosk, {"service": "A"}, key="tap-none-0001").get_json()
    assert again["print"]["status"] == "skipped" and "slip_url" not in again["print"]


def test_a_key_used_for_another_service_is_refused(client, database, kiosk):
    post(client, kiosk, {"service": "A"}, key="tap-reuse-0001")
    before = snapshot(database)
    response = post(client, kiosk, {"service": "B"}, key="tap-reuse-0001")
    assert_problem(response, 409, "idempotency_key_reused")
    assert snapshot(database) == before


# --- printing ----------------------------------------------------------------------


def test_a_browser_printing_kiosk_gets_the_slip_to_print(client, database, kiosk):
    set_settings(database, kiosk_token_id(database), {"printer": "browser", "paper": 80})
    body = post(client, kiosk, {"service": "A"}, key="tap-slip-0001").get_json()
    assert body["print"]["placement"] == "browser" and body["print"]["status"] == "browser"
    assert body["print"]["slip_url"] == f"/kiosk/tickets/{body['ticket']['id']}/slip?paper=80"


def test_a_previewing_kiosk_gets_the_slip_to_show_and_again_on_a_retry(client, database, kiosk):
    """Printer "preview" (the demo's kiosk): the page shows the ticket, nothing is printed."""
    set_settings(database, kiosk_token_id(database), {"printer": "preview"})
    body = post(client, kiosk, {"service": "A"}, key="tap-prev-0001").get_json()
    assert body["print"]["placement"] == "preview" and body["print"]["status"] == "preview"
    assert body["print"]["slip_url"] == f"/kiosk/tickets/{body['ticket']['id']}/slip?paper=80"
    again = post(client, kiosk, {"service": "A"}, key="tap-prev-0001").get_json()
    assert again["print"]["placement"] == "preview" and again["print"]["slip_url"]
    with database.reads() as s:
        assert s.scalar(select(func.count()).select_from(PrintJob)) == 0


def test_a_printer_that_fails_never_loses_the_ticket(client, database, kiosk, tmp_path):
    missing = tmp_path / "no-such-dir" / "lp0"  # a printer that is not there
    set_settings(database, kiosk_token_id(database), {"printer": f"file://{missing}"})
    response = post(client, kiosk, {"service": "A"}, key="tap-fail-0001")
    assert response.status_code == 201
    body = response.get_json()
    assert body["ticket"]["number"] == "A001"
    assert body["print"]["placement"] == "server" and body["print"]["status"] == "failed"
    assert body["print"]["error_code"] and body["print"]["message"]
    assert [t.status for t in tickets(database)] == ["waiting"]


def test_a_bug_in_printing_never_loses_the_ticket(client, database, kiosk, monkeypatch):
    def broken(principal, ticket_id, number=None):
        raise RuntimeError("printing blew up")

    monkeypatch.setattr(dispatch, "print_issued_ticket", broken)
    response = post(client, kiosk, {"service": "A"}, key="tap-bug-00001")
    assert response.status_code == 201
    printed = response.get_json()["print"]
    assert printed["status"] == "failed" and printed["error_code"] == "print_error"
    assert len(tickets(database)) == 1


# --- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "status", "code"),
    [("C", 409, "service_closed"), ("Z", 404, "service_not_found")],
)
def test_a_service_that_cannot_issue_refuses_and_changes_nothing(
    client, database, kiosk, service, status, code
):
    before = snapshot(database)
    response = post(client, kiosk, {"service": service}, key="tap-refuse-001")
    assert_problem(response, status, code)
    assert snapshot(database) == before


def test_a_full_service_refuses(client, database, kiosk):
    assert post(client, kiosk, {"service": "D"}, key="tap-full-0001").status_code == 201
    before = snapshot(database)
    response = post(client, kiosk, {"service": "D"}, key="tap-full-0002")
    body = assert_problem(response, 409, "daily_cap_reached")
    assert body["detail"] == "Đã hết số hôm nay."
    assert snapshot(database) == before


def test_a_closed_service_says_so_in_vietnamese(client, kiosk):
    body = assert_problem(post(client, kiosk, {"service": "C"}), 409, "service_closed")
    assert body["detail"] == "Hiện tại chưa đến giờ lấy số hoặc đã hết giờ."


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {}}, 422, "validation_error"),
        ({"json": {"service": ""}}, 422, "validation_error"),
        ({"json": {"service": 7}}, 422, "validation_error"),
        ({"json": {"service": "A", "priority": "vip"}}, 422, "validation_error"),
        ({"json": {"service": "A", "counter": 1}}, 422, "validation_error"),
        ({"json": ["A"]}, 422, "validation_error"),
        ({"data": "service=A", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
        ({"json": {"service": "A"}, "headers": {"Idempotency-Key": "short"}}, 422,
         "invalid_idempotency_key"),
        ({"json": {"service": "A"}, "headers": {"Idempotency-Key": "has space!"}}, 422,
         "invalid_idempotency_key"),
    ],
)  # fmt: skip
def test_wrong_input_is_refused_and_changes_nothing(client, database, kiosk, kwargs, status, code):
    before = snapshot(database)
    response = post(client, kiosk, **kwargs)
    assert_problem(response, status, code)
    assert snapshot(database) == before


# --- who may take a number -------------------------------------------------------------


def test_without_a_token_nothing_is_issued(client, database, site):
    before = snapshot(database)
    response = post(client, None, {"service": "A"})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(post(client, "xph_not-a-token", {"service": "A"}), 401, "unauthorized")
    assert snapshot(database) == before


@pytest.mark.parametrize("role", ["display", "clerk", "manager", "admin"])
def test_only_a_kiosk_token_issues_here(client, database, site, make_token, role):
    token = make_token(role)
    before = snapshot(database)
    assert_problem(post(client, token, {"service": "A"}), 403, "forbidden")
    assert snapshot(database) == before


def test_a_paired_session_alone_cannot_issue(client, database, kiosk):
    """The session cookie is sent by any page a browser opens: only the bearer token counts."""
    assert client.get("/pair", query_string={"token": kiosk}).status_code == 302
    before = snapshot(database)
    assert_problem(post(client, None, {"service": "A"}), 401, "unauthorized")
    assert snapshot(database) == before


def test_a_revoked_kiosk_token_cannot_issue(client, database, kiosk):
    with database.writes() as s:
        s.execute(update(ApiToken).values(revoked_at=utcnow()))
        s.commit()
    before = snapshot(database)
    assert_problem(post(client, kiosk, {"service": "A"}), 401, "unauthorized")
    assert snapshot(database) == before


def test_a_kiosk_issues_on_its_own_site_only(client, database, site, make_token):
    body = post(client, make_token("kiosk", site="s2"), {"service": "A"}, key="tap-site-0001")
    ticket = body.get_json()["ticket"]
    with database.reads() as s:
        s2 = s.execute(select(Site.id).where(Site.code == "s2")).scalar_one()
        assert s.get(Ticket, ticket["id"]).site_id == s2
    # the same key at another site is another citizen's tap
    other = post(client, make_token("kiosk"), {"service": "A"}, key="tap-site-0001")
    assert other.status_code == 201 and other.get_json()["ticket"]["id"] != ticket["id"]
