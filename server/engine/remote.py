"""Numbers taken from home ("lấy số từ xa"): issuing them, checking in at the kiosk, and the
phone numbers that limit them.

A site and each of its services choose whether citizens may take a number from the phone
(``/s/<site>``). Such a ticket is of channel ``remote``. Under the site's arrival rule
``check_in`` it waits as status ``remote``, outside the calling order, until the citizen
checks in at the kiosk (its QR code scanned, or its check-in code typed); it then joins its
queue at the back, as a ticket issued at that moment would. Under ``direct`` it is called
like any other ticket from the moment it is issued.

Abuse is held back without an SMS gateway: a phone number is asked, and one number may take
``Site.remote_per_phone`` numbers a day; remote numbers may take only ``Service.remote_share``
per cent of a service's daily cap. The phone number is never stored: only its keyed hash
(HMAC-SHA256 with a secret of the server's), in ``remote_phones``, deleted after the site's
retention period (personal data, Decree 13/2023).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import RemotePhone, Service, Site, Ticket
from ..timeutil import business_day
from . import numbering
from .errors import conflict, invalid, not_found
from .events import TICKET_UPDATED
from .ordering import sort_key_at
from .rules import CALLED, CHECK_IN, REMOTE, REMOTE_CHANNEL, SERVING, WAITING
from .tickets import LOCK, Issued, _log, _ticket_event, issue_ticket
from .transitions import CHECK_IN_ACTION, move_to
from .unit_of_work import UnitOfWork
from .views import services_overview, site_by_code

CHECK_IN_DIGITS = 6
# A Vietnamese number: 0 and 9 or 10 more digits once "+84"/"84" and separators are gone.
PHONE = re.compile(r"0\d{9,10}")
SEPARATORS = re.compile(r"[\s.\-()]")
# Two requests drawing the same check-in code at the same moment: draw again.
ISSUE_ATTEMPTS = 3


# --- the phone number -----------------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    """The phone number as ``0xxxxxxxxx``; refuses anything that is not one."""
    digits = SEPARATORS.sub("", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not PHONE.fullmatch(digits):
        raise invalid("invalid_phone")
    return digits


def phone_hash(key: bytes, raw: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) of a phone number: all that is ever stored of it.

    Without the server's key the hash cannot be turned back into the number by trying every
    one of the few hundred million Vietnamese numbers.
    """
    return hmac.new(key, normalize_phone(raw).encode(), hashlib.sha256).hexdigest()


def _count_phone(uow: UnitOfWork, site: Site, day: Any, digest: str) -> int:
    """Add one number taken by this phone today, with one atomic upsert; returns the total."""
    insert = numbering._upsert(uow.session)  # the dialect's INSERT … ON CONFLICT, as numbers
    stmt = insert(RemotePhone).values(site_id=site.id, business_day=day, phone_hash=digest, taken=1)
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["site_id", "business_day", "phone_hash"],
        set_={"taken": RemotePhone.taken + 1},
    ).returning(RemotePhone.taken)
    return int(uow.session.execute(stmt).scalar_one())


# --- issuing ------------------------------------------------------------------------------


def remote_cap(service: Service) -> int | None:
    """How many numbers from home the service gives a day: its share of the daily cap."""
    cap = numbering.capacity(service)
    if cap is None:
        return None
    return cap * max(0, min(100, service.remote_share)) // 100


def remote_counts(session: Session, site_id: int, day: Any) -> dict[int, int]:
    """Numbers from home taken today, by the service they were drawn from."""
    rows = session.execute(
        select(Ticket.issued_service_id, func.count())
        .where(
            Ticket.site_id == site_id,
            Ticket.business_day == day,
            Ticket.channel == REMOTE_CHANNEL,
        )
        .group_by(Ticket.issued_service_id)
    ).all()
    return {service_id: int(n) for service_id, n in rows}


def _new_check_in_code(session: Session, site_id: int, day: Any) -> str:
    while True:
        code = f"{secrets.randbelow(10**CHECK_IN_DIGITS):0{CHECK_IN_DIGITS}d}"
        used = session.execute(
            select(Ticket.id).where(
                Ticket.site_id == site_id,
                Ticket.business_day == day,
                Ticket.check_in_code == code,
            )
        ).first()
        if used is None:
            return code


def hub_unreachable(session: Session, site_id: int) -> bool:
    """Whether this site joined a province hub and cannot reach it now.

    Numbers from home pause then (a citizen may be reaching the site through the hub,
    and the hub's copy of the line would lag); the site's own kiosk keeps issuing.
    """
    from ..models import HubLink

    link = session.get(HubLink, site_id)
    return link is not None and link.down_since is not None


def _admission(digest: str) -> Any:
    def admit(uow: UnitOfWork, site: Site, service: Service, ticket: Ticket) -> None:
        if hub_unreachable(uow.session, site.id):
            raise conflict("remote_paused_offline")
        if not site.remote_enabled or not service.remote_enabled:
            raise conflict("remote_disabled", service=service.code)
        # The number was drawn first: that upsert holds the service's row lock, so two
        # requests for the same service count their share one after the other.
        share = remote_cap(service)
        if share is not None:
            taken = remote_counts(uow.session, site.id, ticket.business_day).get(service.id, 0)
            if taken >= share:
                raise conflict("remote_share_reached", service=service.code)
        if _count_phone(uow, site, ticket.business_day, digest) > site.remote_per_phone:
            raise conflict("phone_limit_reached", limit=site.remote_per_phone)
        if site.remote_arrival == CHECK_IN:
            ticket.status = REMOTE
            ticket.check_in_code = _new_check_in_code(uow.session, site.id, ticket.business_day)

    return admit


