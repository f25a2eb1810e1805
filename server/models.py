"""SQLAlchemy models: the database is the single source of truth."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .timeutil import DEFAULT_TIMEZONE

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where aware UTC is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    # Lines printed above the site name, e.g. "UBND THÀNH PHỐ HẢI PHÒNG".
    header_lines: Mapped[list[Any]] = mapped_column(default=list)
    # "strict": priority tickets always first; "interleave": one after every N normal.
    priority_policy: Mapped[str] = mapped_column(String(20), default="strict")
    priority_every: Mapped[int] = mapped_column(Integer, default=3)
    # Reports count the waits longer than this (minutes) and the dashboard warns of them.
    wait_target_min: Mapped[int] = mapped_column(Integer, default=15)
    # State version: bumped once per published event so clients can spot a gap.
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The last id of the site's outbox (what the province hub receives), per site, no gaps.
    outbox_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The site joined a province hub (`xephang hub join`): only then do its changes go to
    # the outbox; a site that never joined writes none.
    sends_to_hub: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The voice: None = "Mời công dân có số thứ tự {number} đến quầy số {counter}".
    announcement_template: Mapped[str | None] = mapped_column(String(300), default=None)
    # {"reading": …, "zero_hundred": …, "thousand": …, "repeat": …}: the values each key takes
    # and its default are in sounds.voice_options.
    voice_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Rating buttons on the tablets: 3 to 5 levels (default 4).
    rating_scale: Mapped[int] = mapped_column(Integer, default=4)
    ticket_footer: Mapped[str | None] = mapped_column(String(500), default=None)
    # The citizen's phone page: "sắp đến lượt" when this many people or fewer are ahead,
    # and whether the citizen may rate from the phone (when no tablet rated the ticket).
    soon_threshold: Mapped[int] = mapped_column(Integer, default=3)
    phone_rating: Mapped[bool] = mapped_column(Boolean, default=False)
    # Numbers taken from home (/s/<code>): on or off; "check_in": the ticket waits as
    # "remote" until the citizen checks in at the kiosk, "direct": called like any other;
    # how many numbers one phone number may take a day; how many days the phone numbers'
    # keyed hashes are kept (personal data, Decree 13/2023).
    remote_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_arrival: Mapped[str] = mapped_column(String(16), default="check_in")
    remote_per_phone: Mapped[int] = mapped_column(Integer, default=2)
    phone_retention_days: Mapped[int] = mapped_column(Integer, default=30)
    # Call-next while the counter's ticket was called but never started: "no_show" (the
    # citizen did not come) or "requeue" (back to waiting at the front); never served.
    unstarted_on_next: Mapped[str] = mapped_column(String(16), default="no_show")

    services: Mapped[list[Service]] = relationship(
        back_populates="site", order_by="Service.sort_order"
    )
    counters: Mapped[list[Counter]] = relationship(
        back_populates="site", order_by="Counter.number", foreign_keys="Counter.site_id"
    )


class Service(Base):
    """A lĩnh vực: one queue with its own numbering."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    hint: Mapped[str] = mapped_column(String(300), default="")
    # Either a letter prefix with zero padding (A007) ...
    number_prefix: Mapped[str | None] = mapped_column(String(4), default=None)
    number_width: Mapped[int] = mapped_column(Integer, default=3)
    # ... or a numeric range (1001-1999).
    range_start: Mapped[int | None] = mapped_column(Integer, default=None)
    range_end: Mapped[int | None] = mapped_column(Integer, default=None)
    daily_cap: Mapped[int | None] = mapped_column(Integer, default=None)
    # [{"start": "07:30", "end": "11:30", "days": [1..7] (optional)}]; empty = always open.
    sessions: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Used for wait estimates until enough tickets have been served.
    default_service_s: Mapped[int] = mapped_column(Integer, default=300)
    # Numbers from home for this service (the site must allow them too), and the share of
    # its daily cap (per cent) they may take, so citizens who come in still find numbers.
    remote_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_share: Mapped[int] = mapped_column(Integer, default=50)

    site: Mapped[Site] = relationship(back_populates="services")


