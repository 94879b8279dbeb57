"""Tables for accountability: audit checkpoints, removal orders, statements of reasons in the
Transparency Database format, encrypted evidence and lawful requests.

They live on the same MetaData as takedown.storage.tables (imported at its end), so the
migration check and `metadata.sorted_tables` see them. As everywhere, the rows are operational
state; what happened is on the ledger, and reports read the ledger.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, LargeBinary, String, Table, Text

from takedown.storage.tables import BigId, UtcDateTime, metadata

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("seq", BigId, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)

removal_orders = Table(
    "removal_orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("authority", String(256), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("item_id", String(256), nullable=True, index=True),
    Column("url", Text, nullable=True),
    Column("authority_contact", String(512), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("deadline_at", UtcDateTime(), nullable=True),
    Column("state", String(16), nullable=False, index=True),
    Column("reason", String(32), nullable=True),
    Column("reason_detail", Text, nullable=True),
    Column("paused_at", UtcDateTime(), nullable=True),
    Column("action", String(16), nullable=True),
    Column("actioned_at", UtcDateTime(), nullable=True),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    Column("warned_minutes", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime(), nullable=False),
)

sor_statements = Table(
    "sor_statements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("decision_id", BigId, nullable=False, unique=True),
    Column("puid", String(500), nullable=False, unique=True),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("submitted_at", UtcDateTime(), nullable=True),
    Column("tdb_uuid", String(64), nullable=True),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("item_id", String(256), nullable=False, unique=True),
    Column("decision_id", BigId, nullable=True),
    Column("key_id", String(64), nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=True),
    Column("sha256", String(64), nullable=False),
    Column("preserved_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("hold_until", UtcDateTime(), nullable=True),
    Column("purged_at", UtcDateTime(), nullable=True),
)

lawful_requests = Table(
    "lawful_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("authority", String(256), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("contact", String(512), nullable=False),
    Column("scope", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("decided_by", String(128), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("exported_at", UtcDateTime(), nullable=True),
    Column("package_sha256", String(64), nullable=True),
)
