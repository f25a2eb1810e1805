"""the citizen's phone page and numbers taken from home

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Existing rows get these values; new rows get the models' defaults (no server default kept).
SITE_COLUMNS = (
    ("soon_threshold", sa.Integer(), "3"),
    ("phone_rating", sa.Boolean(), sa.false()),
    ("remote_enabled", sa.Boolean(), sa.false()),
    ("remote_arrival", sa.String(length=16), "check_in"),
    ("remote_per_phone", sa.Integer(), "2"),
    ("phone_retention_days", sa.Integer(), "30"),
)
SERVICE_COLUMNS = (
    ("remote_enabled", sa.Boolean(), sa.false()),
    ("remote_share", sa.Integer(), "50"),
)


def _add(table: str, columns: tuple[tuple[str, sa.types.TypeEngine, object], ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, type_, default in columns:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, _type, _default in columns:
            batch_op.alter_column(name, server_default=None)


def upgrade() -> None:
    _add("sites", SITE_COLUMNS)
    _add("services", SERVICE_COLUMNS)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("check_in_code", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("checked_in_at", server.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_tickets_site_id_business_day_check_in_code"),
            ["site_id", "business_day", "check_in_code"],
        )
    op.create_table(
        "remote_phones",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_remote_phones_site_id_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "business_day", "phone_hash", name=op.f("pk_remote_phones")
        ),
    )


def downgrade() -> None:
    op.drop_table("remote_phones")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_tickets_site_id_business_day_check_in_code"), type_="unique"
        )
        batch_op.drop_column("checked_in_at")
        batch_op.drop_column("check_in_code")
    for table, columns in (("services", SERVICE_COLUMNS), ("sites", SITE_COLUMNS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _type, _default in reversed(columns):
                batch_op.drop_column(name)