class Counter(Base):
    """A quầy: where a clerk calls and serves tickets."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("site_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    current_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", use_alter=True), default=None
    )
    # For the "one priority after every N normal" policy.
    normal_since_priority: Mapped[int] = mapped_column(Integer, default=0)
    # The clerk working at the counter now (one clerk per counter at a time).
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    site: Mapped[Site] = relationship(back_populates="counters", foreign_keys=[site_id])
    service_links: Mapped[list[CounterService]] = relationship(
        back_populates="counter", cascade="all, delete-orphan"
    )


class CounterService(Base):
    """A service a counter serves, with its weight (higher is served first)."""

    __tablename__ = "counter_services"

    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)

    counter: Mapped[Counter] = relationship(back_populates="service_links")
    service: Mapped[Service] = relationship()


class DailySequence(Base):
    """Last number given per (site, service, business day); bumped by one atomic upsert."""

    __tablename__ = "daily_sequences"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The last guard against a duplicate number, whatever the code above does.
        UniqueConstraint("site_id", "issued_service_id", "business_day", "seq"),
        UniqueConstraint("site_id", "idempotency_key"),
        # The code a citizen types at the kiosk to check a number from home in.
        UniqueConstraint("site_id", "business_day", "check_in_code"),
        Index("ix_tickets_queue", "site_id", "status", "business_day", "service_id", "sort_key"),
        # Wait estimates read a service's latest finished tickets; past days stay for
        # reports, so without this every estimate scanned the whole table.
        Index("ix_tickets_service_finished", "service_id", "status", "finished_at"),
        # Reports read a site's tickets by business day.
        Index("ix_tickets_site_day", "site_id", "business_day"),
        # Call-next reads the first few waiting tickets of each of its services, normal
        # (priority_reason NULL) and priority apart, in sort_key order: an index range each,
        # however long the queue.
        Index(
            "ix_tickets_waiting_order",
            "site_id",
            "status",
            "business_day",
            "service_id",
            "priority_reason",
            "sort_key",
        ),
        # ... and the tickets sent to it.
        Index("ix_tickets_target", "target_counter_id", "status", "business_day", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    # The service the number was drawn from; service_id moves on a transfer.
    issued_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    business_day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    priority_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    channel: Mapped[str] = mapped_column(String(16), default="kiosk")
    # Position in its queue: lower is called first (front/back moves set it).
    sort_key: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column()
    called_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), default=None)
    # Set when a ticket was transferred to one counter: only it may call the ticket.
    target_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), default=None)
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    dossier_code: Mapped[str | None] = mapped_column(String(64), default=None)
    # The clerk who called and served it (ratings and per-clerk figures count on it).
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), default=None)
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True)
    # A number from home: the code typed at the kiosk, and when the citizen checked in.
    check_in_code: Mapped[str | None] = mapped_column(String(8), default=None)
    checked_in_at: Mapped[datetime | None] = mapped_column(default=None)

    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])
    target_counter: Mapped[Counter | None] = relationship(foreign_keys=[target_counter_id])


class QueueCount(Base):
    """How many tickets wait, per site, business day, service, target counter (0: none)
    and priority (1) or not (0).

    Kept by triggers on ``tickets`` (``server.queue_counts``), so in the very transaction
    that changes a ticket, whoever changes it: waiting counts and a new ticket's place in
    line are read from these few rows instead of counted over the day's queue.
    """

    __tablename__ = "queue_counts"

    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_counter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, primary_key=True)
    waiting: Mapped[int] = mapped_column(Integer, default=0)


class TicketEvent(Base):
    """Every transition of a ticket or counter: who, when, from which state to which."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id"), default=None, index=True
    )
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), default=None)
    kind: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16), default=None)
    to_status: Mapped[str | None] = mapped_column(String(16), default=None)
    actor: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CallKey(Base):
    """The Idempotency-Key a counter's call was made with: a retry answers that same call.

    Written in the call's transaction, so a key is stored exactly when its call happened.
    ``request`` says what was asked (the next ticket, or which one), so the same key with
    another request is refused rather than answered with the wrong call.
    """

    __tablename__ = "call_keys"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    request: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column()


class ReportDay(Base):
    """A cache of one business day's report figures of a site (``server.reports.rollups``).

    Always rebuilt from the event log when it no longer matches it (a late event, a new
    waiting target, a new version of the definitions): never a source of truth.
    """

    __tablename__ = "report_days"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    # What the figures were computed from; a different one means "build again".
    signature: Mapped[str] = mapped_column(String(120))
    built_at: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RemotePhone(Base):
    """How many numbers one phone number took from home at a site on a day.

    The number itself is never stored: only its keyed hash (HMAC with the
    server's secret), deleted after the site's retention period.
    """

    __tablename__ = "remote_phones"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    taken: Mapped[int] = mapped_column(Integer)


