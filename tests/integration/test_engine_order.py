"""Which ticket a counter calls next: priority policy, service weights, FIFO, targets."""

from __future__ import annotations

from sqlalchemy import select

from server import engine
from server.models import Counter

from ..factories import ServiceSpec, build_site, issue_later, refusal, ticket_row

AB = [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]


def issue_number(uow, clock, service="A", **kwargs):
    """Issue one ticket a minute after the previous one; its number."""
    return issue_later(uow, clock, service, **kwargs)["number"]


def normal_since_priority(database, number):
    with database.reads() as s:
        query = select(Counter.normal_since_priority).where(Counter.number == number)
        return s.execute(query).scalar_one()


def calls(uow, counter, n):
    return [engine.call_next(uow(), "s1", counter)["number"] for _ in range(n)]


def drain(uow, counter):
    """Every number a counter calls until its queue is empty."""
    called = []
    while True:
        try:
            called.append(engine.call_next(uow(), "s1", counter)["number"])
        except engine.QueueError as err:
            assert err.code == "queue_empty"
            return called


# --- first in, first out -----------------------------------------------------------


def test_first_issued_is_first_called(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    for _ in range(4):
        issue_number(uow, clock, "A")
    assert drain(uow, 1) == ["A001", "A002", "A003", "A004"]


def test_fifo_is_across_channels(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    issue_number(uow, clock, "A", channel="online")
    issue_number(uow, clock, "A", channel="kiosk")
    issue_number(uow, clock, "A", channel="api")
    issue_number(uow, clock, "A", channel="online")
    assert drain(uow, 1) == ["A001", "A002", "A003", "A004"]


def test_equal_weights_mix_services_in_issue_order(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1, "B": 1}})
    for service in "ABBAB":
        issue_number(uow, clock, service)
    assert drain(uow, 1) == ["A001", "B001", "B002", "A002", "B003"]


def test_order_follows_the_queue_position_not_the_row_id(database, uow, clock):
    """A no-show put back at the front overtakes tickets issued before it came back."""
    with database.writes() as s:
        build_site(s)
    for _ in range(3):
        issue_number(uow, clock, "A")
    first = engine.call_next(uow(), "s1", 1)
    engine.no_show(uow(), "s1", 1)
    clock.advance(minutes=5)
    engine.requeue(uow(), "s1", first["id"], position="front")
    assert drain(uow, 1) == ["A001", "A002", "A003"]


def test_counter_only_calls_its_own_services(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    issue_number(uow, clock, "A")
    assert refusal(engine.call_next, uow(), "s1", 2).code == "queue_empty"
    issue_number(uow, clock, "B")
    assert calls(uow, 2, 1) == ["B001"]
    assert calls(uow, 1, 1) == ["A001"]


# --- strict priority ----------------------------------------------------------------


def test_strict_priority_goes_before_every_normal_ticket(database, uow, clock):
    with database.writes() as s:
        build_site(s, policy="strict")
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A", priority="elderly")
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A", priority="pregnant")
    assert drain(uow, 1) == ["A003", "A005", "A001", "A002", "A004"]


def test_strict_priority_beats_service_weight(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1, "B": 5}}, policy="strict")
    issue_number(uow, clock, "B")
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A", priority="merit")
    issue_number(uow, clock, "B")
    assert drain(uow, 1) == ["A002", "B001", "B002", "A001"]


def test_priority_tickets_among_themselves_follow_weights(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1, "B": 5}}, policy="strict")
    issue_number(uow, clock, "A", priority="elderly")
    issue_number(uow, clock, "B", priority="elderly")
    assert drain(uow, 1) == ["B001", "A001"]


# --- interleaved priority ---------------------------------------------------------------


def test_interleave_gives_one_priority_after_every_n_normal(database, uow, clock):
    with database.writes() as s:
        build_site(s, policy="interleave", every=2)
    issue_number(uow, clock, "A", priority="elderly")  # A001
    for _ in range(4):
        issue_number(uow, clock, "A")  # A002..A005
    issue_number(uow, clock, "A", priority="disabled")  # A006
    issue_number(uow, clock, "A")  # A007
    assert drain(uow, 1) == ["A002", "A003", "A001", "A004", "A005", "A006", "A007"]


def test_interleave_takes_priority_when_no_normal_waits(database, uow, clock):
    with database.writes() as s:
        build_site(s, policy="interleave", every=3)
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A", priority="elderly")
    assert calls(uow, 1, 2) == ["A001", "A002"]
    # The priority call restarted the count: three normal tickets come first again.
    for _ in range(3):
        issue_number(uow, clock, "A")
    issue_number(uow, clock, "A", priority="elderly")
    issue_number(uow, clock, "A")
    assert drain(uow, 1) == ["A003", "A004", "A005", "A006", "A007"]


