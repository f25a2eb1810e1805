"""the site's waiting-time target; daily rollups of the reports

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("signature", sa.String(length=120), nullable=False),
        sa.Column("built_at", server.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_days_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "business_day", name=op.f("pk_report_days")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        # Existing sites get the default target of 15 minutes.
        batch_op.add_column(
            sa.Column("wait_target_min", sa.Integer(), nullable=False, server_default=sa.text("15"))
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("wait_target_min", server_default=None)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        # Reports read a site's tickets by business day.
        batch_op.create_index("ix_tickets_site_day", ["site_id", "business_day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_site_day")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("wait_target_min")
    op.drop_table("report_days")
