"""The facts behind a decision's statement of reasons, and an item's media for the reviewer.

Reads only; takedown.review.statement turns the facts into the statement itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from takedown.core.errors import NotFound
from takedown.storage.casework import is_removal_order
from takedown.storage.legal_tables import removal_orders
from takedown.storage.tables import appeals, cases, decisions, findings, reports, submissions


def media(conn: Connection, case_id: int) -> tuple[str, bytes, dict[str, Any]]:
    row = conn.execute(
        select(submissions.c.kind, submissions.c.content, submissions.c.meta)
        .join(cases, cases.c.submission_id == submissions.c.id)
        .where(cases.c.id == case_id)
    ).first()
    if row is None or not row.content:
        raise NotFound(f"case {case_id} has no media")
    return str(row.kind), bytes(row.content), dict(row.meta or {})


def statement_facts(conn: Connection, decision_id: int) -> dict[str, Any]:
    """What build_statement needs about one decision, as plain values."""
    row = conn.execute(
        select(
            decisions,
            submissions.c.item_id,
            submissions.c.kind,
            submissions.c.source,
            submissions.c.meta,
            submissions.c.created_at.label("content_date"),
        )
        .join(submissions, submissions.c.id == decisions.c.submission_id)
        .where(decisions.c.id == decision_id)
    ).first()
    if row is None:
        raise NotFound(f"no decision {decision_id}")
    sub_id = int(row.submission_id)
    case_id = conn.execute(
        select(func.max(cases.c.id)).where(cases.c.submission_id == sub_id)
    ).scalar()
    appeal = conn.execute(
        select(appeals.c.id, appeals.c.contested_decision_id).where(
            appeals.c.outcome_decision_id == decision_id
        )
    ).first()
    earlier = (
        conn.execute(
            select(decisions.c.id)
            .where(decisions.c.submission_id == sub_id, decisions.c.id < decision_id)
            .order_by(decisions.c.id)
        )
        .scalars()
        .all()
    )
    return {
        "decision_id": int(row.id),
        "stage": row.stage,
        "decided_at": row.created_at,
        "body": dict(row.body),
        "item_id": row.item_id,
        "kind": row.kind,
        "content_date": row.content_date,
        "findings": [
            dict(r.body)
            for r in conn.execute(
                select(findings.c.body)
                .where(findings.c.submission_id == sub_id)
                .order_by(findings.c.id)
            )
        ],
        "report_count": int(
            conn.execute(
                select(func.count()).select_from(reports).where(reports.c.submission_id == sub_id)
            ).scalar_one()
        ),
        "removal_order": is_removal_order(row.source, row.meta) or _ordered(conn, row.item_id),
        "case_id": None if case_id is None else int(case_id),
        "appeal_id": None if appeal is None else int(appeal.id),
        "supersedes": [int(i) for i in earlier],
    }


def _ordered(conn: Connection, item_id: str) -> bool:
    """A removal order resource names the item (takedown.legal.orders)."""
    found = conn.execute(
        select(removal_orders.c.id).where(removal_orders.c.item_id == item_id).limit(1)
    ).first()
    return found is not None