def test_interleave_serves_a_late_priority_at_once_when_it_is_due(database, uow, clock):
    with database.writes() as s:
        build_site(s, policy="interleave", every=2)
    for _ in range(4):
        issue_number(uow, clock, "A")
    assert calls(uow, 1, 3) == ["A001", "A002", "A003"]
    issue_number(uow, clock, "A", priority="young_child")  # A005
    assert calls(uow, 1, 2) == ["A005", "A004"]


def test_interleave_counts_per_counter(database, uow, clock):
    with database.writes() as s:
        build_site(s, counters={1: {"A": 1}, 2: {"A": 1}}, policy="interleave", every=2)
    issue_number(uow, clock, "A", priority="elderly")  # A001
    for _ in range(4):
        issue_number(uow, clock, "A")
    assert calls(uow, 1, 2) == ["A002", "A003"]
    assert calls(uow, 2, 1) == ["A004"]
    assert calls(uow, 1, 1) == ["A001"]


def test_interleave_counter_is_stored_on_the_counter(database, uow, clock):
    with database.writes() as s:
        build_site(s, policy="interleave", every=5)
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A", priority="merit")
    engine.call_next(uow(), "s1", 1)
    engine.call_next(uow(), "s1", 1)
    assert normal_since_priority(database, 1) == 2
    engine.call_next(uow(), "s1", 1)
    assert normal_since_priority(database, 1) == 0


# --- counter weights ------------------------------------------------------------------


def test_higher_weight_is_called_first_then_fifo(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1, "B": 2}, 2: {"A": 2, "B": 1}})
    for service in "ABAB":
        issue_number(uow, clock, service)
    assert calls(uow, 1, 1) == ["B001"]
    assert calls(uow, 2, 1) == ["A001"]
    assert calls(uow, 1, 1) == ["B002"]
    assert calls(uow, 1, 1) == ["A002"]


def test_weights_order_three_services(database, uow, clock):
    services = [*AB, ServiceSpec("C", prefix="C")]
    with database.writes() as s:
        build_site(s, services=services, counters={1: {"A": 2, "B": 3, "C": 1}})
    for service in "CABCAB":
        issue_number(uow, clock, service)
    assert drain(uow, 1) == ["B001", "B002", "A001", "A002", "C001", "C002"]


# --- tickets sent to one counter ---------------------------------------------------------


def test_ticket_sent_to_a_counter_is_called_only_there(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1}, 2: {"A": 1}, 3: {"B": 1}})
    issue_number(uow, clock, "A")
    issue_number(uow, clock, "A")
    first = ticket_row(database, 1)
    engine.transfer(uow(), "s1", first.id, to_counter=2)
    assert drain(uow, 1) == ["A002"]
    assert refusal(engine.call_next, uow(), "s1", 3).code == "queue_empty"
    assert calls(uow, 2, 1) == ["A001"]
    assert ticket_row(database, first.id).target_counter_id is None


def test_ticket_sent_to_a_counter_that_does_not_serve_its_service(database, uow, clock):
    with database.writes() as s:
        build_site(s)
    issue_number(uow, clock, "A")
    engine.transfer(uow(), "s1", 1, to_counter=2)
    assert refusal(engine.call_next, uow(), "s1", 1).code == "queue_empty"
    assert calls(uow, 2, 1) == ["A001"]


def test_ticket_sent_to_a_counter_counts_with_its_highest_weight(database, uow, clock):
    with database.writes() as s:
        build_site(s, services=AB, counters={1: {"A": 1}, 2: {"A": 1, "B": 3}})
    issue_number(uow, clock, "B")  # B001
    issue_number(uow, clock, "A")  # A001, waits with weight 1 at counter 2
    issue_number(uow, clock, "A")  # A002, sent to counter 2 below
    engine.transfer(uow(), "s1", 3, to_counter=2)
    assert drain(uow, 2) == ["B001", "A002", "A001"]


def test_ticket_sent_to_another_counter_cannot_be_called_by_id(database, uow, clock):
    with database.writes() as s:
        build_site(s, counters={1: {"A": 1}, 2: {"A": 1}})
    issue_number(uow, clock, "A")
    engine.transfer(uow(), "s1", 1, to_counter=2)
    err = refusal(engine.call_ticket, uow(), "s1", 1, 1)
    assert err.code == "ticket_at_other_counter"
    assert ticket_row(database, 1).status == "waiting"
    assert engine.call_ticket(uow(), "s1", 2, 1)["counter"] == 2
