"""Node-side tables for hash exchanges: followed sources with their cursors, where each banked
entry came from, what this node published, and checkpoints of the feedback sender.

They live on the node's one MetaData (imported at the end of storage.tables), so the migration
check covers them like every other table.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from takedown.storage.tables import BigId, UtcDateTime, bank_entries, metadata

# The bank change feed (`entries_changed_since`, polled every second by every matcher process)
# asks for rows created or removed since a moment; without these it scans every entry, which
# at a million synced entries costs most of a second per poll.
Index("ix_bank_entries_created_at", bank_entries.c.created_at)
Index("ix_bank_entries_removed_at", bank_entries.c.removed_at)

# The cursor is written in the same transaction as the entries of the page it follows.
exchange_sources = Table(
    "exchange_sources",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("bank", String(128), ForeignKey("banks.name"), nullable=False),
    Column("cursor", Text, nullable=True),
    Column("received", BigId, nullable=False, default=0),
    Column("synced_at", UtcDateTime(), nullable=True),
)

exchange_entries = Table(
    "exchange_entries",
    metadata,
    Column("source", String(128), primary_key=True),
    Column("external_id", String(256), primary_key=True),
    Column("entry_id", BigId, ForeignKey("bank_entries.id"), nullable=False),
    Column("contributor", String(128), nullable=True),
    Column("labels", JSON, nullable=False, default=list),
    Column("tags", JSON, nullable=False, default=list),
    Column("severity", Integer, nullable=True),
    Column("disputed", Boolean, nullable=False, default=False),
    Column("crisis", Boolean, nullable=False, default=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("first_seen", UtcDateTime(), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_exchange_entries_entry_id", "entry_id"),
)

exchange_published = Table(
    "exchange_published",
    metadata,
    Column("source", String(128), primary_key=True),
    Column("entry_id", BigId, ForeignKey("bank_entries.id"), primary_key=True),
    Column("external_id", String(256), nullable=False),
    Column("published_at", UtcDateTime(), nullable=False),
    Column("retracted_at", UtcDateTime(), nullable=True),
)

exchange_checkpoints = Table(
    "exchange_checkpoints",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", BigId, nullable=False),
)
