"""Estimated waiting time, from recent service times and the counters open for a service."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Counter, CounterService, Service, Ticket
from .rules import DONE

RECENT_TICKETS = 20
MIN_SAMPLES = 3
LOOKBACK = timedelta(days=14)


def average_service_seconds(session: Session, service: Service, now: datetime) -> float:
    """Mean of call-to-finish over the service's last tickets; its default until enough exist."""
    rows = session.execute(
        select(Ticket.called_at, Ticket.finished_at)
        .where(
            Ticket.service_id == service.id,
            Ticket.status == DONE,
            Ticket.finished_at >= now - LOOKBACK,
            Ticket.called_at.is_not(None),
        )
        .order_by(Ticket.finished_at.desc())
        .limit(RECENT_TICKETS)
    ).all()
    spans = [(done - called).total_seconds() for called, done in rows if called and done]
    if len(spans) < MIN_SAMPLES:
        return float(service.default_service_s)
    return float(sum(spans) / len(spans))


def open_counters(session: Session, service_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Counter)
            .join(CounterService, CounterService.counter_id == Counter.id)
            .where(
                CounterService.service_id == service_id,
                Counter.active.is_(True),
                Counter.status == "open",
            )
        ).scalar_one()
    )


def estimated_wait_seconds(
    session: Session, service: Service, ahead: int, now: datetime
) -> int | None:
    """``ahead × mean service time ÷ open counters``; None while no counter serves it."""
    counters = open_counters(session, service.id)
    if counters == 0:
        return None
    if ahead == 0:
        return 0
    return round(ahead * average_service_seconds(session, service, now) / counters)
