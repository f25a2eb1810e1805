"""the outbox of a site and the province hub's links, sites and received events

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = server.models.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A plain ADD COLUMN, its default kept: the batch form (dropping the default) copies
    # the sites table, which SQLite's foreign keys refuse once services name the site.
    op.add_column(
        "sites", sa.Column("outbox_seq", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_outbox_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("site_id", "seq", name=op.f("uq_outbox_site_id_seq")),
    )
    op.create_table(
        "hub_links",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("hub_url", sa.String(length=500), nullable=False),
        sa.Column("credential", sa.String(length=128), nullable=False),
        sa.Column("managed", sa.String(length=8), nullable=False),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("config_version", sa.String(length=64), nullable=True),
        sa.Column("joined_at", UTC, nullable=False),
        sa.Column("last_ok_at", UTC, nullable=True),
        sa.Column("down_since", UTC, nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_hub_links_site_id_sites")),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_hub_links")),
    )
    op.create_table(
        "hub_sites",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("join_code_hash", sa.String(length=64), nullable=True),
        sa.Column("join_code_expires_at", UTC, nullable=True),
        sa.Column("credential_hash", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("managed", sa.String(length=8), nullable=False),
        sa.Column("local_site_id", sa.Integer(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("site_last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_sync_at", UTC, nullable=True),
        sa.Column("last_event_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_hub_sites_site_id_sites")),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_hub_sites")),
        sa.UniqueConstraint("join_code_hash", name=op.f("uq_hub_sites_join_code_hash")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_hub_sites_credential_hash")),
    )
    op.create_table(
        "hub_events",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_hub_events_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "seq", name=op.f("pk_hub_events")),
    )


def downgrade() -> None:
    op.drop_table("hub_events")
    op.drop_table("hub_sites")
    op.drop_table("hub_links")
    op.drop_table("outbox")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("outbox_seq")
