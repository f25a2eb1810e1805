"""Hub -> site: a site managed at the hub takes its services and counters from there."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server import engine
from server.db import Database
from server.engine import UnitOfWork
from server.models import Counter, CounterService, HubLink, Service, Site, User, UserSite
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


# --- staff accounts from the hub ---------------------------------------------------------


def _hub_account(hub_app, username, role="clerk", password=None, **changes):
    """At the hub: an account working for s1 (made, or changed as ``changes`` say)."""
    from server.accounts.services import create_user, hash_password

    from ..staff import PASSWORD

    rt = runtime(hub_app)
    with rt.db.writes() as s, s.begin():
        user = s.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            user = create_user(
                s, username, role, password or PASSWORD, rt.clock(), site_codes=("s1",)
            )
        if password is not None:
            user.password_hash = hash_password(password)
        for name, value in changes.items():
            setattr(user, name, value)


@pytest.fixture
def site_app(tmp_path, clock):
    from server import migrate

    url = f"sqlite:///{tmp_path / 'site-app.sqlite3'}"
    db = Database(url)
    migrate.upgrade(db.engine)
    db.dispose()
    with app_on(url, clock, sites=("s1",)) as app:
        yield app


def _joined(site_app, hub_app, clock):
    http = ClientHttp(hub_app.test_client())
    db = runtime(site_app).db
    join(db, http, hub_code(hub_app), clock, managed="hub")
    _hub_services(hub_app, "A")
    worker = SyncWorker(db, clock, http=http)
    lost: list[list[int]] = []
    worker.on_staff_lost = lost.append
    return worker, lost


def _pull(worker):
    worker._next_pull.clear()
    assert not worker.step().failed


def _site_user(site_app, username):
    with runtime(site_app).db.reads() as s:
        user = s.scalars(select(User).where(User.username == username)).one_or_none()
        sites = s.scalars(select(UserSite.site_id).where(UserSite.user_id == user.id)).all()
        s.expunge_all()
        return user, sites


def test_a_clerk_made_at_the_hub_logs_in_at_the_site_and_loses_it_when_the_hub_says(
    site_app, hub_app, clock
):
    from ..staff import PASSWORD, log_in

    worker, lost = _joined(site_app, hub_app, clock)
    _hub_account(hub_app, "canbo.hub", full_name="Trần Thị Bình")
    _pull(worker)
    user, sites = _site_user(site_app, "canbo.hub")
    assert (user.role, user.full_name, user.active, user.from_hub) == (
        "clerk",
        "Trần Thị Bình",
        True,
        True,
    )
    assert sites == [1]
    clerk = site_app.test_client()
    log_in(clerk, "canbo.hub")
    assert clerk.get("/counter/").status_code == 200

    # A new password at the hub: the old one no longer opens the site, the open session ends.
    _hub_account(hub_app, "canbo.hub", password="mat-khau-moi-cua-tinh")
    _pull(worker)
    assert lost == [[user.id]]
    assert clerk.get("/counter/").status_code == 302
    other = site_app.test_client()
    assert other.post("/login", data={"username": "canbo.hub", "password": PASSWORD}).status_code
    assert other.get("/counter/").status_code == 302
    log_in(other, "canbo.hub", "mat-khau-moi-cua-tinh")
    assert other.get("/counter/").status_code == 200

    # Deactivated at the hub: locked out at the site; the same version again changes nothing.
    _hub_account(hub_app, "canbo.hub", active=False)
    _pull(worker)
    assert other.get("/counter/").status_code == 302
    assert _site_user(site_app, "canbo.hub")[0].active is False
    _pull(worker)
    assert len(lost) == 2


def test_an_account_the_hub_drops_is_deactivated_and_the_sites_own_accounts_stay(
    site_app, hub_app, clock
):
    from server.accounts.services import create_user

    from ..staff import PASSWORD

    rt = runtime(site_app)
    with rt.db.writes() as s, s.begin():
        create_user(s, "root", "admin", PASSWORD, clock())
        create_user(s, "canbo.local", "clerk", PASSWORD, clock(), site_codes=("s1",))
    worker, lost = _joined(site_app, hub_app, clock)
    _hub_account(hub_app, "canbo.a")
    _hub_account(hub_app, "quanly.b", role="manager")
    _pull(worker)
    assert _site_user(site_app, "quanly.b")[0].role == "manager"
    # The hub moves canbo.a to another site: s1 no longer lists it.
    with runtime(hub_app).db.writes() as s, s.begin():
        moved = s.scalars(select(User.id).where(User.username == "canbo.a")).one()
        s.execute(UserSite.__table__.delete().where(UserSite.user_id == moved))
    _pull(worker)
    gone = _site_user(site_app, "canbo.a")[0]
    assert gone.active is False
    assert lost == [[gone.id]]
    for username in ("root", "canbo.local"):
        user = _site_user(site_app, username)[0]
        assert (user.active, user.from_hub) == (True, False)
    assert _site_user(site_app, "quanly.b")[0].active is True


def test_the_site_admin_cannot_edit_an_account_of_the_hub(site_app, hub_app, clock):
    from server.accounts.services import AccountError, create_user, reset_password, update_user

    from ..staff import PASSWORD, log_in

    rt = runtime(site_app)
    with rt.db.writes() as s, s.begin():
        create_user(s, "root", "admin", PASSWORD, clock())
    worker, _lost = _joined(site_app, hub_app, clock)
    _hub_account(hub_app, "canbo.hub", full_name="Lê Văn Cường")
    _pull(worker)
    user = _site_user(site_app, "canbo.hub")[0]
    with pytest.raises(AccountError, match="do trung tâm tỉnh quản lý"):
        update_user(
            rt.uow(),
            user.id,
            full_name="Tên khác",
            role="clerk",
            site_codes=("s1",),
            photo_url=None,
            active=True,
        )
    with pytest.raises(AccountError, match="do trung tâm tỉnh quản lý"):
        reset_password(rt.uow(), "canbo.hub", "mat-khau-cua-don-vi")
    admin = site_app.test_client()
    log_in(admin, "root")
    page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "do trung tâm tỉnh quản lý" in page
    answer = admin.post(
        f"/admin/users/{user.id}",
        data={"full_name": "Tên khác", "role": "clerk", "sites": "s1", "active": "y"},
    )
    assert answer.status_code >= 400
    assert "do trung tâm tỉnh quản lý" in answer.get_data(as_text=True)
    assert _site_user(site_app, "canbo.hub")[0].full_name == "Lê Văn Cường"
    assert "do tỉnh quản lý" in admin.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize(
    "wrong",
    [
        {"role": "admin"},
        {"username": "Không Hợp Lệ"},
        {"password_hash": "plaintext-password"},
        {"active": "yes"},
        {"photo_url": "javascript:alert(1)"},
    ],
)
def test_a_wrong_staff_list_applies_nothing_of_the_configuration(site_app, hub_app, clock, wrong):
    from server.sync.config import apply_config
    from server.sync.staff import BadStaffList

    worker, _lost = _joined(site_app, hub_app, clock)
    _hub_account(hub_app, "canbo.hub")
    _hub_services(hub_app, "A", "B")
    db = runtime(site_app).db
    answer = hub_app.test_client().get(
        "/api/v1/hub/config", headers={"Authorization": f"Bearer {_cred(db)}"}
    )
    config = answer.get_json()
    config["site"]["name"] = "Tên mới từ tỉnh"
    config["staff"][0].update(wrong)
    with db.reads() as s:
        before = s.scalars(select(Site.name)).all(), _kiosk_services(db)
    with pytest.raises(BadStaffList):
        apply_config(db.writes, 1, config, clock)
    with db.reads() as s:
        assert (s.scalars(select(Site.name)).all(), _kiosk_services(db)) == before
    with db.reads() as s:
        assert s.scalars(select(User).where(User.username == "canbo.hub")).all() == []
        assert s.scalars(select(HubLink.config_version)).one() is None
