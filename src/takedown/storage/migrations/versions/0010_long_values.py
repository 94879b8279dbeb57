"""long bank values: a clip's vPDQ hash (80 characters a second) no longer limited to 512

`bank_entries.value` becomes TEXT. A B-tree index cannot hold a key over ~2.7 KB (a 35-second
clip), so on PostgreSQL uniqueness is kept on md5(value) and lookups by value use a hash index.
SQLite has no such limit: its unique index on (bank, signal_type, value) serves every lookup
(each names the bank), so the old (signal_type, value) index goes, one index less to write
per banked entry (a million-entry sync: ~3 s).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UNIQUE = "uq_bank_entries_bank_signal_value"


def upgrade() -> None:
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_entries_signal_value")
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.alter_column("value", existing_type=sa.String(length=512), type_=sa.Text(),
                              existing_nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE UNIQUE INDEX {UNIQUE} ON bank_entries (bank, signal_type, md5(value))")
        op.execute("CREATE INDEX ix_bank_entries_value ON bank_entries USING hash (value)")
    else:
        op.create_index(UNIQUE, "bank_entries", ["bank", "signal_type", "value"], unique=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_bank_entries_value", table_name="bank_entries")
    op.drop_index(UNIQUE, table_name="bank_entries")
    with op.batch_alter_table("bank_entries", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Text(), type_=sa.String(length=512),
                              existing_nullable=False)
        batch_op.create_unique_constraint(UNIQUE, ["bank", "signal_type", "value"])
        batch_op.create_index("ix_bank_entries_signal_value", ["signal_type", "value"])
