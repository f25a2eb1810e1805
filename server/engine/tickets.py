"""What happens to a ticket: issue, call, serve, finish, move, cancel.

Each public function is one transaction in the given unit of work: it either
commits its change with the events describing it, or raises ``QueueError``
and changes nothing.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, func, null, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..models import CallKey, Counter, CounterService, QueueCount, Service, Site, Ticket, User
from ..timeutil import business_day
from . import estimates, hours, numbering
from .errors import conflict, invalid, not_found
from .events import COUNTER_UPDATED, TICKET_CALLED, TICKET_ISSUED, TICKET_UPDATED
from .ordering import front_sort_key, next_candidates, sort_key_at
from .rules import (
    AT_COUNTER,
    BACK,
    CALLED,
    CHANNELS,
    FRONT,
    PRIORITY_REASONS,
    SERVING,
    UNSTARTED_REQUEUE,
    WAITING,
)
from .transitions import (
    CALL,
    CANCEL,
    FINISH,
    NO_SHOW_ACTION,
    PUT_BACK,
    RECALL,
    REQUEUE,
    START,
    TRANSFER,
    move_to,
)
from .unit_of_work import UnitOfWork
from .views import (
    QueueFigures,
    counter_dict,
    queue_figures,
    site_by_code,
    ticket_with_wait,
    waiting_counts,
)

DOSSIER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/]{0,63}$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")
CLAIM_ATTEMPTS = 5


@dataclass
class Issued:
    ticket: dict[str, Any]
    replayed: bool


class Called(dict[str, Any]):
    """The called ticket, as clients see it; ``replayed``: an earlier call made with the
    same Idempotency-Key is answered again, and nothing changed."""

    def __init__(self, view: dict[str, Any], *, replayed: bool = False) -> None:
        super().__init__(view)
        self.replayed = replayed


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


def _log(
    uow: UnitOfWork,
    ticket: Ticket,
    kind: str,
    before: str | None,
    actor: str,
    counter: Counter | None = None,
    **data: Any,
) -> None:
    uow.log(
        {
            "site_id": ticket.site_id,
            "ticket_id": ticket.id,
            "counter_id": counter.id if counter else ticket.counter_id,
            "kind": kind,
            "from_status": before,
            "to_status": ticket.status,
            "actor": actor,
            "at": uow.clock(),
            "data": data,
        }
    )


def _ticket_event(
    uow: UnitOfWork,
    site: Site,
    name: str,
    ticket: Ticket,
    *,
    new: bool = False,
    figures: QueueFigures | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Emit an event with the ticket as it now stands; returns that ticket view.

    The ticket's attributes are what this transaction wrote (nothing is read back);
    ``new``: it was just issued, so its place in line comes with the waiting counts;
    ``figures``: those counts, already read by the caller.
    """
    uow.session.flush()
    if figures is None:
        figures = queue_figures(uow.session, site, ticket.business_day, ticket if new else None)
    view = ticket_with_wait(
        uow.session, site, ticket, uow.clock(), ahead=figures.ahead, staffed=figures.staffed
    )
    payload = {"ticket": view, "waiting": figures.by_code, **extra}
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


def _held_now(uow: UnitOfWork, counter: Counter) -> Ticket | None:
    """The ticket the (locked) counter holds, locked in its turn."""
    if counter.current_ticket_id is None:
        return None
    return uow.session.get(Ticket, counter.current_ticket_id, with_for_update=LOCK)


