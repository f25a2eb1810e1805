"""Hub -> site: a site managed at the hub takes its services and counters from there."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import engine
from server.db import Database
from server.engine import UnitOfWork
from server.models import Counter, CounterService, HubLink, Service, Site
from server.runtime import runtime
from server.sync.worker import SyncWorker

from ..factories import ServiceSpec, app_on, build_site
from ..hub_support import ClientHttp, hub_code, join


@pytest.fixture
def site_db(tmp_path):
    from server import migrate

    db = Database(f"sqlite:///{tmp_path / 'site.sqlite3'}")
    migrate.upgrade(db.engine)
    with db.writes() as s:
        build_site(s, services=[ServiceSpec("A", prefix="A")], counters={1: {"A": 1}})
        s.commit()
    yield db
    db.dispose()


@pytest.fixture
def hub_app(db_url, clock):
    with app_on(db_url, clock, ROLE="hub") as app:
        yield app


def _hub_services(hub_app, *codes):
    """The hub's admin sets up the site: services ``codes``, counter 1 serving all of them."""
    with runtime(hub_app).db.writes() as s:
        site = s.scalars(select(Site).where(Site.code == "s1")).one()
        have = {x.code for x in s.scalars(select(Service).where(Service.site_id == site.id))}
        for n, code in enumerate(codes):
            if code not in have:
                s.add(
                    Service(
                        site_id=site.id,
                        code=code,
                        name=f"Lĩnh vực {code}",
                        number_prefix=code,
                        sort_order=n,
                    )
                )
        s.flush()
        counter = s.scalars(select(Counter).where(Counter.site_id == site.id)).one_or_none()
        if counter is None:
            counter = Counter(site_id=site.id, number=1, name="Quầy 1")
            s.add(counter)
            s.flush()
        services = s.scalars(select(Service).where(Service.site_id == site.id)).all()
        counter.service_links = [CounterService(service_id=x.id, weight=1) for x in services]
        s.commit()


def _kiosk_services(site_db):
    with site_db.reads() as s:
        return sorted(s.scalars(select(Service.code).where(Service.active.is_(True))))


def test_a_service_added_at_the_hub_reaches_the_kiosk_after_the_line_returns(
    site_db, hub_app, clock
):
    http = ClientHttp(hub_app.test_client())
    join(site_db, http, hub_code(hub_app), clock, managed="hub")
    _hub_services(hub_app, "A")
    worker = SyncWorker(site_db, clock, http=http)
    worker.step()
    assert _kiosk_services(site_db) == ["A"]

    http.down = True
    _hub_services(hub_app, "A", "B")
    worker._next_pull.clear()
    assert worker.step().failed
    assert _kiosk_services(site_db) == ["A"]
    # On its last configuration, the site keeps issuing.
    assert engine.issue_ticket(UnitOfWork(site_db.writes, clock=clock), "s1", "A").ticket

    http.down = False
    worker._next_pull.clear()
    worker.step()
    assert _kiosk_services(site_db) == ["A", "B"]
    assert engine.issue_ticket(UnitOfWork(site_db.writes, clock=clock), "s1", "B").ticket
    with site_db.reads() as s:
        counter = s.scalars(select(Counter).where(Counter.number == 1)).one()
        served = {link.service.code for link in counter.service_links}
        assert served == {"A", "B"}
        version = s.scalars(select(HubLink.config_version)).one()
    # The same version again changes nothing (no new outbox rows, no site.updated).
    from server.sync.config import apply_config

    with hub_app.test_client() as c:
        cred = _cred(site_db)
        config = c.get("/api/v1/hub/config", headers={"Authorization": f"Bearer {cred}"})
    assert config.get_json()["version"] == version
    assert apply_config(site_db.writes, 1, config.get_json(), clock) is False


def _cred(site_db):
    with site_db.reads() as s:
        return s.scalars(select(HubLink.credential)).one()


def test_a_site_managed_locally_gets_no_configuration(site_db, hub_app, clock):
    http = ClientHttp(hub_app.test_client())
    join(site_db, http, hub_code(hub_app), clock, managed="local")
    _hub_services(hub_app, "Z")
    SyncWorker(site_db, clock, http=http).step()
    assert _kiosk_services(site_db) == ["A"]
    answer = hub_app.test_client().get(
        "/api/v1/hub/config", headers={"Authorization": f"Bearer {_cred(site_db)}"}
    )
    assert answer.get_json() == {"version": None}


def test_the_site_admin_cannot_edit_what_the_hub_manages(db_url, clock, tmp_path):
    from server.accounts.services import create_user

    from ..staff import PASSWORD, log_in

    with app_on(db_url, clock, sites=("s1",)) as app:
        db = runtime(app).db
        with db.writes() as s:
            s.add(
                HubLink(
                    site_id=1,
                    hub_url="http://hub.test",
                    credential="x",
                    managed="hub",
                    acked_seq=0,
                    joined_at=clock(),
                )
            )
            s.commit()
        with db.writes() as s, s.begin():
            create_user(s, "root", "admin", PASSWORD, clock())
        client = app.test_client()
        log_in(client, "root")
        answer = client.post("/admin/sites/s1/services/new", data={"code": "Z", "name": "Z"})
        assert answer.status_code == 303
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert "do trung tâm tỉnh quản lý" in page
        with db.reads() as s:
            assert s.scalars(select(Service.code).where(Service.code == "Z")).all() == []
