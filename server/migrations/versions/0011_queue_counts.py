"""queue counts kept by triggers; indexes for call-next's candidates

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server import queue_counts

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_counts",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("target_counter_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "site_id",
            "business_day",
            "service_id",
            "target_counter_id",
            "priority",
            name=op.f("pk_queue_counts"),
        ),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_waiting_order",
            ["site_id", "status", "business_day", "service_id", "priority_reason", "sort_key"],
            unique=False,
        )
        batch_op.create_index(
            "ix_tickets_target",
            ["target_counter_id", "status", "business_day", "sort_key"],
            unique=False,
        )
    dialect = op.get_bind().dialect.name
    op.execute(queue_counts.BACKFILL)
    for statement in queue_counts.create_statements(dialect):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in queue_counts.drop_statements(dialect):
        op.execute(statement)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_target")
        batch_op.drop_index("ix_tickets_waiting_order")
    op.drop_table("queue_counts")
