"""The live dashboard of a site: what is happening now, read in a few small queries.

Plain functions, no Flask: ``site_dashboard`` is the snapshot the page at
``/admin/live/<site>`` draws (and reads again after each Socket.IO event, and every few
seconds, since a wait passes its target without any event); ``province_overview`` is one
line per site for the province view, worst first.

Which counters serve a service now (open, not paused, with a clerk signed in) is worked
out here in ``staffed_services``: the engine will get helpers for it (branch i9-engine);
this is the one place to switch to them.

The day's totals are counts of today's tickets by where they stand (served: ``done``
only); the day's full figures (waits, service times, ratings) are the report page's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..engine.rules import AT_COUNTER, CALLED, DONE, NO_SHOW, SERVING, WAITING
from ..models import (
    ApiToken,
    Counter,
    CounterService,
    PrintJob,
    Service,
    Site,
    Ticket,
    TicketEvent,
    User,
)
from ..timeutil import business_day
from .period import day_start

# Counter states as the dashboard shows them.
IDLE, PAUSED, OFF, CLOSED = "idle", "paused", "off", "closed"
# server.kiosk_pages.jobs.FAILED: the print job's status when the printer failed.
PRINT_FAILED = "failed"
# Alert kinds, most urgent first (the province view sorts by them).
OVER_TARGET, UNSERVED, PRINTER = "over_target", "unserved", "printer"


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    aware = _aware(moment)
    return aware.isoformat() if aware is not None else None


def _seconds(since: datetime | None, now: datetime) -> float | None:
    since = _aware(since)
    return None if since is None else max(0.0, round((now - since).total_seconds(), 1))


def staffed_services(session: Session, site_id: int) -> dict[int, list[int]]:
    """Service id -> numbers of the counters serving it now: active, open, a clerk in."""
    rows = session.execute(
        select(CounterService.service_id, Counter.number)
        .join(Counter, Counter.id == CounterService.counter_id)
        .where(
            Counter.site_id == site_id,
            Counter.active.is_(True),
            Counter.status != PAUSED,
            Counter.clerk_id.is_not(None),
        )
        .order_by(Counter.number)
    ).all()
    staffed: dict[int, list[int]] = defaultdict(list)
    for service_id, number in rows:
        staffed[service_id].append(number)
    return staffed


def _waiting(session: Session, site_id: int, day: Any) -> list[Any]:
    """Today's waiting tickets, each with when its current wait began (draw, transfer or
    requeue: the last event that put it in line, as ``wait_s`` counts it)."""
    return list(
        session.execute(
            select(
                Ticket.id,
                Ticket.number,
                Ticket.service_id,
                Ticket.issued_at,
                func.max(TicketEvent.at).label("since"),
            )
            .outerjoin(
                TicketEvent,
                (TicketEvent.ticket_id == Ticket.id) & (TicketEvent.to_status == WAITING),
            )
            .where(
                Ticket.site_id == site_id,
                Ticket.business_day == day,
                Ticket.status == WAITING,
            )
            .group_by(Ticket.id, Ticket.number, Ticket.service_id, Ticket.issued_at)
        ).all()
    )


def _failed_printers(session: Session, site_id: int, since: datetime) -> list[dict[str, Any]]:
    """Kiosks whose latest print job of the day failed (a later good print clears it)."""
    latest = (
        select(func.max(PrintJob.id))
        .where(PrintJob.site_id == site_id, PrintJob.created_at >= since)
        .group_by(PrintJob.device_id)
    )
    rows = session.execute(
        select(PrintJob.device_id, ApiToken.label, PrintJob.last_error, PrintJob.created_at)
        .add_columns(Ticket.number)
        .join(Ticket, Ticket.id == PrintJob.ticket_id)
        .outerjoin(ApiToken, ApiToken.id == PrintJob.device_id)
        .where(PrintJob.id.in_(latest), PrintJob.status == PRINT_FAILED)
        .order_by(PrintJob.device_id)
    ).all()
    return [
        {
            "device_id": device_id,
            "device": label or f"#{device_id}",
            "error": error or "",
            "number": number,
            "at": _iso(at),
        }
        for device_id, label, error, at, number in rows
    ]


def site_dashboard(session: Session, site_code: str, now: datetime) -> dict[str, Any]:
    """The dashboard's snapshot: services, counters, today's totals and the alerts."""
    site = session.execute(select(Site).where(Site.code == site_code)).scalar_one_or_none()
    if site is None:
        raise LookupError(site_code)
    seq = site.seq  # read first: the snapshot never runs ahead of it
    now = _aware(now) or now
    day = business_day(now, site.timezone)
    target_s = (site.wait_target_min or 15) * 60

    waiting = _waiting(session, site.id, day)
    staffed = staffed_services(session, site.id)
    # Today's tickets by service and where they stand: the totals and each service's served.
    by_status: dict[str, int] = defaultdict(int)
    served_by_service: dict[int, int] = defaultdict(int)
    for service_id, status, n in session.execute(
        select(Ticket.service_id, Ticket.status, func.count())
        .where(Ticket.site_id == site.id, Ticket.business_day == day)
        .group_by(Ticket.service_id, Ticket.status)
    ):
        by_status[status] += n
        if status == DONE:
            served_by_service[service_id] += n

    per_service: dict[int, list[Any]] = defaultdict(list)
    for row in waiting:
        per_service[row.service_id].append(row)
    services: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for service in session.execute(
        select(Service).where(Service.site_id == site.id).order_by(Service.sort_order, Service.id)
    ).scalars():
        rows = per_service.get(service.id, [])
        if not service.active and not rows:
            continue
        waits = sorted(
            ((_seconds(r.since or r.issued_at, now) or 0.0, r.number) for r in rows), reverse=True
        )
        longest_s, longest_number = waits[0] if waits else (None, None)
        over = [number for wait, number in waits if wait > target_s]
        serving = staffed.get(service.id, [])
        services.append(
            {
                "code": service.code,
                "name": service.name,
                "waiting": len(rows),
                "longest_wait_s": longest_s,
                "longest_number": longest_number,
                "over_target": len(over),
                "served": int(served_by_service.get(service.id, 0)),
                "counters": serving,
            }
        )
        if over:
            alerts.append(
                {
                    "kind": OVER_TARGET,
                    "service": service.code,
                    "service_name": service.name,
                    "count": len(over),
                    "number": longest_number,
                    "wait_s": longest_s,
                    "target_min": site.wait_target_min,
                }
            )
        if rows and not serving:
            alerts.append(
                {
                    "kind": UNSERVED,
                    "service": service.code,
                    "service_name": service.name,
                    "count": len(rows),
                }
            )

    counters = _counters(session, site, day, now)
    printers = _failed_printers(session, site.id, day_start(day, site.timezone))
    alerts += [{"kind": PRINTER, **printer} for printer in printers]
    order = (OVER_TARGET, UNSERVED, PRINTER)
    alerts.sort(key=lambda a: order.index(a["kind"]))
    return {
        "site": {
            "code": site.code,
            "name": site.name,
            "timezone": site.timezone,
            "wait_target_min": site.wait_target_min,
        },
        "seq": seq,
        "business_day": day.isoformat(),
        "now": now.isoformat(),
        "services": services,
        "counters": counters,
        "totals": {
            "issued": sum(n for status, n in by_status.items() if status != "remote"),
            "served": int(by_status.get(DONE, 0)),
            "no_show": int(by_status.get(NO_SHOW, 0)),
            "cancelled": int(by_status.get("cancelled", 0)),
            "waiting": len(waiting),
            "at_counter": sum(by_status.get(status, 0) for status in AT_COUNTER),
            "over_target": sum(line["over_target"] for line in services),
            "open_counters": sum(1 for c in counters if c["state"] not in (OFF, CLOSED, PAUSED)),
        },
        "alerts": alerts,
    }


def _counters(session: Session, site: Site, day: Any, now: datetime) -> list[dict[str, Any]]:
    """Each counter: its state (serving, called, idle, paused, off: nobody signed in, closed:
    inactive), the clerk, and since when it is in that state (its last event today)."""
    start = day_start(day, site.timezone)
    last_event = dict(
        session.execute(
            select(TicketEvent.counter_id, func.max(TicketEvent.at))
            .where(
                TicketEvent.site_id == site.id,
                TicketEvent.counter_id.is_not(None),
                TicketEvent.at >= start,
            )
            .group_by(TicketEvent.counter_id)
        ).all()
    )
    rows = session.execute(
        select(Counter, Ticket.number, Ticket.status, User.full_name, User.username)
        .outerjoin(Ticket, Ticket.id == Counter.current_ticket_id)
        .outerjoin(User, User.id == Counter.clerk_id)
        .where(Counter.site_id == site.id)
        .order_by(Counter.number)
    ).all()
    result = []
    for counter, number, ticket_status, full_name, username in rows:
        if not counter.active:
            state = CLOSED
        elif counter.clerk_id is None:
            state = OFF
        elif counter.status == PAUSED:
            state = PAUSED
        elif ticket_status in (CALLED, SERVING):
            state = ticket_status
        else:
            state = IDLE
        if state == CLOSED:
            continue
        result.append(
            {
                "number": counter.number,
                "name": counter.name,
                "state": state,
                "clerk": (full_name or username) if counter.clerk_id is not None else None,
                "ticket": number if state in (CALLED, SERVING) else None,
                "for_s": _seconds(last_event.get(counter.id), now),
            }
        )
    return result


def province_overview(
    session: Session, site_codes: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """One line per site, worst first: most tickets over the target, then alerts, then the
    longest wait."""
    lines = []
    for code in site_codes:
        board = site_dashboard(session, code, now)
        waits = [s["longest_wait_s"] for s in board["services"] if s["longest_wait_s"]]
        kinds = [a["kind"] for a in board["alerts"]]
        lines.append(
            {
                "site": board["site"],
                "totals": board["totals"],
                "longest_wait_s": max(waits) if waits else None,
                "alerts": len(kinds),
                "alert_kinds": sorted(set(kinds)),
            }
        )
    lines.sort(
        key=lambda line: (
            -line["totals"]["over_target"],
            -line["alerts"],
            -(line["longest_wait_s"] or 0),
            line["site"]["code"],
        )
    )
    return lines
