"""What happens to a ticket: issue, call, serve, finish, move, cancel.

Each public function is one transaction in the given unit of work: it either
commits its change with the events describing it, or raises ``QueueError``
and changes nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..models import Counter, Service, Site, Ticket, TicketEvent
from ..timeutil import business_day
from . import hours, numbering
from .errors import conflict, invalid, not_found
from .events import COUNTER_UPDATED, TICKET_CALLED, TICKET_ISSUED, TICKET_UPDATED
from .ordering import front_sort_key, next_candidates, sort_key_at
from .rules import (
    AT_COUNTER,
    BACK,
    CALLED,
    CANCELLED,
    CHANNELS,
    DONE,
    FRONT,
    NO_SHOW,
    PRIORITY_REASONS,
    SERVING,
    WAITING,
)
from .unit_of_work import UnitOfWork
from .views import counter_dict, site_by_code, ticket_with_wait, waiting_by_code

DOSSIER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/]{0,63}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")
CLAIM_ATTEMPTS = 5


@dataclass
class Issued:
    ticket: dict[str, Any]
    replayed: bool


# --- lookups -----------------------------------------------------------------


def _service(uow: UnitOfWork, site: Site, code: str) -> Service:
    service = uow.session.execute(
        select(Service).where(Service.site_id == site.id, Service.code == code)
    ).scalar_one_or_none()
    if service is None:
        raise not_found("service_not_found", service=code)
    return service


# Rows are locked FOR NO KEY UPDATE (``key_share=True``), not FOR UPDATE: on
# PostgreSQL, FOR UPDATE also blocks the KEY SHARE lock that every insert or
# update of a row referring to the locked one takes for its foreign key check,
# so a clerk holding a counter would block a transfer that names that counter
# while waiting for the very ticket the transfer holds: a deadlock. No engine
# operation changes a key, so the weaker lock is enough.
LOCK: dict[str, Any] = {"key_share": True}


def _counter(uow: UnitOfWork, site: Site, number: int, *, lock: bool = False) -> Counter:
    query = select(Counter).where(Counter.site_id == site.id, Counter.number == number)
    if lock:
        query = query.with_for_update(key_share=True)
    counter = uow.session.execute(query).scalar_one_or_none()
    if counter is None or not counter.active:
        raise not_found("counter_not_found", counter=number)
    return counter


def _ticket(uow: UnitOfWork, site: Site, ticket_id: int) -> Ticket:
    ticket = uow.session.get(Ticket, ticket_id, with_for_update=LOCK)
    if ticket is None or ticket.site_id != site.id:
        raise not_found("ticket_not_found", ticket=ticket_id)
    return ticket


def _ticket_and_holder(uow: UnitOfWork, site: Site, ticket_id: int) -> Ticket:
    """Lock a ticket for a change that may free its counter: the counter first.

    Counter actions (call next, finish, ...) lock their counter, then its
    ticket; cancelling or moving a ticket from outside the counter must take
    the two in the same order, or the two transactions can deadlock.  If the
    ticket went to another counter between the look and the lock, start over.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        row = uow.session.execute(
            select(Ticket.status, Ticket.counter_id).where(Ticket.id == ticket_id)
        ).one_or_none()
        holder = row.counter_id if row is not None and row.status in AT_COUNTER else None
        if holder is not None:
            uow.session.execute(
                select(Counter.id).where(Counter.id == holder).with_for_update(key_share=True)
            )
        ticket = _ticket(uow, site, ticket_id)
        if ticket.status not in AT_COUNTER or ticket.counter_id == holder:
            return ticket
        uow.rollback()
    raise conflict("ticket_at_other_counter", ticket=ticket_id)


def _require(ticket: Ticket, allowed: tuple[str, ...], action: str) -> None:
    if ticket.status not in allowed:
        raise conflict("invalid_transition", status=ticket.status, action=action)


