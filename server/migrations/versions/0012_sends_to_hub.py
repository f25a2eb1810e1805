"""sites.sends_to_hub: only a site that joined a province hub writes its outbox

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes it with its default): the batch form would copy the
    # sites table, which SQLite's foreign keys refuse once tickets name the site (and the
    # server default stays, for the same reason).
    op.add_column(
        "sites",
        sa.Column("sends_to_hub", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # A site joined before this revision keeps sending; the others stop writing entries
    # that no hub would ever read (`hub join` sends their whole history when they join).
    op.execute("UPDATE sites SET sends_to_hub = TRUE WHERE id IN (SELECT site_id FROM hub_links)")


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("sends_to_hub")
