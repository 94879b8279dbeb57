"""Tables for banked media that do not fit a bank entry's 512-character value.

A local-feature set (`orb`) is ~9 KB, so its bank entry stores the set's SHA-256 digest and the
set itself lives here, once per digest however many banks list it. Rows are immutable: the
digest names the bytes. On the same MetaData as `tables`, so migrations and the schema check
see them.
"""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, String, Table

from takedown.storage.tables import UtcDateTime, metadata

feature_sets = Table(
    "feature_sets",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("signal_type", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