def _log(
    uow: UnitOfWork,
    ticket: Ticket,
    kind: str,
    before: str | None,
    actor: str,
    counter: Counter | None = None,
    **data: Any,
) -> None:
    uow.session.add(
        TicketEvent(
            site_id=ticket.site_id,
            ticket_id=ticket.id,
            counter_id=counter.id if counter else ticket.counter_id,
            kind=kind,
            from_status=before,
            to_status=ticket.status,
            actor=actor,
            at=uow.clock(),
            data=data,
        )
    )


def _ticket_event(
    uow: UnitOfWork, site: Site, name: str, ticket: Ticket, **extra: Any
) -> dict[str, Any]:
    """Emit an event with the ticket as it now stands; returns that ticket view."""
    uow.session.flush()
    uow.session.refresh(ticket)
    view = ticket_with_wait(uow.session, site, ticket, uow.clock())
    payload = {
        "ticket": view,
        "waiting": waiting_by_code(uow.session, site, ticket.business_day),
        **extra,
    }
    uow.emit(site, name, payload)
    return dict(view)


def _counter_event(uow: UnitOfWork, site: Site, counter: Counter) -> None:
    uow.session.flush()
    uow.emit(site, COUNTER_UPDATED, {"counter": counter_dict(uow.session, counter)})


def _release_counter(uow: UnitOfWork, ticket: Ticket) -> Counter | None:
    """Free the counter that holds this ticket, if any."""
    if ticket.counter_id is None:
        return None
    counter = uow.session.get(Counter, ticket.counter_id)
    if counter is not None and counter.current_ticket_id == ticket.id:
        counter.current_ticket_id = None
        return counter
    return None


def _finish_current(uow: UnitOfWork, site: Site, counter: Counter, actor: str) -> None:
    """Calling the next ticket ends the one the counter still holds."""
    if counter.current_ticket_id is None:
        return
    current = uow.session.get(Ticket, counter.current_ticket_id, with_for_update=LOCK)
    counter.current_ticket_id = None
    if current is None or current.status not in AT_COUNTER:
        return
    before = current.status
    current.status = DONE
    current.finished_at = uow.clock()
    if counter.clerk_id is not None:  # as in finish(): whoever is signed in ended the service
        current.clerk_id = counter.clerk_id
    _log(uow, current, "finished", before, actor, counter, automatic=True)
    _ticket_event(uow, site, TICKET_UPDATED, current, action="finished")


# --- issuing -------------------------------------------------------------------


def issue_ticket(
    uow: UnitOfWork,
    site_code: str,
    service_code: str,
    *,
    priority: str | None = None,
    channel: str = "kiosk",
    idempotency_key: str | None = None,
    actor: str = "",
) -> Issued:
    """Give the next number of a service for the site's business day.

    Numbers are gap-free and unique per (site, service, day) even across
    processes; a closed, inactive or full service refuses; the same
    idempotency key returns the ticket it first made instead of a new one.
    """
    if priority is not None and priority not in PRIORITY_REASONS:
        raise invalid("invalid_priority", priority=priority)
    if channel not in CHANNELS:
        raise invalid("invalid_channel", channel=channel)
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise invalid("invalid_idempotency_key")

    with uow:
        site = site_by_code(uow.session, site_code)
        if idempotency_key is not None:
            replay = _replay(uow, site, service_code, idempotency_key)
            if replay is not None:
                return replay
        service = _service(uow, site, service_code)
        now = uow.clock()
        if not service.active:
            raise conflict("service_inactive", service=service.code)
        if not hours.is_open(service.sessions, now, site.timezone):
            raise conflict("service_closed", service=service.code)
        day = business_day(now, site.timezone)
        seq = numbering.next_seq(uow.session, site.id, service.id, day)
        cap = numbering.capacity(service)
        if cap is not None and seq > cap:
            raise conflict("daily_cap_reached", service=service.code, cap=cap)
        ticket = Ticket(
            site_id=site.id,
            issued_service_id=service.id,
            service_id=service.id,
            business_day=day,
            seq=seq,
            number=numbering.format_number(service, seq),
            status=WAITING,
            priority_reason=priority,
            channel=channel,
            sort_key=sort_key_at(now),
            issued_at=now,
            idempotency_key=idempotency_key,
            tracking_token=secrets.token_urlsafe(16),
        )
        uow.session.add(ticket)
        try:
            uow.session.flush()
        except IntegrityError:
            # Another request with the same key won the race: return its ticket.
            uow.rollback()
            if idempotency_key is None:
                raise
            site = site_by_code(uow.session, site_code)
            replay = _replay(uow, site, service_code, idempotency_key)
            if replay is None:
                raise
            return replay
        _log(uow, ticket, "issued", None, actor, channel=channel, priority=priority)
        result = _ticket_event(uow, site, TICKET_ISSUED, ticket)
        result["tracking_token"] = ticket.tracking_token  # for the issuer only
        uow.commit()
        return Issued(result, replayed=False)


