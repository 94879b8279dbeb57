"""long hub values: a clip's vPDQ hash (80 characters a second) no longer limited to 512

The same change as the node's migration 0010: `hub_entries.value` becomes TEXT; on PostgreSQL
uniqueness is kept on md5(value) (a B-tree cannot hold a key over ~2.7 KB) and lookups by value
use a hash index; SQLite keeps one unique index, which serves every lookup (each names the
member and the signal type).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 07:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNIQUE = "uq_hub_entries_member_signal"


def upgrade() -> None:
    with op.batch_alter_table("hub_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_entries_signal_value")
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.alter_column("value", existing_type=sa.String(length=512), type_=sa.Text(),
                              existing_nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE UNIQUE INDEX {UNIQUE} ON hub_entries "
                   "(member_id, signal_type, md5(value))")
        op.execute("CREATE INDEX ix_hub_entries_value ON hub_entries USING hash (value)")
    else:
        op.create_index(UNIQUE, "hub_entries", ["member_id", "signal_type", "value"], unique=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_hub_entries_value", table_name="hub_entries")
    op.drop_index(UNIQUE, table_name="hub_entries")
    with op.batch_alter_table("hub_entries", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Text(), type_=sa.String(length=512),
                              existing_nullable=False)
        batch_op.create_unique_constraint(UNIQUE, ["member_id", "signal_type", "value"])
        batch_op.create_index("ix_hub_entries_signal_value", ["signal_type", "value"])
