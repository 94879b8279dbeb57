"""flood quarantine

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 04:18:36.881321
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entry_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "submission_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["bank_entries.id"], name=op.f("fk_entry_hits_entry_id_bank_entries")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_entry_hits_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_hits")),
    )
    with op.batch_alter_table("entry_hits", schema=None) as batch_op:
        batch_op.create_index("ix_entry_hits_entry_at", ["entry_id", "at"], unique=False)

    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_column("quarantined_at")

    with op.batch_alter_table("entry_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_entry_hits_entry_at")

    op.drop_table("entry_hits")