def _replay(uow: UnitOfWork, site: Site, service_code: str, key: str) -> Issued | None:
    ticket = uow.session.execute(
        select(Ticket).where(Ticket.site_id == site.id, Ticket.idempotency_key == key)
    ).scalar_one_or_none()
    if ticket is None:
        return None
    if ticket.service.code != service_code and _issued_service_code(uow, ticket) != service_code:
        raise conflict("idempotency_key_reused")
    return Issued(ticket_with_wait(uow.session, site, ticket, uow.clock(), private=True), True)


def _issued_service_code(uow: UnitOfWork, ticket: Ticket) -> str:
    service = uow.session.get(Service, ticket.issued_service_id)
    return service.code if service else ""


# --- calling -------------------------------------------------------------------


def _claim(uow: UnitOfWork, ticket_id: int, counter: Counter) -> bool:
    """Compare-and-set: only one counter can move a waiting ticket to called."""
    result = uow.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == WAITING)
        .values(
            status=CALLED,
            counter_id=counter.id,
            called_at=uow.clock(),
            target_counter_id=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _after_claim(
    uow: UnitOfWork, site: Site, counter: Counter, ticket_id: int, actor: str
) -> dict[str, Any]:
    ticket = uow.session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    counter.current_ticket_id = ticket.id
    ticket.clerk_id = counter.clerk_id
    if ticket.priority_reason is not None:
        counter.normal_since_priority = 0
    else:
        counter.normal_since_priority += 1
    _log(uow, ticket, "called", WAITING, actor, counter)
    result = _ticket_event(uow, site, TICKET_CALLED, ticket, counter=counter.number, recall=False)
    _counter_event(uow, site, counter)
    uow.commit()
    return result


def _open_counter(uow: UnitOfWork, site: Site, number: int) -> Counter:
    counter = _counter(uow, site, number, lock=True)
    if counter.status != "open":
        raise conflict("counter_paused", counter=number)
    return counter


def call_next(
    uow: UnitOfWork, site_code: str, counter_number: int, *, actor: str = ""
) -> dict[str, Any]:
    """Call the next ticket for a counter, by the order in ``engine.ordering``.

    The ticket the counter still holds is finished first.  Claiming is a
    compare-and-set, so two counters never get the same ticket; on a lost race
    the next candidate is tried.
    """
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _open_counter(uow, site, counter_number)
        _finish_current(uow, site, counter, actor)
        day = business_day(uow.clock(), site.timezone)
        for _attempt in range(CLAIM_ATTEMPTS):
            query = next_candidates(uow.session, site, counter, day)
            ids: list[int] = list(uow.session.execute(query).scalars().all())
            if not ids:
                break
            for ticket_id in ids:
                if _claim(uow, ticket_id, counter):
                    return _after_claim(uow, site, counter, ticket_id, actor)
        raise conflict("queue_empty", counter=counter_number)


def call_ticket(
    uow: UnitOfWork, site_code: str, counter_number: int, ticket_id: int, *, actor: str = ""
) -> dict[str, Any]:
    """Call one particular waiting ticket to a counter (out of the usual order).

    A ticket sent to one counter can be called only by that counter.
    """
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _open_counter(uow, site, counter_number)
        ticket = _ticket(uow, site, ticket_id)
        _require(ticket, (WAITING,), "call")
        if ticket.target_counter_id not in (None, counter.id):
            raise conflict("ticket_at_other_counter", ticket=ticket_id)
        if ticket.business_day != business_day(uow.clock(), site.timezone):
            raise conflict("ticket_expired", ticket=ticket_id)
        _finish_current(uow, site, counter, actor)
        if not _claim(uow, ticket.id, counter):
            raise conflict("invalid_transition", status=ticket.status, action="call")
        return _after_claim(uow, site, counter, ticket.id, actor)


def _held_ticket(uow: UnitOfWork, site: Site, counter: Counter, ticket_id: int | None) -> Ticket:
    """The ticket a counter-level action applies to: the one given, or the counter's current."""
    if ticket_id is None:
        if counter.current_ticket_id is None:
            raise conflict("counter_has_no_ticket", counter=counter.number)
        ticket_id = counter.current_ticket_id
    ticket = _ticket(uow, site, ticket_id)
    if ticket.status in AT_COUNTER and ticket.counter_id != counter.id:
        raise conflict("ticket_at_other_counter", ticket=ticket.id)
    return ticket


def recall(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None = None,
    *,
    actor: str = "",
) -> dict[str, Any]:
    """Call the counter's ticket again (counted); displays and the voice repeat it."""
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _counter(uow, site, counter_number, lock=True)
        ticket = _held_ticket(uow, site, counter, ticket_id)
        _require(ticket, (CALLED,), "recall")
        ticket.recall_count += 1
        _log(uow, ticket, "recalled", CALLED, actor, counter, recall_count=ticket.recall_count)
        result = _ticket_event(
            uow, site, TICKET_CALLED, ticket, counter=counter.number, recall=True
        )
        uow.commit()
        return result


def start(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None = None,
    *,
    actor: str = "",
) -> dict[str, Any]:
    """The citizen has arrived at the counter: service starts."""
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _counter(uow, site, counter_number, lock=True)
        ticket = _held_ticket(uow, site, counter, ticket_id)
        _require(ticket, (CALLED,), "start")
        ticket.status = SERVING
        ticket.started_at = uow.clock()
        _log(uow, ticket, "started", CALLED, actor, counter)
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="started")
        _counter_event(uow, site, counter)
        uow.commit()
        return result


