"""hardening: integrator-scoped item ids and key tenants

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:00:00

An item id is unique per tenant (the integrator that sent it), not globally: two integrators
may both send item "42" and get two items. Rows from before this revision, and items sent by
the CLI, demo, connectors or non-integrator keys, belong to the default tenant "".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tenant", sa.String(length=128), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_submissions_item_id", type_="unique")
        batch_op.create_unique_constraint("uq_submissions_tenant", ["tenant", "item_id"])
        batch_op.create_index("ix_submissions_item_id", ["item_id"], unique=False)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tenant", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("tenant")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_item_id")
        batch_op.drop_constraint("uq_submissions_tenant", type_="unique")
        batch_op.create_unique_constraint("uq_submissions_item_id", ["item_id"])
        batch_op.drop_column("tenant")
