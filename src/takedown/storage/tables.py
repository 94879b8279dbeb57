"""The relational schema. Migrations (Alembic, in migrations/) are the source of truth on disk;
this metadata must match them, which tests/integration/test_migrations.py checks.

Every mutable row is an operational convenience; what happened is on the hash-chained `events`
ledger, written in the same transaction as the row change it describes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend; SQLite alone would hand back naive datetimes, which
    would break the ledger's hashes (they cover the ISO timestamp)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


submissions = Table(
    "submissions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("item_id", String(256), nullable=False, index=True),
    # The integrator an item belongs to ("" for the default tenant); ids are unique per tenant.
    Column("tenant", String(128), nullable=False, default="", server_default=""),
    Column("kind", String(16), nullable=False),
    Column("account_id", String(256), nullable=True, index=True),
    Column("text", Text, nullable=True),
    Column("content", LargeBinary, nullable=True),
    Column("url", Text, nullable=True),
    Column("meta", JSON, nullable=False, default=dict),
    Column("source", String(32), nullable=False, default="api"),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("done_at", UtcDateTime(), nullable=True),
    UniqueConstraint("tenant", "item_id"),
)

signals = Table(
    "signals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("meta", JSON, nullable=False, default=dict),
)

banks = Table(
    "banks",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("label", String(16), nullable=False),
    Column("severity", Integer, nullable=False, default=3),
    Column("source", String(128), nullable=False, default="local"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("kind", String(16), nullable=False, default="block"),
    Column("thresholds", JSON, nullable=False, default=dict),
    Column("created_at", UtcDateTime(), nullable=False),
)

UNIQUE_ENTRY = "uq_bank_entries_bank_signal_value"
bank_entries = Table(
    "bank_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("bank", String(128), ForeignKey("banks.name"), nullable=False),
    Column("signal_type", String(32), nullable=False),
    Column("value", Text, nullable=False),  # a clip's vPDQ: 80 characters a second
    Column("note", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("removed_at", UtcDateTime(), nullable=True),
    Column("quarantined_at", UtcDateTime(), nullable=True),
    # SQLite's form. On PostgreSQL a B-tree cannot hold a long clip's value: the unique index
    # is on (bank, signal_type, md5(value)), plus a hash index on value for lookups
    # (POSTGRES_FORMS, migration 0010).
    Index(UNIQUE_ENTRY, "bank", "signal_type", "value", unique=True),
)
POSTGRES_FORMS = frozenset({UNIQUE_ENTRY, "ix_bank_entries_value"})
"""Indexes whose PostgreSQL form the metadata cannot state for both dialects."""

findings = Table(
    "findings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("body", JSON, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("label", String(16), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("submission_id", "stage", name="uq_decisions_submission_stage"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False, index=True),
    Column("priority", Integer, nullable=False, default=0),
    Column("label", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("assignee", String(128), nullable=True),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("target", Text, nullable=False),
    Column("topic", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False, index=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("dead_at", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False, index=True),
    Column("subject", String(256), nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(128), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("tenant", String(128), nullable=True),
)

# --- review workbench: user reports, human reviews, appeals, false-positive feedback, sessions ---

reports = Table(
    "reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=True),
    Column("reporter", String(256), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False, index=True),
    Column("decision_id", BigId, ForeignKey("decisions.id"), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("key_id", BigId, nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id"), nullable=False, index=True),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False),
    Column("contested_decision_id", BigId, ForeignKey("decisions.id"), nullable=False),
    Column("appellant", String(256), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("excluded_key_id", BigId, nullable=True),
    Column("assignee_key_id", BigId, nullable=True),
    Column("outcome_decision_id", BigId, ForeignKey("decisions.id"), nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=True),
    UniqueConstraint("contested_decision_id", name="uq_appeals_contested_decision_id"),
)

false_positives = Table(
    "false_positives",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("decision_id", BigId, ForeignKey("decisions.id"), nullable=False, index=True),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False),
    Column("entry_id", BigId, nullable=True, index=True),
    Column("detector", String(128), nullable=True),
    Column("source", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

review_sessions = Table(
    "review_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("key_id", BigId, ForeignKey("api_keys.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

# Flood quarantine: one row per (bank entry, item) match, so "matches in the last hour" is a
# query every worker process agrees on.
entry_hits = Table(
    "entry_hits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("entry_id", BigId, ForeignKey("bank_entries.id"), nullable=False),
    Column("submission_id", BigId, ForeignKey("submissions.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_entry_hits_entry_at", "entry_id", "at"),
)

# Backfill checkpoints: one row per partition of an archive; a partition is claimed with a
# lease like a submission, so many `takedown backfill` processes share a run and a rerun
# resumes after the last finished partition.
backfill_partitions = Table(
    "backfill_partitions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run", String(128), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("stop", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("claimed_until", UtcDateTime(), nullable=True),
    Column("items", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("done_at", UtcDateTime(), nullable=True),
    UniqueConstraint("run", "partition", name="uq_backfill_partitions_run_partition"),
)

# Tables of optional features live in their own modules on this metadata; importing them here
# keeps `metadata` complete for migrations and their check.
from takedown.storage import account_tables as _account_tables  # noqa: E402,F401
from takedown.storage import entry_labels as _entry_labels  # noqa: E402,F401
from takedown.storage import exchange_tables as _exchange_tables  # noqa: E402,F401
from takedown.storage import legal_tables as _legal_tables  # noqa: E402,F401
from takedown.storage import media_tables as _media_tables  # noqa: E402,F401