class ApiToken(Base):
    """A bearer token for one role at one site (a clerk token may be bound to a counter)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    role: Mapped[str] = mapped_column(String(16))
    counter_number: Mapped[int | None] = mapped_column(Integer, default=None)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Per-device settings, e.g. a kiosk's printer URL and paper width.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    site: Mapped[Site] = relationship()


class PrintJob(Base):
    """A ticket to print on a kiosk's printer; kept until the printer confirms it."""

    __tablename__ = "print_jobs"
    __table_args__ = (Index("ix_print_jobs_device_status", "device_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # The kiosk (its token) whose printer prints the job.
    device_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    # "pending" -> "printed", or "failed" (then retried or reprinted by staff).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column()
    printed_at: Mapped[datetime | None] = mapped_column(default=None)


class User(Base):
    """A staff account: admin (all sites), manager (their sites) or clerk (their site)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    photo_url: Mapped[str | None] = mapped_column(String(500), default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # At a site managed at the province hub: the hub owns this account (its name, role,
    # password, whether it may log in); the site's own pages do not edit it.
    from_hub: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StaffSession(Base):
    """One login of a staff account. The browser's cookie names it; logging out ends it here,
    so a copy of the cookie taken before opens nothing after. A password change, a
    deactivation or "log out everywhere" ends every session of the account."""

    __tablename__ = "staff_sessions"

    # SHA-256 of the secret in the cookie (the secret itself is never stored).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class LoginFailure(Base):
    """Wrong logins under a username that has no active account, counted as an account's are,
    so the lockout message cannot tell which usernames exist."""

    __tablename__ = "login_failures"

    # SHA-256 of the normalized username: what people type there is not kept.
    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_at: Mapped[datetime] = mapped_column()


class UserSite(Base):
    """The sites a manager or clerk works for."""

    __tablename__ = "user_sites"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)


class AuditEntry(Base):
    """A staff or admin action: who, what, when, from where."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), default=None)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), default=None)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


class PairingCode(Base):
    """A one-time code an admin makes; a device's page trades it for a device token."""

    __tablename__ = "pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    role: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    counter_number: Mapped[int | None] = mapped_column(Integer, default=None)
    label: Mapped[str] = mapped_column(String(120), default="")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), default=None)


class Rating(Base):
    """The citizen's rating of one finished ticket: exactly one, tied to counter and clerk."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    dossier_code: Mapped[str | None] = mapped_column(String(64), default=None)
    score: Mapped[int] = mapped_column(Integer)
    scale: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), default=None)
    created_at: Mapped[datetime] = mapped_column()


class OutboxEntry(Base):
    """A committed change of a site, waiting for (or already taken by) the province hub.

    Written in the transaction that makes the change (``server.engine.outbox``); ``seq``
    counts per site from 1 without a gap, in commit order.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("site_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    # "row": the row as it is now (``data``); "delete": the row is gone (``data``: its key).
    kind: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class HubLink(Base):
    """At a site: the province hub it joined, its credential and how far the hub has read."""

    __tablename__ = "hub_links"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    hub_url: Mapped[str] = mapped_column(String(500))
    credential: Mapped[str] = mapped_column(String(128))
    # "local": services, counters and settings are edited here; "hub": at the hub only.
    managed: Mapped[str] = mapped_column(String(8), default="local")
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    config_version: Mapped[str | None] = mapped_column(String(64), default=None)
    joined_at: Mapped[datetime] = mapped_column()
    last_ok_at: Mapped[datetime | None] = mapped_column(default=None)
    # Since when the hub cannot be reached (None: it answered last time).
    down_since: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)


class HubSite(Base):
    """At the hub: a site that may send its events, its credential and what it sent."""

    __tablename__ = "hub_sites"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    join_code_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    join_code_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    credential_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    managed: Mapped[str] = mapped_column(String(8), default="local")
    # The site's own id of itself (its rows carry it in ``site_id``).
    local_site_id: Mapped[int | None] = mapped_column(Integer, default=None)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The site's own last seq when it last sent: how many entries it still holds back.
    site_last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    # The commit time of the newest event received: how far behind the site's log is.
    last_event_at: Mapped[datetime | None] = mapped_column(default=None)


class HubEvent(Base):
    """At the hub: one outbox entry of a site, stored once, keyed by (site, seq)."""

    __tablename__ = "hub_events"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column()


# The triggers that keep queue_counts (made with the tickets table by create_all).
from . import queue_counts as _queue_counts  # noqa: E402

_ = _queue_counts
