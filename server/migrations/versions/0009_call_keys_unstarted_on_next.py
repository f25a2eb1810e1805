"""call-next safe to retry (call_keys) and what it does to a ticket called but not started

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "unstarted_on_next", sa.String(length=16), nullable=False, server_default="no_show"
            )
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("unstarted_on_next", server_default=None)
    op.create_table(
        "call_keys",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("request", sa.String(length=40), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", server.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_call_keys_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_call_keys_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_call_keys_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("site_id", "key", name=op.f("pk_call_keys")),
    )


def downgrade() -> None:
    op.drop_table("call_keys")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("unstarted_on_next")