def finish(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None = None,
    *,
    dossier_code: str | None = None,
    actor: str = "",
) -> dict[str, Any]:
    """Service is done, optionally with the dossier code (mã hồ sơ) it produced."""
    if dossier_code is not None and not DOSSIER_CODE.fullmatch(dossier_code):
        raise invalid("invalid_dossier_code")
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _counter(uow, site, counter_number, lock=True)
        ticket = _held_ticket(uow, site, counter, ticket_id)
        _require(ticket, AT_COUNTER, "finish")
        before = ticket.status
        ticket.status = DONE
        ticket.finished_at = uow.clock()
        ticket.dossier_code = dossier_code
        if counter.clerk_id is not None:  # whoever is signed in now finished the service
            ticket.clerk_id = counter.clerk_id
        _release_counter(uow, ticket)
        _log(uow, ticket, "finished", before, actor, counter, dossier_code=dossier_code)
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="finished")
        _counter_event(uow, site, counter)
        uow.commit()
        return result


def no_show(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None = None,
    *,
    actor: str = "",
) -> dict[str, Any]:
    """The called citizen did not come; the ticket can be requeued later."""
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _counter(uow, site, counter_number, lock=True)
        ticket = _held_ticket(uow, site, counter, ticket_id)
        _require(ticket, (CALLED,), "no_show")
        ticket.status = NO_SHOW
        _release_counter(uow, ticket)
        _log(uow, ticket, "no_show", CALLED, actor, counter)
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="no_show")
        _counter_event(uow, site, counter)
        uow.commit()
        return result


