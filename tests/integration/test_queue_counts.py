"""The waiting counts the triggers keep (``queue_counts``) equal the waiting tickets, and
what is read from them (waiting per service, a new ticket's place) equals a count."""

from __future__ import annotations

import random

from sqlalchemy import delete, select, update

from server import engine
from server.engine.errors import QueueError
from server.engine.views import site_by_code, waiting_by_code
from server.models import QueueCount, Ticket, TicketEvent

from ..factories import ServiceSpec, build_site

SERVICES = [
    ServiceSpec("A", prefix="A"),
    ServiceSpec("B", prefix="B"),
    ServiceSpec("C", prefix="C"),
]
COUNTERS = {1: {"A": 2, "B": 1}, 2: {"B": 1, "C": 1}, 3: {"A": 1, "B": 1, "C": 1}}


def counted(database):
    """(site, day, service, target or 0, priority) -> waiting, from the tickets themselves."""
    with database.reads() as s:
        rows = s.execute(
            select(
                Ticket.site_id,
                Ticket.business_day,
                Ticket.service_id,
                Ticket.target_counter_id,
                Ticket.priority_reason,
            ).where(Ticket.status == "waiting")
        ).all()
    found: dict = {}
    for site, day, service, target, priority in rows:
        key = (site, day, service, target or 0, int(priority is not None))
        found[key] = found.get(key, 0) + 1
    return found


def kept(database):
    with database.reads() as s:
        rows = s.execute(select(QueueCount)).scalars().all()
        return {
            (r.site_id, r.business_day, r.service_id, r.target_counter_id, r.priority): r.waiting
            for r in rows
            if r.waiting
        }


def test_the_counts_follow_every_change_of_a_ticket(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=SERVICES, counters=COUNTERS)
    rng = random.Random(13)
    ids: list[int] = []
    for step in range(120):
        clock.advance(seconds=20)
        action = rng.choice(["issue", "issue", "issue", "call", "finish", "no_show", "more"])
        try:
            if action == "issue":
                priority = "elderly" if rng.random() < 0.2 else None
                ticket = engine.issue_ticket(
                    uow(), "s1", rng.choice("ABC"), priority=priority
                ).ticket
                ids.append(ticket["id"])
            elif action == "call":
                engine.call_next(uow(), "s1", rng.choice([1, 2, 3]))
            elif action == "finish":
                engine.finish(uow(), "s1", rng.choice([1, 2, 3]))
            elif action == "no_show":
                engine.no_show(uow(), "s1", rng.choice([1, 2, 3]))
            elif ids:
                ticket_id = rng.choice(ids)
                move = rng.choice(["cancel", "requeue", "to_B", "to_counter"])
                if move == "cancel":
                    engine.cancel(uow(), "s1", ticket_id)
                elif move == "requeue":
                    engine.requeue(uow(), "s1", ticket_id, position=rng.choice(["front", "back"]))
                elif move == "to_B":
                    engine.transfer(uow(), "s1", ticket_id, to_service="B")
                else:
                    engine.transfer(uow(), "s1", ticket_id, to_counter=rng.choice([1, 2, 3]))
        except QueueError:
            pass  # a refused step changes nothing, the counts included
        if step % 20 == 0:
            assert kept(database) == counted(database)
    assert kept(database) == counted(database)
    # By hand, outside the engine: the triggers still count.
    with database.writes() as s:
        s.execute(update(Ticket).where(Ticket.id == ids[0]).values(status="waiting"))
        gone = s.execute(select(Ticket.id).where(Ticket.status == "waiting")).scalars().first()
        s.execute(delete(TicketEvent).where(TicketEvent.ticket_id == gone))
        s.execute(delete(Ticket).where(Ticket.id == gone))
        s.commit()
    assert kept(database) == counted(database)


def test_waiting_per_service_and_a_new_tickets_place(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=SERVICES, counters=COUNTERS)
    for code in "AABABCA":
        clock.advance(seconds=30)
        engine.issue_ticket(uow(), "s1", code)
    clock.advance(seconds=30)
    engine.issue_ticket(uow(), "s1", "A", priority="elderly")
    clock.advance(seconds=30)
    new = engine.issue_ticket(uow(), "s1", "A").ticket
    # Strict policy: the priority ticket and the four normal A tickets before it.
    assert new["people_ahead"] == 5 and new["position"] == 6
    first_priority = engine.issue_ticket(uow(), "s1", "B", priority="disabled").ticket
    assert first_priority["people_ahead"] == 0  # ahead of the two normal B tickets
    with database.reads() as s:
        site = site_by_code(s, "s1")
        day = s.execute(select(Ticket.business_day)).scalars().first()
        assert waiting_by_code(s, site, day) == {"A": 6, "B": 3, "C": 1}
        ticket = s.get(Ticket, new["id"])
        assert engine.ticket_with_wait(s, site, ticket, clock.now)["people_ahead"] == 5
