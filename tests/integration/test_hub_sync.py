"""Site -> hub: the outbox reaches the hub once each, in order; the reports agree."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from server import engine, reports
from server.db import Database
from server.engine import UnitOfWork
from server.models import HubEvent, HubSite, OutboxEntry, Site
from server.runtime import runtime
from server.sync.worker import SyncWorker, backoff_s
from server.tokens import create_token

from ..factories import app_on
from ..hub_support import ClientHttp, drain, hub_code, join
from ..report_day import DAY, build_day


@pytest.fixture
def site_db(tmp_path):
    from server import migrate

    db = Database(f"sqlite:///{tmp_path / 'site.sqlite3'}")
    migrate.upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def hub_app(db_url, clock):
    with app_on(db_url, clock, ROLE="hub") as app:
        yield app


@pytest.fixture
def http(hub_app):
    return ClientHttp(hub_app.test_client())


@pytest.fixture
def day(site_db, clock):
    return build_day(site_db, lambda: UnitOfWork(site_db.writes, clock=clock), clock)


def held(hub_app, site="s1") -> list[int]:
    with runtime(hub_app).db.reads() as session:
        site_id = session.scalars(select(Site.id).where(Site.code == site)).one()
        return list(
            session.scalars(
                select(HubEvent.seq).where(HubEvent.site_id == site_id).order_by(HubEvent.seq)
            )
        )


def outbox_size(site_db) -> int:
    with site_db.reads() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxEntry)))


def test_every_entry_reaches_the_hub_once_and_the_reports_agree(site_db, hub_app, http, clock, day):
    join(site_db, http, hub_code(hub_app), clock)
    worker = SyncWorker(site_db, clock, http=http, batch=7)
    total = outbox_size(site_db)
    assert drain(worker) == total
    assert held(hub_app) == list(range(1, total + 1))
    # Sent again from the start (a lost answer, a restored site): nothing is stored twice.
    with site_db.writes() as session:
        session.scalars(select(Site)).first()
        from server.models import HubLink

        session.get(HubLink, day.site_id).acked_seq = 0
        session.commit()
    drain(worker)
    assert held(hub_app) == list(range(1, total + 1))

    with runtime(hub_app).db.writes() as session:
        token = create_token(session, "s1", "manager")
        session.commit()
    for group in reports.GROUPS:
        with site_db.reads() as session:
            own = reports.site_report(
                session, [day.site_id], reports.Period(DAY, DAY), group, now=clock()
            )
        answer = hub_app.test_client().get(
            f"/api/v1/sites/s1/reports?from={DAY}&to={DAY}&group={group}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.get_json()
        expected = hub_app.json.loads(hub_app.json.dumps(own))
        got = answer.get_json()
        for key in expected["total"]:
            assert got["total"][key] == expected["total"][key], (group, key)
        assert got == expected, group
    assert own["total"]["served"] > 0


def test_new_work_after_a_cut_arrives_in_order(site_db, hub_app, http, clock, day):
    join(site_db, http, hub_code(hub_app), clock)
    worker = SyncWorker(site_db, clock, http=http, batch=5)
    drain(worker)
    http.down = True
    work = lambda: UnitOfWork(site_db.writes, clock=clock)  # noqa: E731
    engine.issue_ticket(work(), "s1", "A")  # the kiosk keeps issuing
    assert worker.step().failed
    from server.sync.link import hub_down_since

    with site_db.reads() as session:
        assert hub_down_since(session) == clock()
    http.down = False
    drain(worker)
    with site_db.reads() as session:
        assert hub_down_since(session) is None
    assert held(hub_app) == list(range(1, outbox_size(site_db) + 1))


def _credential(site_db, site_id) -> str:
    from server.models import HubLink

    with site_db.reads() as session:
        return session.get(HubLink, site_id).credential


def _post(hub_app, credential: str, body: Any) -> Any:
    return hub_app.test_client().post(
        "/api/v1/hub/sync", json=body, headers={"Authorization": f"Bearer {credential}"}
    )


def _batch(site_db, site_id, site="s1", limit=20) -> dict[str, Any]:
    from server.sync.link import pending

    with site_db.reads() as session:
        return {"site": site, "site_id": site_id, "entries": pending(session, site_id, 0, limit)}


def test_a_credential_sends_only_its_own_sites_events(site_db, hub_app, http, clock, day):
    join(site_db, http, hub_code(hub_app), clock)
    hub_code(hub_app, "s2")
    credential = _credential(site_db, day.site_id)
    answer = _post(hub_app, credential, _batch(site_db, day.site_id, site="s2"))
    assert answer.status_code == 403 and answer.get_json()["code"] == "hub_wrong_site"
    # The site's own code but rows of another site id inside.
    body = _batch(site_db, day.site_id, limit=5000)
    event = next(e for e in body["entries"] if e["table"] == "ticket_events")
    event["data"]["site_id"] = day.site_id + 1
    answer = _post(hub_app, credential, body)
    assert answer.status_code == 403 and answer.get_json()["code"] == "hub_wrong_site"
    assert held(hub_app) == [] and held(hub_app, "s2") == []


def test_a_revoked_credential_is_refused_at_once(site_db, hub_app, http, clock, day):
    from server.hub.credentials import revoke_site

    join(site_db, http, hub_code(hub_app), clock)
    credential = _credential(site_db, day.site_id)
    assert _post(hub_app, credential, _batch(site_db, day.site_id, limit=3)).status_code == 200
    with runtime(hub_app).db.writes() as session:
        revoke_site(session, "s1", clock())
        session.commit()
    answer = _post(hub_app, credential, _batch(site_db, day.site_id, limit=6))
    assert answer.status_code == 401 and answer.get_json()["code"] == "hub_unauthorized"
    assert "thu hồi" in answer.get_json()["detail"]
    assert held(hub_app) == [1, 2, 3]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda e: e[4]["data"].update(status=7),
        lambda e: e[4]["data"].update(secret="x"),
        lambda e: e[4].update(seq=99),
        lambda e: e[4].update(table="api_tokens"),
        lambda e: e[4].update(kind="drop"),
        lambda e: e[4].update(at="yesterday"),
        lambda e: e[4]["data"].pop("id"),
        lambda e: e[4]["data"].update(id=None),
        lambda e: e[4].update(extra=1),
        lambda e: e.append("not an entry"),
    ],
)
def test_a_bad_batch_is_refused_whole(site_db, hub_app, http, clock, day, spoil):
    join(site_db, http, hub_code(hub_app), clock)
    body = _batch(site_db, day.site_id)
    spoil(body["entries"])
    answer = _post(hub_app, _credential(site_db, day.site_id), body)
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["code"] == "hub_invalid_batch" and "không lưu" in problem["detail"]
    assert held(hub_app) == []
    with runtime(hub_app).db.reads() as session:
        assert session.scalars(select(HubSite.last_seq)).all() == [0]


def test_join_codes_work_once(site_db, hub_app, http, clock):
    from server.sync.link import JoinError, join_hub

    code = hub_code(hub_app, "xa-an-binh", "UBND xã An Bình")
    join(site_db, http, code, clock)
    with site_db.writes() as session, pytest.raises(JoinError, match="không đúng"):
        join_hub(session, "http://hub.test", code, "local", clock(), http=http)
    with site_db.reads() as session:
        assert session.scalars(select(Site.name).where(Site.code == "xa-an-binh")).one() == (
            "UBND xã An Bình"
        )


def test_backoff_grows_with_jitter():
    assert backoff_s(1, lambda: 1.0) < backoff_s(4, lambda: 1.0) <= 30.0
    assert backoff_s(50, lambda: 1.0) == 30.0
    assert backoff_s(3, lambda: 0.25) == backoff_s(3, lambda: 1.0) / 4


def test_a_hub_that_lost_entries_gets_them_again(site_db, hub_app, http, clock, day):
    """A hub restored from an older backup: the site sends again from what it holds."""
    from server.models import HubLink

    join(site_db, http, hub_code(hub_app), clock)
    worker = SyncWorker(site_db, clock, http=http, batch=10)
    drain(worker)
    with runtime(hub_app).db.writes() as session:
        session.execute(HubEvent.__table__.delete().where(HubEvent.seq > 15))
        for hub_site in session.scalars(select(HubSite)):
            hub_site.last_seq = 15
        session.commit()
    engine.issue_ticket(UnitOfWork(site_db.writes, clock=clock), "s1", "A")
    assert worker.step().failed  # its next entry is past the hub's hole
    with site_db.reads() as session:
        assert session.get(HubLink, day.site_id).acked_seq == 15
    drain(worker)
    assert held(hub_app) == list(range(1, outbox_size(site_db) + 1))


def _outbox_seqs(site_db) -> list[int]:
    with site_db.reads() as session:
        return list(session.scalars(select(OutboxEntry.seq).order_by(OutboxEntry.seq)))


def test_acknowledged_entries_are_pruned_after_the_retention(site_db, hub_app, http, clock, day):
    """In small batches, and never an entry the hub has not acknowledged."""
    from server.models import HubLink

    join(site_db, http, hub_code(hub_app), clock)
    worker = SyncWorker(site_db, clock, http=http, batch=50, keep_days=2)
    worker.prune_batch = 7
    drain(worker)
    acked = outbox_size(site_db)
    assert acked > 3 * worker.prune_batch
    http.down = True
    work = lambda: UnitOfWork(site_db.writes, clock=clock)  # noqa: E731
    engine.issue_ticket(work(), "s1", "A")  # the line is cut: the hub holds none of these
    waiting = _outbox_seqs(site_db)[acked:]
    assert waiting and waiting[0] == acked + 1
    assert worker.prune(day.site_id) == 0  # acknowledged, but not old enough yet
    clock.advance(days=3)
    engine.issue_ticket(work(), "s1", "A")
    assert worker.prune(day.site_id) == acked
    # Also the entries older than the retention stay while the hub has not acknowledged them.
    assert _outbox_seqs(site_db)[0] == acked + 1 and len(_outbox_seqs(site_db)) > len(waiting)
    http.down = False
    drain(worker)
    assert held(hub_app) == list(range(1, _outbox_seqs(site_db)[-1] + 1))
    with site_db.reads() as session:
        from server.sync.link import link_status

        assert link_status(session)[0].backlog == 0
        assert session.get(HubLink, day.site_id).acked_seq == _outbox_seqs(site_db)[-1]


def test_the_worker_prunes_by_itself_now_and_then(site_db, hub_app, http, clock, day):
    join(site_db, http, hub_code(hub_app), clock)
    worker = SyncWorker(site_db, clock, http=http, batch=5000, keep_days=1)
    drain(worker)  # the first round prunes already: nothing is old enough
    total = outbox_size(site_db)
    clock.advance(days=2)
    worker.step()
    assert outbox_size(site_db) == total  # not yet: once a minute
    worker._next_prune.clear()
    worker.step()
    assert outbox_size(site_db) == 0


def test_the_hubs_report_across_sites_puts_each_sites_own_rows_side_by_side(
    site_db, hub_app, http, clock, day, tmp_path
):
    """Two centers with the same day, one renamed s2: the hub's report of both has each
    one's own rows (keys prefixed with the site) and totals that add up; the admin page
    at the hub shows them; the XLSX opens."""
    from server import migrate

    other = Database(f"sqlite:///{tmp_path / 'site2.sqlite3'}")
    migrate.upgrade(other.engine)
    build_day(other, lambda: UnitOfWork(other.writes, clock=clock), clock)
    with other.writes() as session:
        session.scalars(select(Site)).one().code = "s2"
        session.commit()
    join(site_db, http, hub_code(hub_app), clock)
    join(other, http, hub_code(hub_app, "s2"), clock)
    for db in (site_db, other):
        drain(SyncWorker(db, clock, http=http))
    from server.accounts.services import create_user

    from ..staff import PASSWORD, log_in

    with runtime(hub_app).db.writes() as session, session.begin():
        create_user(session, "tinh", "admin", PASSWORD, clock())
    province = hub_app.test_client()  # the province's admin, logged in at the hub
    log_in(province, "tinh")
    with site_db.reads() as session:
        own = {
            g: reports.site_report(session, [day.site_id], reports.Period(DAY, DAY), g, now=clock())
            for g in ("service", "clerk")
        }
    for group in ("service", "clerk"):
        answer = province.get(f"/api/v1/reports?sites=s1,s2&from={DAY}&to={DAY}&group={group}")
        assert answer.status_code == 200, answer.get_json()
        both = answer.get_json()
        assert both["sites"] == ["s1", "s2"]
        mine = hub_app.json.loads(hub_app.json.dumps(own[group]))
        for code in ("s1", "s2"):
            for row in mine["groups"]:
                key = f"{code}:{row['key']}"
                found = [r for r in both["groups"] if r["key"] == key]
                assert len(found) == 1, (group, key)
                assert {
                    k: v for k, v in found[0].items() if k not in ("key", "site", "username")
                } == {k: v for k, v in row.items() if k not in ("key", "username")}
        for name in ("issued", "served", "no_show", "recalls"):
            assert both["total"][name] == 2 * mine["total"][name], name
        assert both["total"]["wait_s"]["count"] == 2 * mine["total"]["wait_s"]["count"]
        assert both["total"]["wait_s"]["median"] == mine["total"]["wait_s"]["median"]
    assert mine["total"]["served"] > 0
    page = province.get(f"/admin/reports?site=all&period=custom&from={DAY}&to={DAY}&group=site")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # One row per center (the second was built as s1 and renamed: the same name).
    assert html.count("<td>Site s1</td>") == 2
    monthly = province.get(f"/admin/reports/monthly?site=s2&month={DAY.strftime('%Y-%m')}")
    assert monthly.status_code == 200
    assert "Nguyễn Thị Lan" in monthly.get_data(as_text=True)
    xlsx = province.get(f"/api/v1/reports?sites=s1,s2&from={DAY}&to={DAY}&format=xlsx")
    assert xlsx.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(xlsx.data), read_only=True)
    tickets = list(book.worksheets[-1].iter_rows(values_only=True))
    assert len(tickets) - 1 == 2 * mine["total"]["issued"]
    assert {row[0] for row in tickets[1:]} == {"s1", "s2"}
