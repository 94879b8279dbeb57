"""exchange: followed sources and cursors, entry provenance, publications, checkpoints;
indexes for the bank change feed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:44:21.355954
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.create_index("ix_bank_entries_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_bank_entries_removed_at", ["removed_at"], unique=False)
    op.create_table(
        "exchange_checkpoints",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_exchange_checkpoints")),
    )
    op.create_table(
        "exchange_sources",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("bank", sa.String(length=128), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("received", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank"], ["banks.name"], name=op.f("fk_exchange_sources_bank_banks")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_exchange_sources")),
    )
    op.create_table(
        "exchange_entries",
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contributor", sa.String(length=128), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_exchange_entries_entry_id_bank_entries"),
        ),
        sa.PrimaryKeyConstraint("source", "external_id", name=op.f("pk_exchange_entries")),
    )
    with op.batch_alter_table("exchange_entries", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_entries_entry_id", ["entry_id"], unique=False)

    op.create_table(
        "exchange_published",
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_exchange_published_entry_id_bank_entries"),
        ),
        sa.PrimaryKeyConstraint("source", "entry_id", name=op.f("pk_exchange_published")),
    )


def downgrade() -> None:
    op.drop_table("exchange_published")
    with op.batch_alter_table("exchange_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_entries_entry_id")

    op.drop_table("exchange_entries")
    op.drop_table("exchange_sources")
    op.drop_table("exchange_checkpoints")
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_entries_removed_at")
        batch_op.drop_index("ix_bank_entries_created_at")
