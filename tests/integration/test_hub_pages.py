"""What people see of the hub link: the staff banner, paused numbers from home, the province."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server import engine
from server.accounts.services import create_user
from server.engine.errors import QueueError
from server.engine.remote import issue_remote
from server.models import HubLink, HubSite, Site
from server.runtime import runtime

from ..factories import build_site
from ..staff import PASSWORD, log_in


@pytest.fixture
def offline(app, database, clock):
    """Site s1 joined a hub that stopped answering at 08:12 (site time)."""
    with database.writes() as s:
        site = build_site(s)
        site.remote_enabled = True
        for service in site.services:
            service.remote_enabled = True
        s.add(
            HubLink(
                site_id=site.id,
                hub_url="http://hub.test",
                credential="x",
                managed="local",
                acked_seq=0,
                joined_at=clock(),
                down_since=clock().replace(hour=1, minute=12, second=0, microsecond=0),
            )
        )
        s.commit()
    with database.writes() as s, s.begin():
        create_user(s, "root", "admin", PASSWORD, clock())
    return site


def _hub_is_back(database):
    with database.writes() as s:
        for link in s.scalars(select(HubLink)):
            link.down_since = None
        s.commit()


BANNER = "Mất kết nối với trung tâm tỉnh từ 08:12"


def test_staff_pages_say_since_when_the_hub_is_unreachable(app, client, database, offline):
    log_in(client, "root")
    page = client.get("/admin/").get_data(as_text=True)
    assert BANNER in page
    assert client.get("/hub-link/status").get_json() == {"offline": BANNER}
    _hub_is_back(database)
    assert BANNER not in client.get("/admin/").get_data(as_text=True)
    assert client.get("/hub-link/status").get_json() == {"offline": None}


def test_citizens_see_no_banner(app, client, database, offline):
    client.get("/")  # no session
    assert client.get("/hub-link/status").status_code in (302, 401)


def test_numbers_from_home_pause_and_the_kiosk_keeps_issuing(app, client, database, offline):
    page = client.get("/s/s1").get_data(as_text=True)
    assert "mất kết nối với trung tâm tỉnh" in page
    with pytest.raises(QueueError) as refused:
        issue_remote(runtime(app).uow(), "s1", "A", "0" * 64)
    assert refused.value.code == "remote_paused_offline"
    assert engine.issue_ticket(runtime(app).uow(), "s1", "A").ticket["number"] == "A001"
    _hub_is_back(database)
    assert issue_remote(runtime(app).uow(), "s1", "A", "0" * 64).ticket


def test_the_province_dashboard_lists_sites_worst_first(db_url, clock):
    from ..factories import app_on

    with app_on(db_url, clock, ROLE="hub") as hub:
        db = runtime(hub).db
        with db.writes() as s:
            for code, quiet in (("xa-a", 1), ("xa-b", 30)):
                site = Site(code=code, name=f"UBND {code}")
                s.add(site)
                s.flush()
                s.add(
                    HubSite(
                        site_id=site.id,
                        managed="local",
                        last_seq=10,
                        site_last_seq=25 if code == "xa-b" else 10,
                        last_sync_at=clock() - timedelta(minutes=quiet),
                    )
                )
            s.commit()
        with db.writes() as s, s.begin():
            create_user(s, "root", "admin", PASSWORD, clock())
        client = hub.test_client()
        log_in(client, "root")
        page = client.get("/province/").get_data(as_text=True)
        assert page.index("xa-b") < page.index("xa-a")  # out of touch first
        assert "mất liên lạc" in page


def test_the_province_dashboard_is_only_at_a_hub(app, client, database, offline):
    log_in(client, "root")
    assert client.get("/province/").status_code == 404
    assert client.post("/api/v1/hub/sync", json={}).status_code == 404
