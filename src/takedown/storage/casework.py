"""Read models for the reviewer: the ordered queue, one case with everything needed to decide
it, the appeals queue, and the facts a statement of reasons is built from.

Queue order: removal orders first (their one-hour clock runs), then priority (the policy's
priority, raised by user reports and escalation), then the nearest deadline, then the oldest.
A removal order is an item submitted with source `removal_order`, or a case with a deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, or_, select

from takedown.core.errors import NotFound
from takedown.storage.tables import (
    appeals,
    bank_entries,
    cases,
    decisions,
    findings,
    reports,
    reviews,
    signals,
    submissions,
)

REMOVAL_ORDER_SOURCE = "removal_order"
HISTORY_LIMIT = 20


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def is_removal_order(source: str, meta: Any, due_at: Any = None) -> bool:
    return (
        source == REMOVAL_ORDER_SOURCE
        or bool((meta or {}).get("removal_order"))
        or due_at is not None
    )


def _report_counts() -> Any:
    return (
        select(reports.c.submission_id, func.count().label("n"))
        .group_by(reports.c.submission_id)
        .subquery()
    )


def queue(
    conn: Connection, *, states: Sequence[str] = ("open",), limit: int = 200
) -> list[dict[str, Any]]:
    counts = _report_counts()
    is_order = or_(submissions.c.source == REMOVAL_ORDER_SOURCE, cases.c.due_at.is_not(None))
    query = (
        select(
            cases,
            submissions.c.item_id,
            submissions.c.kind,
            submissions.c.account_id,
            submissions.c.source,
            func.coalesce(counts.c.n, 0).label("reports"),
        )
        .join(submissions, submissions.c.id == cases.c.submission_id)
        .outerjoin(counts, counts.c.submission_id == cases.c.submission_id)
        .where(cases.c.state.in_(list(states)))
        .order_by(
            case((is_order, 0), else_=1),
            cases.c.priority.desc(),
            case((cases.c.due_at.is_(None), 1), else_=0),
            cases.c.due_at,
            cases.c.opened_at,
            cases.c.id,
        )
        .limit(limit)
    )
    return [
        {
            "id": int(r.id),
            "item_id": r.item_id,
            "kind": r.kind,
            "account_id": r.account_id,
            "state": r.state,
            "priority": int(r.priority),
            "label": r.label,
            "reason": r.reason,
            "assignee": r.assignee,
            "opened_at": _iso(r.opened_at),
            "due_at": _iso(r.due_at),
            "removal_order": r.source == REMOVAL_ORDER_SOURCE or r.due_at is not None,
            "reports": int(r.reports),
        }
        for r in conn.execute(query)
    ]


def appeal_queue(
    conn: Connection, *, state: str = "open", assignee: int | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    query = (
        select(
            appeals,
            submissions.c.item_id,
            submissions.c.kind,
            decisions.c.action,
            decisions.c.label,
        )
        .join(submissions, submissions.c.id == appeals.c.submission_id)
        .join(decisions, decisions.c.id == appeals.c.contested_decision_id)
        .where(appeals.c.state == state)
        .order_by(appeals.c.created_at, appeals.c.id)
        .limit(limit)
    )
    if assignee is not None:
        query = query.where(appeals.c.assignee_key_id == assignee)
    return [_appeal_json(r) for r in conn.execute(query)]


def _appeal_json(r: Any) -> dict[str, Any]:
    return {
        "id": int(r.id),
        "case_id": int(r.case_id),
        "item_id": r.item_id,
        "kind": r.kind,
        "appellant": r.appellant,
        "reason": r.reason,
        "state": r.state,
        "contested_decision_id": int(r.contested_decision_id),
        "contested_action": r.action,
        "contested_label": r.label,
        "excluded_key_id": r.excluded_key_id,
        "assignee_key_id": r.assignee_key_id,
        "outcome_decision_id": r.outcome_decision_id,
        "decided_by": r.decided_by,
        "created_at": _iso(r.created_at),
        "decided_at": _iso(r.decided_at),
    }


def case_detail(conn: Connection, case_id: int) -> dict[str, Any]:
    """A case with its item, evidence, decisions, reports, appeals, history and related cases."""
    row = conn.execute(
        select(
            cases,
            submissions.c.item_id,
            submissions.c.kind,
            submissions.c.account_id,
            submissions.c.text,
            submissions.c.url,
            submissions.c.meta,
            submissions.c.source,
            submissions.c.created_at.label("item_created_at"),
            func.length(submissions.c.content).label("content_bytes"),
        )
        .join(submissions, submissions.c.id == cases.c.submission_id)
        .where(cases.c.id == case_id)
    ).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    sub_id = int(row.submission_id)
    found = [
        dict(r.body)
        for r in conn.execute(
            select(findings.c.body)
            .where(findings.c.submission_id == sub_id)
            .order_by(findings.c.id)
        )
    ]
    entry_ids = sorted({int(f["entry_id"]) for f in found if f.get("entry_id") is not None})
    entries = (
        {
            int(e.id): {
                "id": int(e.id),
                "bank": e.bank,
                "signal_type": e.signal_type,
                "value": e.value,
                "note": e.note,
                "removed": e.removed_at is not None,
            }
            for e in conn.execute(select(bank_entries).where(bank_entries.c.id.in_(entry_ids)))
        }
        if entry_ids
        else {}
    )
    for finding in found:
        if finding.get("entry_id") in entries:
            finding["entry"] = entries[finding["entry_id"]]
    return {
        "id": int(row.id),
        "state": row.state,
        "priority": int(row.priority),
        "label": row.label,
        "reason": row.reason,
        "assignee": row.assignee,
        "opened_at": _iso(row.opened_at),
        "due_at": _iso(row.due_at),
        "updated_at": _iso(row.updated_at),
        "item": {
            "item_id": row.item_id,
            "kind": row.kind,
            "account_id": row.account_id,
            "text": row.text,
            "url": row.url,
            "metadata": dict(row.meta or {}),
            "source": row.source,
            "created_at": _iso(row.item_created_at),
            "content_bytes": int(row.content_bytes or 0),
            "removal_order": is_removal_order(row.source, row.meta, row.due_at),
        },
        "findings": found,
        "decisions": [
            {
                "id": int(d.id),
                "stage": d.stage,
                "action": d.action,
                "label": d.label,
                "grounds": d.body.get("grounds"),
                "actor": d.body["provenance"].get("actor"),
                "provenance": d.body.get("provenance"),
                "created_at": _iso(d.created_at),
            }
            for d in conn.execute(
                select(decisions)
                .where(decisions.c.submission_id == sub_id)
                .order_by(decisions.c.id)
            )
        ],
        "reports": [
            {
                "id": int(r.id),
                "reporter": r.reporter,
                "reason": r.reason,
                "created_at": _iso(r.created_at),
            }
            for r in conn.execute(
                select(reports).where(reports.c.submission_id == sub_id).order_by(reports.c.id)
            )
        ],
        "reviews": [
            {
                "kind": r.kind,
                "actor": r.actor,
                "key_id": int(r.key_id),
                "reason": r.reason,
                "decision_id": r.decision_id,
                "created_at": _iso(r.created_at),
            }
            for r in conn.execute(
                select(reviews).where(reviews.c.case_id == case_id).order_by(reviews.c.id)
            )
        ],
        "appeals": [
            _appeal_json(a)
            for a in conn.execute(
                select(
                    appeals,
                    submissions.c.item_id,
                    submissions.c.kind,
                    decisions.c.action,
                    decisions.c.label,
                )
                .join(submissions, submissions.c.id == appeals.c.submission_id)
                .join(decisions, decisions.c.id == appeals.c.contested_decision_id)
                .where(appeals.c.case_id == case_id)
                .order_by(appeals.c.id)
            )
        ],
        "account_history": account_history(conn, row.account_id, exclude=sub_id),
        "related_cases": related_cases(conn, sub_id, row.account_id, exclude=case_id),
    }


def account_history(
    conn: Connection, account_id: str | None, *, exclude: int
) -> list[dict[str, Any]]:
    """The account's other items, newest first, with the decision in force on each."""
    if account_id is None:
        return []
    latest = (
        select(decisions.c.submission_id, func.max(decisions.c.id).label("decision_id"))
        .group_by(decisions.c.submission_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            submissions.c.item_id,
            submissions.c.kind,
            submissions.c.received_at,
            decisions.c.action,
            decisions.c.label,
            decisions.c.stage,
        )
        .outerjoin(latest, latest.c.submission_id == submissions.c.id)
        .outerjoin(decisions, decisions.c.id == latest.c.decision_id)
        .where(submissions.c.account_id == account_id, submissions.c.id != exclude)
        .order_by(submissions.c.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return [
        {
            "item_id": r.item_id,
            "kind": r.kind,
            "received_at": _iso(r.received_at),
            "action": r.action,
            "label": r.label,
            "stage": r.stage,
        }
        for r in rows
    ]


def related_cases(
    conn: Connection, submission_id: int, account_id: str | None, *, exclude: int
) -> list[dict[str, Any]]:
    """Cases on the same account, or on items with an identical signal (same hash)."""
    mine = (
        select(signals.c.type, signals.c.value)
        .where(signals.c.submission_id == submission_id)
        .subquery()
    )
    same_signal = (
        select(signals.c.submission_id)
        .join(mine, (mine.c.type == signals.c.type) & (mine.c.value == signals.c.value))
        .where(signals.c.submission_id != submission_id)
    )
    conditions: list[ColumnElement[bool]] = [cases.c.submission_id.in_(same_signal)]
    if account_id is not None:
        conditions.append(submissions.c.account_id == account_id)
    rows = conn.execute(
        select(
            cases.c.id,
            cases.c.state,
            cases.c.label,
            cases.c.priority,
            submissions.c.item_id,
            submissions.c.account_id,
        )
        .join(submissions, submissions.c.id == cases.c.submission_id)
        .where(or_(*conditions), cases.c.id != exclude)
        .order_by(cases.c.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return [
        {
            "id": int(r.id),
            "state": r.state,
            "label": r.label,
            "priority": int(r.priority),
            "item_id": r.item_id,
            "same_account": account_id is not None and r.account_id == account_id,
        }
        for r in rows
    ]
