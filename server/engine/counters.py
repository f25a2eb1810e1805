"""Counter-level operations: pause and resume service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..models import Counter, Site, TicketEvent, User, UserSite
from .errors import QueueError, conflict, not_found
from .events import COUNTER_UPDATED
from .rules import OPEN, PAUSED
from .unit_of_work import UnitOfWork
from .views import counter_dict, site_by_code


def _set_status(
    uow: UnitOfWork, site_code: str, number: int, new: str, actor: str
) -> dict[str, Any]:
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = uow.session.execute(
            select(Counter)
            .where(Counter.site_id == site.id, Counter.number == number)
            .with_for_update(key_share=True)  # see LOCK in engine.tickets
        ).scalar_one_or_none()
        if counter is None or not counter.active:
            raise not_found("counter_not_found", counter=number)
        if counter.status == new:
            raise conflict("counter_already_" + new, counter=number)
        before = counter.status
        counter.status = new
        uow.session.add(
            TicketEvent(
                site_id=site.id,
                counter_id=counter.id,
                kind="counter_" + new,
                from_status=before,
                to_status=new,
                actor=actor,
                at=uow.clock(),
            )
        )
        uow.session.flush()
        data = counter_dict(uow.session, counter)
        uow.emit(site, COUNTER_UPDATED, {"counter": data})
        uow.commit()
        return data


def pause(uow: UnitOfWork, site_code: str, number: int, *, actor: str = "") -> dict[str, Any]:
    """Stop calling at a counter ("Tạm dừng phục vụ"); its tickets stay in their queues."""
    return _set_status(uow, site_code, number, PAUSED, actor)


def resume(uow: UnitOfWork, site_code: str, number: int, *, actor: str = "") -> dict[str, Any]:
    """Open a paused counter again."""
    return _set_status(uow, site_code, number, OPEN, actor)


def _works_at(uow: UnitOfWork, user: User, site_id: int) -> bool:
    if user.role == "admin":
        return True
    link = uow.session.get(UserSite, (user.id, site_id))
    return link is not None


def _clerk_name(uow: UnitOfWork, user_id: int) -> str:
    user = uow.session.get(User, user_id)
    return (user.full_name or user.username) if user is not None else str(user_id)


def sign_in(
    uow: UnitOfWork,
    site_code: str,
    number: int,
    user_id: int,
    *,
    take_over: bool = False,
    actor: str = "",
) -> dict[str, Any]:
    """A clerk takes a counter: one clerk per counter, one counter per clerk.

    A counter another clerk holds is refused unless ``take_over`` (a manager
    freeing a counter someone forgot to leave). The clerk's other counter, if
    any, is left. Tickets called from now on are tied to this clerk, so only an
    active account of this site (or an admin) may sign in.
    """
    with uow:
        site = site_by_code(uow.session, site_code)
        # One sign-in per clerk at a time: two at once would each miss the other's counter.
        user = uow.session.execute(
            select(User).where(User.id == user_id).with_for_update(key_share=True)
        ).scalar_one_or_none()
        if user is None or not user.active or not _works_at(uow, user, site.id):
            raise QueueError("not_staff_of_site", "forbidden", site=site_code)
        counter = uow.session.execute(
            select(Counter)
            .where(Counter.site_id == site.id, Counter.number == number)
            .with_for_update(key_share=True)
        ).scalar_one_or_none()
        if counter is None or not counter.active:
            raise not_found("counter_not_found", counter=number)
        if counter.clerk_id not in (None, user_id) and not take_over:
            raise conflict(
                "counter_taken", counter=number, clerk=_clerk_name(uow, counter.clerk_id)
            )
        if counter.clerk_id == user_id:
            data = counter_dict(uow.session, counter)
            uow.commit()
            return data
        _leave_other_counters(uow, user_id, keep=counter.id, actor=actor)
        before = counter.clerk_id
        counter.clerk_id = user_id
        _log_clerk(uow, site.id, counter, "clerk_signed_in", before, user_id, actor)
        uow.session.flush()
        data = counter_dict(uow.session, counter)
        uow.emit(site, COUNTER_UPDATED, {"counter": data})
        uow.commit()
        return data


def sign_out(uow: UnitOfWork, user_id: int, *, actor: str = "") -> int:
    """The clerk leaves whatever counter they hold (logging out does this); returns how many."""
    with uow:
        left = _leave_other_counters(uow, user_id, keep=None, actor=actor)
        uow.commit()
        return left


def release(uow: UnitOfWork, site_code: str, number: int, *, actor: str = "") -> dict[str, Any]:
    """Free a counter from whoever holds it (a manager's action)."""
    with uow:
        site = site_by_code(uow.session, site_code)
        counter = uow.session.execute(
            select(Counter)
            .where(Counter.site_id == site.id, Counter.number == number)
            .with_for_update(key_share=True)
        ).scalar_one_or_none()
        if counter is None:
            raise not_found("counter_not_found", counter=number)
        if counter.clerk_id is not None:
            _log_clerk(uow, site.id, counter, "clerk_signed_out", counter.clerk_id, None, actor)
            counter.clerk_id = None
            uow.session.flush()
            uow.emit(site, COUNTER_UPDATED, {"counter": counter_dict(uow.session, counter)})
        data = counter_dict(uow.session, counter)
        uow.commit()
        return data


def _leave_other_counters(uow: UnitOfWork, user_id: int, *, keep: int | None, actor: str) -> int:
    held = (
        uow.session.execute(
            select(Counter)
            .where(Counter.clerk_id == user_id, Counter.id != (keep or 0))
            .order_by(Counter.id)
            .with_for_update(key_share=True)
        )
        .scalars()
        .all()
    )
    for other in held:
        other.clerk_id = None
        _log_clerk(uow, other.site_id, other, "clerk_signed_out", user_id, None, actor)
        uow.session.flush()
        site = uow.session.get(Site, other.site_id)
        assert site is not None
        uow.emit(site, COUNTER_UPDATED, {"counter": counter_dict(uow.session, other)})
    return len(held)


def _log_clerk(
    uow: UnitOfWork,
    site_id: int,
    counter: Counter,
    kind: str,
    before: int | None,
    after: int | None,
    actor: str,
) -> None:
    uow.session.add(
        TicketEvent(
            site_id=site_id,
            counter_id=counter.id,
            kind=kind,
            actor=actor,
            at=uow.clock(),
            data={"clerk_before": before, "clerk_after": after},
        )
    )
