"""Building sites, services and counters for tests, straight through the models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from server.models import Counter, CounterService, Service, Site

HCM_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Ho_Chi_Minh


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = HCM_MORNING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now = self.now + timedelta(**kwargs)
        return self.now


@dataclass
class ServiceSpec:
    code: str
    name: str = ""
    prefix: str | None = "A"
    width: int = 3
    range: tuple[int, int] | None = None
    cap: int | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    active: bool = True
    default_service_s: int = 300


def build_site(
    session: Session,
    code: str = "s1",
    services: list[ServiceSpec] | None = None,
    counters: dict[int, dict[str, int]] | None = None,
    *,
    timezone: str = "Asia/Ho_Chi_Minh",
    policy: str = "strict",
    every: int = 3,
) -> Site:
    """A site; by default services A (prefix A) and B (prefix B), counters 1 (A) and 2 (B)."""
    services = services or [ServiceSpec("A", prefix="A"), ServiceSpec("B", prefix="B")]
    counters = counters if counters is not None else {1: {"A": 1}, 2: {"B": 1}}
    site = Site(
        code=code,
        name=f"Site {code}",
        timezone=timezone,
        header_lines=["UBND"],
        priority_policy=policy,
        priority_every=every,
    )
    session.add(site)
    session.flush()
    by_code: dict[str, Service] = {}
    for order, spec in enumerate(services):
        service = Service(
            site_id=site.id,
            code=spec.code,
            name=spec.name or f"Lĩnh vực {spec.code}",
            number_prefix=None if spec.range else spec.prefix,
            number_width=spec.width,
            range_start=spec.range[0] if spec.range else None,
            range_end=spec.range[1] if spec.range else None,
            daily_cap=spec.cap,
            sessions=spec.sessions,
            active=spec.active,
            sort_order=order,
            default_service_s=spec.default_service_s,
        )
        session.add(service)
        by_code[spec.code] = service
    session.flush()
    for number, weights in counters.items():
        counter = Counter(site_id=site.id, number=number, name=f"Quầy {number}")
        counter.service_links = [
            CounterService(service_id=by_code[c].id, weight=w) for c, w in weights.items()
        ]
        session.add(counter)
    session.commit()
    return site