def issue_remote(
    uow: UnitOfWork,
    site_code: str,
    service_code: str,
    digest: str,
    *,
    idempotency_key: str | None = None,
    actor: str = "",
) -> Issued:
    """Give a number from home to the holder of a phone number (by its keyed hash).

    Every rule of a kiosk number holds (open hours, daily cap, gap-free numbering), and
    also: the site and the service take numbers from home; the service's share of the cap
    for them is not used up; this phone number has not taken the site's daily limit yet.
    The same idempotency key (the form sent twice) gives back the first ticket.
    """
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise invalid("invalid_phone")
    for attempt in range(ISSUE_ATTEMPTS):
        try:
            return issue_ticket(
                uow,
                site_code,
                service_code,
                channel=REMOTE_CHANNEL,
                idempotency_key=idempotency_key,
                actor=actor,
                admit=_admission(digest),
            )
        except IntegrityError:
            if attempt == ISSUE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# --- checking in at the kiosk ------------------------------------------------------------


def _find_for_check_in(
    uow: UnitOfWork, site: Site, tracking_token: str | None, code: str | None, day: Any
) -> Ticket:
    if tracking_token:
        query = select(Ticket.id).where(
            Ticket.site_id == site.id, Ticket.tracking_token == tracking_token
        )
    elif code and code.isdigit() and len(code) == CHECK_IN_DIGITS:
        query = select(Ticket.id).where(
            Ticket.site_id == site.id, Ticket.business_day == day, Ticket.check_in_code == code
        )
    else:
        raise invalid("invalid_check_in")
    ticket_id = uow.session.execute(query).scalar_one_or_none()
    ticket = uow.session.get(Ticket, ticket_id, with_for_update=LOCK) if ticket_id else None
    if ticket is None:
        raise not_found("check_in_not_found")
    return ticket


def check_in(
    uow: UnitOfWork,
    site_code: str,
    *,
    tracking_token: str | None = None,
    code: str | None = None,
    actor: str = "",
) -> dict[str, Any]:
    """The citizen with a number from home has arrived: it joins the calling order now.

    Found by its tracking token (the QR code scanned at the kiosk) or by its check-in code
    (typed on the kiosk), today's and of this site only. It goes to the back of its queue,
    as a number taken at the kiosk at this moment would: those who came in before it are
    called before it. A ticket already in the queue is refused with ``already_checked_in``.
    """
    with uow:
        site = site_by_code(uow.session, site_code)
        now = uow.clock()
        day = business_day(now, site.timezone)
        ticket = _find_for_check_in(uow, site, tracking_token, code, day)
        if ticket.business_day != day:
            raise conflict("ticket_expired", ticket=ticket.id)
        if ticket.status in (WAITING, CALLED, SERVING):
            raise conflict("already_checked_in", number=ticket.number)
        before = ticket.status
        ticket.status = move_to(CHECK_IN_ACTION, before)
        ticket.sort_key = sort_key_at(now)
        ticket.checked_in_at = now
        _log(uow, ticket, "checked_in", before, actor)
        result = _ticket_event(uow, site, TICKET_UPDATED, ticket, action="checked_in")
        result["tracking_token"] = ticket.tracking_token  # for the kiosk's QR code only
        uow.commit()
        return result


# --- the retention of phone hashes -----------------------------------------------------------


def purge_phone_hashes(uow: UnitOfWork) -> int:
    """Delete the phone hashes older than each site's retention period; returns how many.

    A day's hashes are needed for that day's limit only; a site keeps them longer (at least
    one day, as it sets) to look into abuse, and no longer.
    """
    removed = 0
    with uow:
        now = uow.clock()
        for site in uow.session.execute(select(Site)).scalars().all():
            keep_days = max(1, site.phone_retention_days)
            oldest_kept = business_day(now, site.timezone) - timedelta(days=keep_days)
            result = uow.session.execute(
                delete(RemotePhone).where(
                    RemotePhone.site_id == site.id, RemotePhone.business_day < oldest_kept
                )
            )
            removed += int(result.rowcount)  # type: ignore[attr-defined]
        uow.commit()
    return removed


def remote_services(session: Session, site: Site, now: datetime) -> list[dict[str, Any]]:
    """The services of ``/s/<site>``: those taking numbers from home, with their state.

    ``state`` is the kiosk's (open, closed, full, ...) except that a service whose share for
    numbers from home is used up is ``full`` here even while the kiosk still gives numbers.
    """
    day = business_day(now, site.timezone)
    taken = remote_counts(session, site.id, day)
    by_code = {s.code: s for s in site.services}
    result = []
    for entry in services_overview(session, site, now):
        service = by_code[entry["code"]]
        if not service.remote_enabled:
            continue
        share = remote_cap(service)
        if entry["state"] == "open" and share is not None and taken.get(service.id, 0) >= share:
            entry = {**entry, "state": "full", "open": False}
        result.append(entry)
    return result
