"""Submissions on disk, and the embedded work queue they double as.

A submission row *is* its work item: `pending` rows are claimed with a time-limited lease,
so a worker killed mid-item leaves a lease that simply expires and the item is claimed again.
Nothing is acknowledged before its row is committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from takedown.core.content import ContentKind, Submission
from takedown.core.decisions import Decision
from takedown.core.errors import Conflict
from takedown.core.findings import Finding
from takedown.storage.tables import cases, decisions, findings, submissions

PENDING = "pending"
PROCESSING = "processing"
DONE = "done"


@dataclass(frozen=True)
class StoredSubmission:
    row_id: int
    submission: Submission
    status: str
    attempts: int
    received_at: datetime
    source: str
    tenant: str = ""


def insert_submission(
    conn: Connection, submission: Submission, *, source: str = "api", tenant: str = ""
) -> tuple[int, bool]:
    """Insert unless the tenant already sent this item id; returns (row id, created)."""
    existing = conn.execute(
        select(submissions.c.id).where(
            submissions.c.tenant == tenant, submissions.c.item_id == submission.item_id
        )
    ).scalar()
    if existing is not None:
        return int(existing), False
    now = datetime.now(UTC)
    row_id = conn.execute(
        submissions.insert().values(
            item_id=submission.item_id,
            tenant=tenant,
            kind=submission.kind.value,
            account_id=submission.account_id,
            text=submission.text,
            content=submission.content,
            url=submission.url,
            meta=submission.metadata,
            source=source,
            created_at=submission.created_at,
            received_at=now,
            status=PENDING,
            attempts=0,
        )
    ).inserted_primary_key
    assert row_id is not None
    return int(row_id[0]), True


def insert_many(
    conn: Connection, items: Sequence[Submission], *, source: str = "api", tenant: str = ""
) -> tuple[list[tuple[int, bool]], datetime]:
    """`insert_submission` for a whole request: one lookup of the tenant's known ids and one
    multi-row insert. Returns (row id, created) per item, in order, and the receipt time used."""
    now = datetime.now(UTC)
    known = dict(
        conn.execute(
            select(submissions.c.item_id, submissions.c.id).where(
                submissions.c.tenant == tenant,
                submissions.c.item_id.in_([s.item_id for s in items]),
            )
        ).all()
    )
    fresh = [s for s in items if s.item_id not in known]
    created: dict[str, int] = {}
    if fresh:
        # Plain executemany and one read-back: RETURNING with ordered rows makes SQLite's
        # driver run one INSERT per row.
        conn.execute(
            submissions.insert(),
            [
                {
                    "item_id": s.item_id,
                    "tenant": tenant,
                    "kind": s.kind.value,
                    "account_id": s.account_id,
                    "text": s.text,
                    "content": s.content,
                    "url": s.url,
                    "meta": s.metadata,
                    "source": source,
                    "created_at": s.created_at,
                    "received_at": now,
                    "status": PENDING,
                    "attempts": 0,
                }
                for s in fresh
            ],
        )
        rows = conn.execute(
            select(submissions.c.id, submissions.c.item_id).where(
                submissions.c.tenant == tenant,  # another tenant may use the same ids
                submissions.c.item_id.in_([s.item_id for s in fresh]),
            )
        ).all()
        created = {str(r.item_id): int(r.id) for r in rows}
    return [
        (int(known[s.item_id]), False) if s.item_id in known else (created[s.item_id], True)
        for s in items
    ], now


def _to_stored(row: Any) -> StoredSubmission:
    return StoredSubmission(
        row_id=int(row.id),
        submission=Submission(
            item_id=row.item_id,
            kind=ContentKind(row.kind),
            account_id=row.account_id,
            text=row.text,
            content=row.content,
            url=row.url,
            metadata=dict(row.meta or {}),
            created_at=row.created_at,
            tenant=row.tenant or "",
        ),
        status=row.status,
        attempts=int(row.attempts),
        received_at=row.received_at,
        source=row.source,
        tenant=row.tenant or "",
    )


def get_by_item_id(
    conn: Connection, item_id: str, *, tenant: str | None = ""
) -> StoredSubmission | None:
    """The item `item_id` of `tenant`; with tenant None (a reviewer's view) of any tenant,
    refusing to guess when several tenants used the id."""
    query = select(submissions).where(submissions.c.item_id == item_id)
    if tenant is not None:
        query = query.where(submissions.c.tenant == tenant)
    rows = conn.execute(query.limit(2)).all()
    if len(rows) > 1:
        raise Conflict(
            f"several tenants sent an item with id {item_id!r}",
            hint="name one with ?tenant=",
        )
    return _to_stored(rows[0]) if rows else None


def claim(
    conn: Connection, *, limit: int, lease: timedelta, ids: list[int] | None = None
) -> list[StoredSubmission]:
    """Lease up to `limit` runnable items: pending, or processing with an expired lease."""
    now = datetime.now(UTC)
    runnable = or_(
        submissions.c.status == PENDING,
        and_(submissions.c.status == PROCESSING, submissions.c.lease_until < now),
    )
    query = select(submissions).where(runnable).order_by(submissions.c.id).limit(limit)
    if ids is not None:
        query = query.where(submissions.c.id.in_(ids))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    if not rows:
        return []
    conn.execute(
        update(submissions)
        .where(submissions.c.id.in_([r.id for r in rows]))
        .values(status=PROCESSING, lease_until=now + lease, attempts=submissions.c.attempts + 1)
    )
    return [replace(_to_stored(r), attempts=int(r.attempts) + 1, status=PROCESSING) for r in rows]


def mark_done(conn: Connection, row_id: int, *, error: str | None = None) -> None:
    conn.execute(
        update(submissions)
        .where(submissions.c.id == row_id)
        .values(status=DONE, lease_until=None, done_at=datetime.now(UTC), last_error=error)
    )


def record_error(conn: Connection, row_id: int, error: str) -> None:
    conn.execute(update(submissions).where(submissions.c.id == row_id).values(last_error=error))


def load_results(conn: Connection, row_id: int) -> dict[str, Any]:
    """Findings, the automated and latest human decision, and open case for one submission."""
    return load_results_many(conn, [row_id])[row_id]


def load_results_many(conn: Connection, row_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Findings, decisions and cases of many submissions in three queries."""
    out: dict[int, dict[str, Any]] = {
        row_id: {"findings": [], "decision": None, "decisions": {}, "cases": []}
        for row_id in row_ids
    }
    for r in conn.execute(
        select(findings.c.submission_id, findings.c.body)
        .where(findings.c.submission_id.in_(row_ids))
        .order_by(findings.c.id)
    ):
        out[int(r.submission_id)]["findings"].append(Finding.from_json(r.body).to_json())
    for r in conn.execute(
        select(decisions).where(decisions.c.submission_id.in_(row_ids)).order_by(decisions.c.id)
    ):
        entry = out[int(r.submission_id)]
        entry["decisions"][r.stage] = Decision.from_json(r.body).to_json() | {"id": int(r.id)}
        entry["decision"] = entry["decisions"].get("auto")
    for c in conn.execute(
        select(cases).where(cases.c.submission_id.in_(row_ids)).order_by(cases.c.id)
    ):
        out[int(c.submission_id)]["cases"].append(
            {"id": int(c.id), "state": c.state, "priority": c.priority}
        )
    return out


def status_many(conn: Connection, row_ids: Sequence[int]) -> dict[int, str]:
    return {
        int(r.id): str(r.status)
        for r in conn.execute(
            select(submissions.c.id, submissions.c.status).where(submissions.c.id.in_(row_ids))
        )
    }
def tenant_of_decision(conn: Connection, decision_id: int) -> str | None:
    """The tenant whose item a decision is about; None for an unknown decision."""
    value = conn.execute(
        select(submissions.c.tenant)
        .join(decisions, decisions.c.submission_id == submissions.c.id)
        .where(decisions.c.id == decision_id)
    ).scalar()
    return None if value is None else str(value)


def summaries(conn: Connection, row_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What `ingest.status` shows of each submission row besides its results (no content)."""
    rows = conn.execute(
        select(submissions.c.id, submissions.c.item_id, submissions.c.account_id,
               submissions.c.kind, submissions.c.status, submissions.c.received_at)
        .where(submissions.c.id.in_(row_ids))
    )
    return {
        int(r.id): {"id": r.item_id, "account_id": r.account_id, "kind": r.kind,
                    "status": r.status, "received_at": r.received_at.isoformat()}
        for r in rows
    }
