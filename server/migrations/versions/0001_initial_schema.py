"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("header_lines", sa.JSON(), nullable=False),
        sa.Column("priority_policy", sa.String(length=20), nullable=False),
        sa.Column("priority_every", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_sites_code")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", server.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", server.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_api_tokens_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("current_ticket_id", sa.Integer(), nullable=True),
        sa.Column("normal_since_priority", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_counters_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters")),
        sa.UniqueConstraint("site_id", "number", name=op.f("uq_counters_site_id_number")),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hint", sa.String(length=300), nullable=False),
        sa.Column("number_prefix", sa.String(length=4), nullable=True),
        sa.Column("number_width", sa.Integer(), nullable=False),
        sa.Column("range_start", sa.Integer(), nullable=True),
        sa.Column("range_end", sa.Integer(), nullable=True),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("sessions", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("default_service_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_services_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("site_id", "code", name=op.f("uq_services_site_id_code")),
    )
    op.create_table(
        "counter_services",
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_counter_services_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_counter_services_service_id_services")
        ),
        sa.PrimaryKeyConstraint("counter_id", "service_id", name=op.f("pk_counter_services")),
    )
    op.create_table(
        "daily_sequences",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_daily_sequences_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_daily_sequences_site_id_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "service_id", "business_day", name=op.f("pk_daily_sequences")
        ),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("issued_service_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority_reason", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sort_key", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", server.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("called_at", server.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", server.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", server.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("target_counter_id", sa.Integer(), nullable=True),
        sa.Column("recall_count", sa.Integer(), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("tracking_token", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_tickets_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["issued_service_id"],
            ["services.id"],
            name=op.f("fk_tickets_issued_service_id_services"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_tickets_service_id_services")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_tickets_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["target_counter_id"],
            ["counters.id"],
            name=op.f("fk_tickets_target_counter_id_counters"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "site_id", "idempotency_key", name=op.f("uq_tickets_site_id_idempotency_key")
        ),
        sa.UniqueConstraint(
            "site_id",
            "issued_service_id",
            "business_day",
            "seq",
            name=op.f("uq_tickets_site_id_issued_service_id_business_day_seq"),
        ),
        sa.UniqueConstraint("tracking_token", name=op.f("uq_tickets_tracking_token")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_queue",
            ["site_id", "status", "business_day", "service_id", "sort_key"],
            unique=False,
        )

    # counters <-> tickets refer to each other: this key can only come once both exist.
    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_counters_current_ticket_id_tickets"), "tickets", ["current_ticket_id"], ["id"]
        )

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("at", server.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_ticket_events_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_ticket_events_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_events_site_at", ["site_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_events_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_events_ticket_id"))
        batch_op.drop_index("ix_ticket_events_site_at")

    op.drop_table("ticket_events")
    with op.batch_alter_table("counters", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_counters_current_ticket_id_tickets"), type_="foreignkey")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_queue")

    op.drop_table("tickets")
    op.drop_table("daily_sequences")
    op.drop_table("counter_services")
    op.drop_table("services")
    op.drop_table("counters")
    op.drop_table("api_tokens")
    op.drop_table("sites")
