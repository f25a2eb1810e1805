"""The outbox: every committed change of a site, numbered per site, in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server import engine
from server.engine import outbox
from server.models import OutboxEntry, Site

from ..factories import ServiceSpec, build_site, refusal

A = [ServiceSpec("A", prefix="A")]


@pytest.fixture
def site(database):
    """Two sites that joined a hub (only such a site writes its outbox)."""
    with database.writes() as s:
        build_site(s, services=A, counters={1: {"A": 1}}).sends_to_hub = True
        build_site(s, code="s2", services=A, counters={1: {"A": 1}}).sends_to_hub = True
        s.commit()


def entries(database, site_code="s1"):
    with database.reads() as s:
        site_id = s.scalars(select(Site.id).where(Site.code == site_code)).one()
        return s.execute(
            select(OutboxEntry.seq, OutboxEntry.kind, OutboxEntry.table_name, OutboxEntry.data)
            .where(OutboxEntry.site_id == site_id)
            .order_by(OutboxEntry.seq)
        ).all()


def test_each_operation_writes_its_rows_numbered_per_site(database, uow, clock, site):
    ticket = engine.issue_ticket(uow(), "s1", "A").ticket
    first = entries(database)
    assert [e.seq for e in first] == list(range(1, len(first) + 1))
    tables = [e.table_name for e in first]
    assert "tickets" in tables and "ticket_events" in tables
    issued = next(e.data for e in first if e.table_name == "tickets")
    assert issued["number"] == ticket["number"] and issued["status"] == "waiting"
    assert "tracking_token" not in issued  # the citizen's key stays at the site
    engine.issue_ticket(uow(), "s2", "A")
    engine.call_next(uow(), "s1", 1)
    after = entries(database)
    assert [e.seq for e in after] == list(range(1, len(after) + 1))
    called = [e.data for e in after[len(first) :] if e.table_name == "tickets"]
    assert called[-1]["status"] == "called" and called[-1]["called_at"] is not None
    assert [e.seq for e in entries(database, "s2")][0] == 1


def test_every_event_of_a_transaction_is_written(database, uow, clock, site):
    """A clerk moving counters logs two events in one flush: both reach the outbox."""
    from server.models import TicketEvent, User, UserSite

    with database.writes() as s:
        s3 = build_site(s, code="s3", services=A, counters={1: {"A": 1}, 2: {"A": 1}})
        s3.sends_to_hub = True
        user = User(username="lan", password_hash="x", role="clerk", created_at=clock())
        s.add(user)
        s.flush()
        user_id, site_id = user.id, s3.id
        s.add(UserSite(user_id=user_id, site_id=site_id))
        s.commit()
    engine.sign_in(uow(), "s3", 1, user_id)
    engine.issue_ticket(uow(), "s3", "A")
    engine.call_next(uow(), "s3", 1)
    engine.sign_in(uow(), "s3", 2, user_id)  # leaves counter 1: two events at once
    engine.sign_out(uow(), user_id)
    with database.reads() as s:
        logged = s.scalars(select(TicketEvent.id).where(TicketEvent.site_id == site_id)).all()
    sent = [e.data["id"] for e in entries(database, "s3") if e.table_name == "ticket_events"]
    assert sorted(sent) == sorted(logged)
    users = [e.data for e in entries(database, "s3") if e.table_name == "users"]
    assert users and all("password_hash" not in u for u in users)


def test_a_refused_operation_leaves_no_entry(database, uow, site):
    engine.issue_ticket(uow(), "s1", "A")
    before = entries(database)
    refusal(engine.call_next, uow(), "s1", 99)
    assert entries(database) == before


def test_rolled_back_work_leaves_no_entry(database, uow, clock, site):
    work = uow()
    with work:
        work.session.execute(select(Site)).all()
        work.session.get(Site, 1).name = "changed"
        work.session.flush()
        work.rollback()
        work.commit()
    assert entries(database) == []


def test_the_site_snapshot_holds_its_configuration(database, clock, site):
    with database.writes() as s:
        site_id = s.scalars(select(Site.id).where(Site.code == "s1")).one()
        written = outbox.snapshot_site(s, site_id, clock())
        s.commit()
    rows = entries(database)
    assert len(rows) == written
    assert {e.table_name for e in rows} >= {"sites", "services", "counters", "counter_services"}
    assert all("password_hash" not in e.data for e in rows)


def test_a_site_that_never_joined_writes_no_entry(database, uow, clock):
    """The outbox costs a plain install nothing: no entry, not even for a call."""
    with database.writes() as s:
        build_site(s, services=A, counters={1: {"A": 1}})
        s.commit()
    engine.issue_ticket(uow(), "s1", "A")
    engine.call_next(uow(), "s1", 1)
    engine.finish(uow(), "s1", 1)
    with database.reads() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        assert s.scalars(select(Site.outbox_seq)).one() == 0


def test_a_first_join_sends_the_whole_history_once(database, uow, clock):
    """Entries written before (an older version wrote them for every site) give way to
    the history as it is: each ticket, event and rating once, numbered from the hub's."""
    from server.models import Ticket, TicketEvent

    with database.writes() as s:
        site_id = build_site(s, services=A, counters={1: {"A": 1}}).id
        s.commit()
    for _ in range(3):
        engine.issue_ticket(uow(), "s1", "A")
    engine.call_next(uow(), "s1", 1)
    with database.writes() as s:
        s.add(OutboxEntry(site_id=site_id, seq=1, kind="row", table_name="sites", at=clock()))
        s.commit()
    with database.writes() as s:
        written = outbox.start_sending(s, site_id, 7, clock())
        s.commit()
    rows = entries(database)
    assert len(rows) == written
    assert [e.seq for e in rows] == list(range(8, 8 + written))
    with database.reads() as s:
        tickets = s.scalars(select(Ticket.id).order_by(Ticket.id)).all()
        events = s.scalars(select(TicketEvent.id).order_by(TicketEvent.id)).all()
        assert s.get(Site, site_id).outbox_seq == 7 + written
    assert [e.data["id"] for e in rows if e.table_name == "tickets"] == tickets
    assert [e.data["id"] for e in rows if e.table_name == "ticket_events"] == events
    called = [e.data for e in rows if e.table_name == "tickets" and e.data["status"] == "called"]
    assert len(called) == 1 and "tracking_token" not in called[0]
    engine.call_next(uow(), "s1", 1)  # from now on each change writes its entries
    after = entries(database)
    assert len(after) > len(rows) and after[len(rows)].seq == 8 + written
    with database.writes() as s:  # a join again sends the configuration only
        again = outbox.start_sending(s, site_id, 0, clock())
        s.commit()
    assert {e.table_name for e in entries(database)[len(after) :]} <= {
        "sites",
        "services",
        "counters",
        "counter_services",
        "users",
    }
    assert len(entries(database)) == len(after) + again
