"""Setting up a site's counters: their numbers, names and the services each serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine.unit_of_work import UnitOfWork
from ..models import ApiToken, Counter, CounterService, Site
from . import setup_checks as setup
from .setup_checks import ChangeAuthor, Checks, Problem

MAX_COUNTER = 999
WEIGHTS = range(1, 11)


@dataclass
class CounterData:
    number: int | None
    name: str = ""
    active: bool = True
    # service id -> weight (1-10); a service left out is not served here.
    weights: dict[int, int] = field(default_factory=dict)


def _bound_devices(session: Session, site_id: int, number: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(ApiToken)
            .where(
                ApiToken.site_id == site_id,
                ApiToken.counter_number == number,
                ApiToken.revoked_at.is_(None),
            )
        ).scalar_one()
    )


def _check_counter(
    checks: Checks, session: Session, site: Site, data: CounterData, current: Counter | None
) -> None:
    others = [c for c in site.counters if current is None or c.id != current.id]
    if data.number is None:
        checks.fail("number", "Không được để trống.")
    elif not 1 <= data.number <= MAX_COUNTER:
        checks.fail("number", "Nhập một số từ %(low)d đến %(high)d.", low=1, high=MAX_COUNTER)
    elif any(c.number == data.number for c in others):
        checks.fail("number", "Quầy số %(n)d đã có.", n=data.number)
    elif current is not None and current.number != data.number:
        devices = _bound_devices(session, site.id, current.number)
        if devices:
            checks.fail(
                "number",
                "Có %(n)d thiết bị đang gắn với quầy số %(old)d: thu hồi chúng trước khi đổi số.",
                n=devices,
                old=current.number,
            )
    checks.text("name", data.name, limit=200, required=False)
    known = {s.id for s in site.services}
    for service_id, weight in data.weights.items():
        if service_id not in known:
            checks.fail("services", "Lĩnh vực không thuộc đơn vị này.")
        elif weight not in WEIGHTS:
            checks.fail(f"weight-{service_id}", "Trọng số từ 1 đến 10.")
    if current is not None and current.active and not data.active and current.current_ticket_id:
        # The ticket would stay "called" or "serving" at a counter nobody can open any more.
        checks.fail(
            "active",
            "Quầy đang gọi hoặc phục vụ một phiếu; hãy hoàn thành hoặc chuyển phiếu"
            " trước khi ngừng hoạt động.",
        )


def _counter_summary(counter: Counter) -> dict[str, Any]:
    return {
        "number": counter.number,
        "name": counter.name,
        "active": counter.active,
        "services": {link.service.code: link.weight for link in counter.service_links},
    }


def save_counter(
    uow: UnitOfWork, site_code: str, counter_id: int | None, data: CounterData, author: ChangeAuthor
) -> int:
    """Add a counter (``counter_id`` None) or change one; returns its id.

    Numbers are unique per site; a number devices are bound to keeps them working,
    so it changes only once they are revoked. A counter with a ticket called or
    being served there stays active until that ticket is finished or transferred.
    Weights: higher is served first.
    """
    data.name = setup.clean(data.name)
    with uow:
        site = setup.site_by_code(uow.session, site_code)
        current = None
        if counter_id is not None:
            # Locked as the engine locks it (see LOCK in engine.tickets): a call at this
            # counter waits for this change, or this change sees the ticket it called.
            current = uow.session.get(Counter, counter_id, with_for_update={"key_share": True})
            if current is None or current.site_id != site.id:
                raise LookupError(counter_id)
        checks = Checks()
        _check_counter(checks, uow.session, site, data, current)
        checks.done()
        assert data.number is not None  # checked above
        before = _counter_summary(current) if current else {}
        counter = current or Counter(site_id=site.id)
        counter.number, counter.name, counter.active = data.number, data.name, data.active
        links = {link.service_id: link for link in counter.service_links}
        kept = []
        for service_id, weight in data.weights.items():
            link = links.get(service_id) or CounterService(service_id=service_id)
            link.weight = weight
            kept.append(link)
        counter.service_links = kept
        uow.session.add(counter)
        uow.session.flush()
        setup.record(
            uow,
            author,
            site,
            "counter.update" if current else "counter.create",
            target=f"{site.code}/{counter.number}",
            detail=setup.changes(before, _counter_summary(counter)),
            message={"changed": "counters", "counter": counter.number},
        )
        new_id = counter.id
        setup.commit_refusing(uow, {"number": Problem("Quầy số %(n)d đã có.", {"n": data.number})})
        return new_id
