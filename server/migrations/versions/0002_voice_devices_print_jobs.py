"""voice options, device settings, print jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", server.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("printed_at", server.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["api_tokens.id"], name=op.f("fk_print_jobs_device_id_api_tokens")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_print_jobs_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_print_jobs_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_jobs")),
    )
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_print_jobs_device_status", ["device_id", "status"], unique=False)

    # Existing rows get an empty JSON object; the models set it from then on.
    empty = sa.text("'{}'")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.JSON(), nullable=False, server_default=empty))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("settings", server_default=None)

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("announcement_template", sa.String(length=300), nullable=True)
        )
        batch_op.add_column(
            sa.Column("voice_options", sa.JSON(), nullable=False, server_default=empty)
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("voice_options", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("voice_options")
        batch_op.drop_column("announcement_template")

    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("settings")

    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_print_jobs_device_status")

    op.drop_table("print_jobs")
