"""accounts: profiles, risk, strikes, interactions, decisions, evader links, cases

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(256), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("avatar_pdq", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=True),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("evader_score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_index(op.f("ix_accounts_state"), "accounts", ["state"])
    op.create_table(
        "account_interactions",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(256), nullable=False),
        sa.Column("target_id", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_interactions")),
    )
    op.create_index(op.f("ix_account_interactions_account_id"), "account_interactions",
                    ["account_id"])
    op.create_index(op.f("ix_account_interactions_target_id"), "account_interactions",
                    ["target_id"])
    op.create_table(
        "account_strikes",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(256), nullable=False),
        sa.Column("decision_id", BIG, nullable=True),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"],
                                name=op.f("fk_account_strikes_decision_id_decisions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_strikes")),
        sa.UniqueConstraint("decision_id", name="uq_account_strikes_decision_id"),
    )
    op.create_index(op.f("ix_account_strikes_account_id"), "account_strikes", ["account_id"])
    op.create_table(
        "account_decisions",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(256), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("proactive", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_decisions")),
    )
    op.create_index(op.f("ix_account_decisions_account_id"), "account_decisions", ["account_id"])
    op.create_table(
        "account_links",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(256), nullable=False),
        sa.Column("suspended_id", sa.String(256), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("account_id", "suspended_id",
                            name="uq_account_links_account_suspended"),
    )
    op.create_index(op.f("ix_account_links_account_id"), "account_links", ["account_id"])
    op.create_table(
        "account_cases",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(256), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decision_id", BIG, nullable=True),
        sa.Column("appellant", sa.String(256), nullable=True),
        sa.Column("appeal_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["account_decisions.id"],
                                name=op.f("fk_account_cases_decision_id_account_decisions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_cases")),
    )
    op.create_index(op.f("ix_account_cases_account_id"), "account_cases", ["account_id"])
    op.create_index(op.f("ix_account_cases_state"), "account_cases", ["state"])
    op.create_index("ix_account_cases_state_priority", "account_cases", ["state", "priority"])


def downgrade() -> None:
    for table in ("account_cases", "account_links", "account_decisions", "account_strikes",
                  "account_interactions", "accounts"):
        op.drop_table(table)