def _end_current(
    uow: UnitOfWork,
    site: Site,
    counter: Counter,
    current: Ticket | None,
    actor: str,
    counts: _Counts | None = None,
) -> int | None:
    """Calling the next ticket ends the one the counter still holds (``current``).

    A ticket being served is finished (served). One called but never started was not
    served: it becomes a no-show, or waits again at the front of its queue, as the site
    chose (``Site.unstarted_on_next``). Returns the id of a ticket put back to wait, so the
    call that put it back passes it by.

    The counter's own pointer is left for the call to set: the call either claims a ticket
    (and points the counter at it) or is refused and rolled back. ``counts``: the waiting
    counts, when the caller keeps them (``_Counts``).
    """
    if current is None or current.status not in AT_COUNTER:
        return None
    figures = counts.figures() if counts is not None else None
    if current.status == SERVING:
        current.status = move_to(FINISH, SERVING)
        current.finished_at = uow.clock()
        if counter.clerk_id is not None:  # as in finish(): whoever is signed in ended the service
            current.clerk_id = counter.clerk_id
        _log(uow, current, "finished", SERVING, actor, counter, automatic=True)
        _ticket_event(uow, site, TICKET_UPDATED, current, figures=figures, action="finished")
        return None
    today = business_day(uow.clock(), site.timezone)
    if site.unstarted_on_next == UNSTARTED_REQUEUE and current.business_day == today:
        current.sort_key = front_sort_key(uow.session, site.id, today)
        current.status = move_to(PUT_BACK, CALLED)
        _log(uow, current, "requeued", CALLED, actor, counter, automatic=True, position=FRONT)
        if counts is not None:
            counts.add(current.service_id, 1)
            figures = counts.figures()
        _ticket_event(uow, site, TICKET_UPDATED, current, figures=figures, action="requeued")
        return current.id
    current.status = move_to(NO_SHOW_ACTION, CALLED)
    _log(uow, current, "no_show", CALLED, actor, counter, automatic=True)
    _ticket_event(uow, site, TICKET_UPDATED, current, figures=figures, action="no_show")
    return None


# --- issuing -------------------------------------------------------------------

# A further rule for a new ticket (``engine.remote``: numbers from home), run in the issuing
# transaction once the number is drawn: it may refuse (``QueueError``) or set the ticket's
# arrival fields.
Admission = Callable[[UnitOfWork, Site, Service, Ticket], None]


