"""Ticket numbers: per (site, service, business day), gap-free, never duplicated."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import DailySequence, Service


def _upsert(session: Session) -> type[Insert]:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert  # type: ignore[return-value]
    if name == "sqlite":
        return sqlite.insert  # type: ignore[return-value]
    raise RuntimeError(f"unsupported database: {name}")


def next_seq(session: Session, site_id: int, service_id: int, day: date) -> int:
    """Take the next sequence of a service's day with one atomic upsert.

    The row lock it takes is held until the ticket insert commits, so a second
    process waits and then reads the committed value: no gap, no duplicate.
    A rollback (for instance a daily cap refusal) gives the number back.
    """
    insert = _upsert(session)
    stmt = insert(DailySequence).values(
        site_id=site_id, service_id=service_id, business_day=day, last_seq=1
    )
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["site_id", "service_id", "business_day"],
        set_={"last_seq": DailySequence.last_seq + 1},
    ).returning(DailySequence.last_seq)
    return int(session.execute(stmt).scalar_one())


def capacity(service: Service) -> int | None:
    """How many tickets a service can give in a day: its cap, or the size of its range."""
    limits: list[int] = []
    if service.daily_cap is not None:
        limits.append(service.daily_cap)
    if service.range_start is not None and service.range_end is not None:
        limits.append(service.range_end - service.range_start + 1)
    return min(limits) if limits else None


def format_number(service: Service, seq: int) -> str:
    """The number as printed and spoken: ``A007`` for a prefix, ``1007`` for a range."""
    if service.range_start is not None:
        return str(service.range_start + seq - 1)
    prefix = service.number_prefix or ""
    return f"{prefix}{seq:0{service.number_width}d}"
