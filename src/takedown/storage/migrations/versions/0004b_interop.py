"""exchange labels per bank entry (interop)

Revision ID: 0004b
Revises: 0004
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004b"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_entry_labels",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=True),
        sa.Column("source_labels", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("contributor", sa.String(length=256), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bank_entries.id"],
            name=op.f("fk_bank_entry_labels_entry_id_bank_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_bank_entry_labels")),
    )


def downgrade() -> None:
    op.drop_table("bank_entry_labels")
