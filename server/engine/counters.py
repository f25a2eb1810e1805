"""Counter-level operations: pause and resume service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..models import Counter, TicketEvent
from .errors import conflict, not_found
from .events import COUNTER_UPDATED
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
    """Stop calling at a counter ("Tạm ngừng phục vụ"); its tickets stay in their queues."""
    return _set_status(uow, site_code, number, "paused", actor)


def resume(uow: UnitOfWork, site_code: str, number: int, *, actor: str = "") -> dict[str, Any]:
    """Open a paused counter again."""
    return _set_status(uow, site_code, number, "open", actor)
