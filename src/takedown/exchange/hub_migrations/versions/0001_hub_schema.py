"""hub schema: members with tokens and roles, entries with the feed sequence, feedback, and the
audit ledger (`events`, the same table as a node's, so one hash-chain code serves both)

Revision ID: 0001
Revises:
Create Date: 2026-12-03 06:43:13.022152

A hub sharing its database with a node (allowed, and what the test suite does) finds `events`
already made by the node's chain; it is the same table, so it is left as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("events"):
        op.create_table(
            "events",
            sa.Column("seq", BIG_ID, autoincrement=False, nullable=False),
            sa.Column("type", sa.String(length=64), nullable=False),
            sa.Column("subject", sa.String(length=256), nullable=False),
            sa.Column("payload", sa.JSON(), nullable=False),
            sa.Column("actor", sa.String(length=128), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("prev_hash", sa.String(length=64), nullable=False),
            sa.Column("hash", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        )
        with op.batch_alter_table("events", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_events_subject"), ["subject"], unique=False)
            batch_op.create_index(batch_op.f("ix_events_type"), ["type"], unique=False)

    op.create_table(
        "hub_members",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_members")),
        sa.UniqueConstraint("name", name=op.f("uq_hub_members_name")),
        sa.UniqueConstraint("token_prefix", name=op.f("uq_hub_members_token_prefix")),
    )
    op.create_table(
        "hub_entries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("seq", BIG_ID, nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("signal_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sharing", sa.String(length=16), nullable=False),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["hub_members.id"], name=op.f("fk_hub_entries_member_id_hub_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_entries")),
        sa.UniqueConstraint(
            "member_id", "signal_type", "value", name="uq_hub_entries_member_signal"
        ),
        sa.UniqueConstraint("seq", name=op.f("uq_hub_entries_seq")),
    )
    with op.batch_alter_table("hub_entries", schema=None) as batch_op:
        batch_op.create_index("ix_hub_entries_crisis_seq", ["crisis", "seq"], unique=False)
        batch_op.create_index("ix_hub_entries_signal_value", ["signal_type", "value"], unique=False)

    op.create_table(
        "hub_feedback",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["hub_entries.id"], name=op.f("fk_hub_feedback_entry_id_hub_entries")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["hub_members.id"], name=op.f("fk_hub_feedback_member_id_hub_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_feedback")),
        sa.UniqueConstraint("entry_id", "member_id", "verdict", name="uq_hub_feedback_vote"),
    )
    with op.batch_alter_table("hub_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_feedback_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    op.drop_table("hub_feedback")
    op.drop_table("hub_entries")
    op.drop_table("hub_members")