def _position_key(uow: UnitOfWork, site: Site, ticket: Ticket, position: str) -> int:
    if position == FRONT:
        return front_sort_key(uow.session, site.id, ticket.business_day)
    if position == BACK:
        return sort_key_at(uow.clock())
    raise invalid("invalid_position", position=position)


def requeue(
    uow: UnitOfWork, site_code: str, ticket_id: int, *, position: str = BACK, actor: str = ""
) -> dict[str, Any]:
    """Put a no-show ticket back in its queue, at the front or the back."""
    with uow:
        site = site_by_code(uow.session, site_code)
        ticket = _ticket(uow, site, ticket_id)
        _require(ticket, (NO_SHOW,), "requeue")
        if ticket.business_day != business_day(uow.clock(), site.timezone):
            raise conflict("ticket_expired", ticket=ticket_id)
        ticket.sort_key = _position_key(uow, site, ticket, position)
        ticket.status = WAITING
        _log(uow, ticket, "requeued", NO_SHOW, actor, position=position)
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="requeued")
        uow.commit()
        return result


def transfer(
    uow: UnitOfWork,
    site_code: str,
    ticket_id: int | None,
    *,
    from_counter: int | None = None,
    to_service: str | None = None,
    to_counter: int | None = None,
    position: str = BACK,
    actor: str = "",
) -> dict[str, Any]:
    """Send a ticket to another service's queue or to one counter, keeping its number.

    It waits again, at the front or the back of that queue; the counter that
    held it is freed.  With ``from_counter`` and no ticket id, the counter's
    current ticket is sent.
    """
    if (to_service is None) == (to_counter is None):
        raise invalid("transfer_target_required")
    with uow:
        site = site_by_code(uow.session, site_code)
        if from_counter is not None:
            holder = _counter(uow, site, from_counter, lock=True)
            ticket = _held_ticket(uow, site, holder, ticket_id)
        elif ticket_id is not None:
            ticket = _ticket_and_holder(uow, site, ticket_id)
        else:
            raise invalid("transfer_ticket_required")
        _require(ticket, (WAITING, CALLED, SERVING), "transfer")
        before = ticket.status
        source = _release_counter(uow, ticket)
        if to_service is not None:
            service = _service(uow, site, to_service)
            ticket.service_id = service.id
            ticket.target_counter_id = None
        else:
            assert to_counter is not None
            target = _counter(uow, site, to_counter)
            ticket.target_counter_id = target.id
        ticket.sort_key = _position_key(uow, site, ticket, position)
        ticket.status = WAITING
        _log(
            uow,
            ticket,
            "transferred",
            before,
            actor,
            to_service=to_service,
            to_counter=to_counter,
            position=position,
        )
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="transferred")
        if source is not None:
            _counter_event(uow, site, source)
        uow.commit()
        return result


def cancel(uow: UnitOfWork, site_code: str, ticket_id: int, *, actor: str = "") -> dict[str, Any]:
    """Withdraw a ticket that has not been served."""
    with uow:
        site = site_by_code(uow.session, site_code)
        ticket = _ticket_and_holder(uow, site, ticket_id)
        _require(ticket, (WAITING, CALLED, NO_SHOW), "cancel")
        before = ticket.status
        ticket.status = CANCELLED
        source = _release_counter(uow, ticket)
        _log(uow, ticket, "cancelled", before, actor)
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="cancelled")
        if source is not None:
            _counter_event(uow, site, source)
        uow.commit()
        return result
