"""users.from_hub: a staff account the province hub manages (a site managed at the hub)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with its server default, as 0012 does (the batch form would copy
    # the users table, which the foreign keys of tickets and sessions refuse on SQLite).
    op.add_column(
        "users",
        sa.Column("from_hub", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("from_hub")
