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
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

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
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    # Lines printed above the site name, e.g. "UBND THÀNH PHỐ HẢI PHÒNG".
    header_lines: Mapped[list[Any]] = mapped_column(default=list)
    # "strict": priority tickets always first; "interleave": one after every N normal.
    priority_policy: Mapped[str] = mapped_column(String(20), default="strict")
    priority_every: Mapped[int] = mapped_column(Integer, default=3)
    # State version: bumped once per published event so clients can spot a gap.
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The voice: None = "Mời công dân có số thứ tự {number} đến quầy số {counter}".
    announcement_template: Mapped[str | None] = mapped_column(String(300), default=None)
    # {"reading": "words"|"digits", "zero_hundred": "linh"|"lẻ", "thousand": "nghìn"|"ngàn",
    #  "repeat": 2}
    voice_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Rating buttons on the tablets: 3 to 5 levels (default 4).
    rating_scale: Mapped[int] = mapped_column(Integer, default=4)
    ticket_footer: Mapped[str | None] = mapped_column(String(500), default=None)

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
        Index("ix_tickets_queue", "site_id", "status", "business_day", "service_id", "sort_key"),
        # Wait estimates read a service's latest finished tickets; past days stay for
        # reports, so without this every estimate scanned the whole table.
        Index("ix_tickets_service_finished", "service_id", "status", "finished_at"),
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

    service: Mapped[Service] = relationship(foreign_keys=[service_id])
    counter: Mapped[Counter | None] = relationship(foreign_keys=[counter_id])
    target_counter: Mapped[Counter | None] = relationship(foreign_keys=[target_counter_id])


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