def issue_ticket(
    uow: UnitOfWork,
    site_code: str,
    service_code: str,
    *,
    priority: str | None = None,
    channel: str = "kiosk",
    idempotency_key: str | None = None,
    actor: str = "",
    admit: Admission | None = None,
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
        # The site, the service and whether a counter serves it, in one query.
        found = uow.session.execute(
            select(Site, Service, estimates.served_column(Service.id))
            .join(Service, Service.site_id == Site.id)
            .where(Site.code == site_code, Service.code == service_code)
        ).first()
        site = found[0] if found is not None else site_by_code(uow.session, site_code)
        if idempotency_key is not None:
            replay = _replay(uow, site, service_code, idempotency_key)
            if replay is not None:
                return replay
        if found is None:
            raise not_found("service_not_found", service=service_code)
        service, served = found[1], bool(found[2])
        now = uow.clock()
        if not service.active:
            raise conflict("service_inactive", service=service.code)
        if not hours.is_open(service.sessions, now, site.timezone):
            raise conflict("service_closed", service=service.code)
        if not served:
            raise conflict("service_unserved", service=service.code)
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
        ticket.service = service  # loaded already: the answer reads its code and name
        if admit is not None:
            admit(uow, site, service, ticket)
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
        result = _ticket_event(uow, site, TICKET_ISSUED, ticket, new=True)
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


def _claim(uow: UnitOfWork, ticket_id: int, counter: Counter) -> Ticket | None:
    """Compare-and-set: only one counter can move a waiting ticket to called.

    The claimed row comes back from the UPDATE itself (RETURNING), as the ticket now is;
    None: another counter took it first."""
    params = {
        "ticket_id": ticket_id,
        "to_counter": counter.id,
        "at": uow.clock(),
        "clerk": counter.clerk_id,
    }
    return uow.session.scalars(_claim_statement(), params).one_or_none()


@cache
def _claim_statement() -> Any:
    """The claim's UPDATE, built once (building it cost more than running it)."""
    return (
        update(Ticket)
        .where(Ticket.id == bindparam("ticket_id"), Ticket.status == WAITING)
        .values(
            status=move_to(CALL, WAITING),
            counter_id=bindparam("to_counter"),
            called_at=bindparam("at", type_=Ticket.__table__.c.called_at.type),
            target_counter_id=None,
            clerk_id=bindparam("clerk"),
        )
        .returning(Ticket)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


# What a keyed call asked for: the next ticket, or one particular ticket.
NEXT = "next"


def _ticket_request(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def _check_key(key: str | None) -> None:
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise invalid("invalid_idempotency_key")


def _call_replay(
    uow: UnitOfWork, site: Site, counter: Counter, key: str | None, request: str
) -> Called | None:
    """The call an Idempotency-Key already made, as the ticket now stands; None if new.

    The same key at another counter, or for another request, is refused: answering it
    with this call would hand a clerk a ticket they did not ask for.
    """
    if key is None:
        return None
    return _replayed(uow, site, counter, uow.session.get(CallKey, (site.id, key)), request)


def _replayed(
    uow: UnitOfWork, site: Site, counter: Counter, made: CallKey | None, request: str
) -> Called | None:
    """``_call_replay`` once the key's row (if any) is read."""
    if made is None:
        return None
    if made.counter_id != counter.id or made.request != request:
        raise conflict("idempotency_key_reused")
    ticket = uow.session.get_one(Ticket, made.ticket_id)
    return Called(ticket_with_wait(uow.session, site, ticket, uow.clock()), replayed=True)


def _after_claim(
    uow: UnitOfWork,
    site: Site,
    counter: Counter,
    ticket: Ticket,
    actor: str,
    key: str | None,
    request: str,
    counts: _Counts | None = None,
) -> Called:
    """What a claim leads to: the counter holds the ticket, the key is kept, the events.

    ``counts``: the waiting counts as they stood before the claim, when the caller keeps
    them (the claimed ticket no longer waits)."""
    counter.current_ticket_id = ticket.id
    if ticket.priority_reason is not None:
        counter.normal_since_priority = 0
    else:
        counter.normal_since_priority += 1
    if key is not None:
        uow.session.add(
            CallKey(
                site_id=site.id,
                key=key,
                counter_id=counter.id,
                request=request,
                ticket_id=ticket.id,
                created_at=uow.clock(),
            )
        )
        try:
            uow.session.flush()
        except IntegrityError:
            # Another counter's call took this key first (one counter's calls queue on its lock).
            uow.rollback()
            raise conflict("idempotency_key_reused") from None
    _log(uow, ticket, "called", WAITING, actor, counter)
    figures = None
    if counts is not None:
        counts.add(ticket.service_id, -1)
        figures = counts.figures()
    result = _ticket_event(
        uow, site, TICKET_CALLED, ticket, figures=figures, counter=counter.number, recall=False
    )
    _counter_event(uow, site, counter)
    uow.commit()
    return Called(result)


class _Counts:
    """The waiting count of each service of the site, read once with the counter and kept
    up to date by call-next itself as it ends a ticket and claims another (the events carry
    them), instead of read again after each change.

    Exact on SQLite (one writer at a time); on PostgreSQL as exact as a read at that moment
    was already: a change another counter commits meanwhile reaches clients by its own event.
    """

    def __init__(self, services: list[Service], waiting: dict[int, int]) -> None:
        self.services = services  # held: the tickets' views read their service from the session
        self.waiting = waiting

    def add(self, service_id: int, n: int) -> None:
        self.waiting[service_id] = self.waiting.get(service_id, 0) + n

    def figures(self) -> QueueFigures:
        return QueueFigures(
            {s.code: self.waiting.get(s.id, 0) for s in self.services}, services=self.services
        )


@dataclass
class _CallNext:
    """What call-next reads before it changes anything, from one statement."""

    site: Site
    counter: Counter
    weights: dict[int, int]
    current: Ticket | None
    made: CallKey | None
    counts: _Counts
    # Held, so the session's identity map (weak) keeps it for ``counter_dict``.
    clerk: User | None


@cache
def _call_next_statement(dialect: str, keyed: bool) -> Any:
    """The site, its counter locked (as ``_counter(lock=True)``), the counter's service
    weights, the clerk signed in, the ticket it holds, the call made with the key if any,
    and every service of the site with its waiting count (``QueueCount``, kept by triggers)
    on the business day given; one row per service. Built once (building SQLAlchemy
    expressions costs more than running them)."""
    if dialect == "postgresql":
        agg = func.json_object_agg(CounterService.service_id, CounterService.weight)
    else:
        agg = func.json_group_object(CounterService.service_id, CounterService.weight)
    weights = (
        select(agg)
        .where(CounterService.counter_id == Counter.id)
        .correlate(Counter)
        .scalar_subquery()
    )
    waiting = (
        select(func.coalesce(func.sum(QueueCount.waiting), 0))
        .where(
            QueueCount.site_id == Service.site_id,
            QueueCount.service_id == Service.id,
            QueueCount.business_day == bindparam("day"),
        )
        .correlate(Service)
        .scalar_subquery()
    )
    current = aliased(Ticket)
    made: Any = aliased(CallKey) if keyed else null()
    query = (
        select(Site, Counter, User, weights, current, made, Service, waiting)
        .join(Counter, Counter.site_id == Site.id)
        .outerjoin(User, User.id == Counter.clerk_id)
        .outerjoin(current, current.id == Counter.current_ticket_id)
        .outerjoin(Service, Service.site_id == Site.id)
    )
    if keyed:
        query = query.outerjoin(made, and_(made.site_id == Site.id, made.key == bindparam("key")))
    return (
        query.where(Site.code == bindparam("site_code"), Counter.number == bindparam("number"))
        .order_by(Service.sort_order, Service.id)
        .with_for_update(key_share=True, of=Counter)
    )


# Site code -> its time zone, as last read in this process: the business day of the counts
# is needed before the site row is read. A wrong guess (the first call of a site in a
# process, a site whose zone changed) costs one more query, never a wrong count.
_ZONES: dict[str, str] = {}


def _read_call_next(uow: UnitOfWork, site_code: str, number: int, key: str | None) -> _CallNext:
    now = uow.clock()
    guess = business_day(now, _ZONES.get(site_code, "UTC"))
    params: dict[str, Any] = {"site_code": site_code, "number": number, "day": guess}
    if key is not None:
        params["key"] = key
    dialect = uow.session.get_bind().dialect.name
    rows = uow.session.execute(_call_next_statement(dialect, key is not None), params).all()
    if not rows:
        site_by_code(uow.session, site_code)  # no such site: that is the answer
        raise not_found("counter_not_found", counter=number)
    site, counter, clerk, weights, current, made = rows[0][:6]
    if not counter.active:
        raise not_found("counter_not_found", counter=number)
    if isinstance(weights, str):
        weights = json.loads(weights)
    services = [row[6] for row in rows if row[6] is not None]
    waiting = {row[6].id: int(row[7]) for row in rows if row[6] is not None}
    _ZONES[site_code] = site.timezone
    if business_day(now, site.timezone) != guess:
        waiting = waiting_counts(uow.session, site.id, business_day(now, site.timezone))
    return _CallNext(
        site=site,
        counter=counter,
        weights={int(k): int(v) for k, v in (weights or {}).items()},
        current=current,
        made=made,
        counts=_Counts(services, waiting),
        clerk=clerk,
    )


def _require_open(counter: Counter) -> None:
    if counter.status != "open":
        raise conflict("counter_paused", counter=counter.number)


def call_next(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    *,
    idempotency_key: str | None = None,
    actor: str = "",
) -> Called:
    """Call the next ticket for a counter, by the order in ``engine.ordering``.

    The ticket the counter still holds is ended first (``_end_current``).  Claiming is a
    compare-and-set, so two counters never get the same ticket; on a lost race the next
    candidate is tried.  The same idempotency key answers the call it first made, so a
    retry after a lost answer never ends the ticket just called.
    """
    _check_key(idempotency_key)
    with uow:
        read = _read_call_next(uow, site_code, counter_number, idempotency_key)
        site, counter = read.site, read.counter
        replay = _replayed(uow, site, counter, read.made, NEXT)
        if replay is not None:
            return replay
        _require_open(counter)
        # The counter's ticket was read with the counter, not locked: a ticket at a counter
        # changes status only under that counter's lock, which this transaction holds.
        put_back = _end_current(uow, site, counter, read.current, actor, read.counts)
        day = business_day(uow.clock(), site.timezone)
        for _attempt in range(CLAIM_ATTEMPTS):
            query = next_candidates(uow.session, site, counter, day, weights=read.weights)
            ids = [i for i in uow.session.execute(query).scalars() if i != put_back]
            if not ids:
                break
            for ticket_id in ids:
                claimed = _claim(uow, ticket_id, counter)
                if claimed is not None:
                    return _after_claim(
                        uow, site, counter, claimed, actor, idempotency_key, NEXT, read.counts
                    )
        raise conflict("queue_empty", counter=counter_number)


def call_ticket(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int,
    *,
    idempotency_key: str | None = None,
    actor: str = "",
) -> Called:
    """Call one particular waiting ticket to a counter (out of the usual order).

    A ticket sent to one counter can be called only by that counter.  The counter's
    current ticket is ended and an idempotency key is kept as in ``call_next``.
    """
    _check_key(idempotency_key)
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _counter(uow, site, counter_number, lock=True)
        request = _ticket_request(ticket_id)
        replay = _call_replay(uow, site, counter, idempotency_key, request)
        if replay is not None:
            return replay
        _require_open(counter)
        ticket = _ticket(uow, site, ticket_id)
        move_to(CALL, ticket.status)
        if ticket.target_counter_id not in (None, counter.id):
            raise conflict("ticket_at_other_counter", ticket=ticket_id)
        if ticket.business_day != business_day(uow.clock(), site.timezone):
            raise conflict("ticket_expired", ticket=ticket_id)
        _end_current(uow, site, counter, _held_now(uow, counter), actor)
        claimed = _claim(uow, ticket.id, counter)
        if claimed is None:
            raise conflict("invalid_transition", status=ticket.status, action=CALL)
        return _after_claim(uow, site, counter, claimed, actor, idempotency_key, request)


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


# What an action on a counter's ticket does besides moving it: its own fields, returning what
# its log row records.
Change = Callable[[Ticket, Counter], dict[str, Any]]


def _counter_action(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None,
    action: str,
    kind: str,
    actor: str,
    change: Change | None = None,
) -> dict[str, Any]:
    """Recall, start, finish and no-show, alike: lock the counter, then its ticket (the one
    given, or the counter's current); move the ticket as the transition table allows; free
    the counter if the ticket has left it; log ``kind``; publish; commit.

    A recall is a ``ticket.called`` event again (displays and the voice repeat it) and leaves
    the counter as it was; the others are ``ticket.updated`` and the counter's event.
    """
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = _counter(uow, site, counter_number, lock=True)
        ticket = _held_ticket(uow, site, counter, ticket_id)
        before = ticket.status
        ticket.status = move_to(action, before)
        data = change(ticket, counter) if change is not None else {}
        if ticket.status not in AT_COUNTER:
            _release_counter(uow, ticket)
        _log(uow, ticket, kind, before, actor, counter, **data)
        if action == RECALL:
            result = _ticket_event(
                uow, site, TICKET_CALLED, ticket, counter=counter.number, recall=True
            )
        else:
            result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action=kind)
            _counter_event(uow, site, counter)
        uow.commit()
        return result


def recall(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None = None,
    *,
    actor: str = "",
) -> dict[str, Any]:
    """Call the counter's ticket again (counted); displays and the voice repeat it."""

    def count(ticket: Ticket, _counter: Counter) -> dict[str, Any]:
        ticket.recall_count += 1
        return {"recall_count": ticket.recall_count}

    return _counter_action(
        uow, site_code, counter_number, ticket_id, RECALL, "recalled", actor, count
    )


def start(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None = None,
    *,
    actor: str = "",
) -> dict[str, Any]:
    """The citizen has arrived at the counter: service starts."""

    def started(ticket: Ticket, _counter: Counter) -> dict[str, Any]:
        ticket.started_at = uow.clock()
        return {}

    return _counter_action(
        uow, site_code, counter_number, ticket_id, START, "started", actor, started
    )


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

    def finished(ticket: Ticket, counter: Counter) -> dict[str, Any]:
        ticket.finished_at = uow.clock()
        ticket.dossier_code = dossier_code
        if counter.clerk_id is not None:  # whoever is signed in now finished the service
            ticket.clerk_id = counter.clerk_id
        return {"dossier_code": dossier_code}

    return _counter_action(
        uow, site_code, counter_number, ticket_id, FINISH, "finished", actor, finished
    )


def no_show(
    uow: UnitOfWork,
    site_code: str,
    counter_number: int,
    ticket_id: int | None = None,
    *,
    actor: str = "",
) -> dict[str, Any]:
    """The called citizen did not come; the ticket can be requeued later."""
    return _counter_action(
        uow, site_code, counter_number, ticket_id, NO_SHOW_ACTION, "no_show", actor
    )


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
        before, target = ticket.status, move_to(REQUEUE, ticket.status)
        if ticket.business_day != business_day(uow.clock(), site.timezone):
            raise conflict("ticket_expired", ticket=ticket_id)
        ticket.sort_key = _position_key(uow, site, ticket, position)
        ticket.status = target
        _log(uow, ticket, "requeued", before, actor, position=position)
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
        before, moved = ticket.status, move_to(TRANSFER, ticket.status)
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
        ticket.status = moved
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
        before = ticket.status
        ticket.status = move_to(CANCEL, before)
        source = _release_counter(uow, ticket)
        _log(uow, ticket, "cancelled", before, actor)
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="cancelled")
        if source is not None:
            _counter_event(uow, site, source)
        uow.commit()
        return result
