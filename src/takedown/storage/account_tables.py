"""Tables for account enforcement (issue #12), on the shared metadata.

An account is the platform's user, known to Takedown by the `account_id` items already carry.
Its row holds the profile the platform sent, the current enforcement state and the latest risk
assessment (a cache: what was decided and why is on the ledger as `account.decided`). Strikes,
interactions, decisions, evader links and appeals are append-mostly side tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from takedown.storage.tables import BigId, UtcDateTime, metadata

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(256), primary_key=True),
    Column("display_name", Text, nullable=True),
    Column("bio", Text, nullable=True),
    Column("avatar_pdq", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=True),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False, default="active", index=True),
    Column("risk", Float, nullable=False, default=0.0),
    Column("evader_score", Float, nullable=False, default=0.0),
    Column("reasons", JSON, nullable=False, default=list),
    Column("stats", JSON, nullable=False, default=dict),
)

account_interactions = Table(
    "account_interactions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(256), nullable=False, index=True),
    Column("target_id", String(256), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

account_strikes = Table(
    "account_strikes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(256), nullable=False, index=True),
    Column("decision_id", BigId, ForeignKey("decisions.id"), nullable=True),
    Column("label", String(16), nullable=False),
    Column("weight", Float, nullable=False, default=1.0),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("decision_id", name="uq_account_strikes_decision_id"),
)

account_decisions = Table(
    "account_decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(256), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("label", String(16), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("proactive", Boolean, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

account_links = Table(
    "account_links",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(256), nullable=False, index=True),
    Column("suspended_id", String(256), nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("account_id", "suspended_id", name="uq_account_links_account_suspended"),
)

account_cases = Table(
    "account_cases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(256), nullable=False, index=True),
    Column("state", String(16), nullable=False, index=True),
    Column("priority", Integer, nullable=False, default=0),
    Column("reason", Text, nullable=False),
    Column("decision_id", BigId, ForeignKey("account_decisions.id"), nullable=True),
    Column("appellant", String(256), nullable=True),
    Column("appeal_reason", Text, nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_account_cases_state_priority", "state", "priority"),
)
