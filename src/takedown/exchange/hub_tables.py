"""The hub's own schema: members, shared entries, feedback, and the audit ledger.

A hub is a separate database from any node's (a node's banks never mix with what members
submitted). The ledger table is the node's `events` table copied onto this metadata, so the
same hash-chained append and verify code serves both.

The hub holds hashes and labels only: no column can hold content, and submissions that look
like content are refused (see hub_store.submit).

The schema is versioned by the hub's own migration chain (hub_schema.migrate_hub); a change
here needs a revision in hub_migrations/versions, which the migration test checks.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from takedown.storage.tables import BigId, UtcDateTime, events

hub_metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

hub_members = Table(
    "hub_members",
    hub_metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_prefix", String(16), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

# `seq` is the feed position: every change to an entry (submit, update, retract, dispute) moves
# it to a new, higher number, so "changes since cursor N" is one indexed range scan and a
# consumer sees each entry's latest state once.
hub_entries = Table(
    "hub_entries",
    hub_metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("seq", BigId, nullable=False, unique=True),
    Column("member_id", BigId, ForeignKey("hub_members.id"), nullable=False),
    Column("signal_type", String(32), nullable=False),
    Column("value", Text, nullable=False),  # a clip's vPDQ: 80 characters a second
    Column("label", String(16), nullable=False),
    Column("severity", Integer, nullable=False, default=3),
    Column("tags", JSON, nullable=False, default=list),
    Column("note", Text, nullable=True),
    Column("sharing", String(16), nullable=False),
    Column("crisis", Boolean, nullable=False, default=False),
    Column("disputed", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("retracted_at", UtcDateTime(), nullable=True),
    # SQLite's form; on PostgreSQL it is on md5(value), with a hash index on value for
    # lookups (HUB_POSTGRES_FORMS, hub migration 0002), as for a node's bank entries.
    Index("uq_hub_entries_member_signal", "member_id", "signal_type", "value", unique=True),
    Index("ix_hub_entries_crisis_seq", "crisis", "seq"),
)
HUB_POSTGRES_FORMS = frozenset({"uq_hub_entries_member_signal", "ix_hub_entries_value"})

hub_feedback = Table(
    "hub_feedback",
    hub_metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("entry_id", BigId, ForeignKey("hub_entries.id"), nullable=False, index=True),
    Column("member_id", BigId, ForeignKey("hub_members.id"), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("note", Text, nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("entry_id", "member_id", "verdict", name="uq_hub_feedback_vote"),
)

hub_events = events.to_metadata(hub_metadata)

