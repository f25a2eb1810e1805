"""At a site managed at the hub: apply the configuration the hub sends, in one transaction.

Services are matched by code and counters by number; one the hub no longer lists is
made inactive, never deleted (its tickets stay for the reports). The change is one unit
of work with ``site.updated``, as an admin save is, and the version applied is saved in
the same transaction: while the hub is unreachable the site keeps the last one. The
clerk and manager accounts the hub lists come in the same transaction (``staff``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..engine.events import SITE_UPDATED, Publisher, no_publisher
from ..engine.unit_of_work import UnitOfWork
from ..models import Counter, CounterService, HubLink, Service, Site
from .staff import apply_staff, read_staff

SITE_FIELDS = (
    "name",
    "timezone",
    "header_lines",
    "priority_policy",
    "priority_every",
    "wait_target_min",
    "announcement_template",
    "voice_options",
    "rating_scale",
    "ticket_footer",
    "soon_threshold",
    "phone_rating",
    "remote_enabled",
    "remote_arrival",
    "remote_per_phone",
    "phone_retention_days",
)


def apply_config(
    sessions: Any,
    site_id: int,
    config: dict[str, Any],
    clock: Callable[[], datetime],
    publisher: Publisher = no_publisher,
    on_staff_lost: Callable[[list[int]], None] | None = None,
) -> bool:
    """Apply ``config`` unless it is the version the site has; True when it changed.

    ``on_staff_lost`` gets, after the commit, the accounts that may no longer log in (or
    must log in again): their sessions are ended already, their live connections are not.
    A wrong staff list (``BadStaffList``) applies nothing of the configuration.
    """
    # A hub of before the accounts sends no list: the site's accounts stay as they are.
    staff = read_staff(config["staff"]) if "staff" in config else None
    lost: list[int] = []
    uow = UnitOfWork(sessions, publisher, clock)
    with uow:
        session = uow.session
        link = session.get(HubLink, site_id)
        site = session.get(Site, site_id)
        if link is None or site is None or link.managed != "hub":
            return False
        if link.config_version == config["version"]:
            return False
        for name in SITE_FIELDS:
            if name in config["site"]:
                setattr(site, name, config["site"][name])
        services = {
            s.code: s for s in session.scalars(select(Service).where(Service.site_id == site_id))
        }
        listed = set()
        for item in config["services"]:
            service = services.get(item["code"])
            if service is None:
                service = Service(site_id=site_id, code=item["code"])
                session.add(service)
                services[item["code"]] = service
            for name, value in item.items():
                if name != "code":
                    setattr(service, name, value)
            listed.add(item["code"])
        for code, service in services.items():
            if code not in listed:
                service.active = False
        session.flush()
        counters = {
            c.number: c for c in session.scalars(select(Counter).where(Counter.site_id == site_id))
        }
        numbers = set()
        for item in config["counters"]:
            counter = counters.get(item["number"])
            if counter is None:
                counter = Counter(site_id=site_id, number=item["number"])
                session.add(counter)
            counter.name = item.get("name", "")
            counter.active = bool(item.get("active", True))
            counter.service_links = [
                CounterService(service_id=services[code].id, weight=int(weight))
                for code, weight in item.get("serves", {}).items()
                if code in services
            ]
            numbers.add(item["number"])
        for number, counter in counters.items():
            if number not in numbers:
                counter.active = False
        if staff is not None:
            lost = apply_staff(session, site_id, staff, uow.clock())
        link.config_version = config["version"]
        uow.emit(site, SITE_UPDATED, {"changed": "site"})
        uow.commit()
    if lost and on_staff_lost is not None:
        on_staff_lost(lost)
    return True
