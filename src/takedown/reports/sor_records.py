"""Stored statements of reasons: one per restrictive decision, built, validated, kept, exported.

Building reads the same facts the user's statement is built from (takedown.storage.statements
→ takedown.review.statement), converts them with `to_tdb` and stores only statements that pass
`validate`; an invalid one is reported with its problems and stored nothing, so it is fixed
rather than sent. Export writes JSON lines, one database body per line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Connection, select

from takedown.core.taxonomy import VIOLATING
from takedown.legal.clock import Clock, utc_now
from takedown.reports.sor import RESTRICTIVE, to_tdb, validate
from takedown.review.statement import statement_from_facts
from takedown.storage.legal_tables import removal_orders, sor_statements
from takedown.storage.statements import statement_facts
from takedown.storage.tables import decisions, submissions


@dataclass
class BuildResult:
    stored: int = 0
    invalid: dict[int, list[str]] = field(default_factory=dict)


def statement_for(conn: Connection, decision_id: int) -> dict[str, Any]:
    """The Transparency Database body for one decision (not stored)."""
    statement = statement_from_facts(statement_facts(conn, decision_id))
    authority = conn.execute(
        select(removal_orders.c.authority)
        .where(removal_orders.c.item_id == statement["item_id"])
        .order_by(removal_orders.c.id)
        .limit(1)
    ).scalar()
    return to_tdb(statement, authority=authority)


def build_pending(conn: Connection, *, clock: Clock = utc_now, limit: int = 500) -> BuildResult:
    """Store a validated statement for every restrictive decision that has none yet."""
    result = BuildResult()
    rows = conn.execute(
        select(decisions.c.id, decisions.c.label)
        .outerjoin(sor_statements, sor_statements.c.decision_id == decisions.c.id)
        .where(decisions.c.action.in_(RESTRICTIVE), sor_statements.c.id.is_(None))
        .order_by(decisions.c.id)
        .limit(limit)
    ).all()
    violating = {v.value for v in VIOLATING}
    for row in rows:
        body = statement_for(conn, int(row.id))
        problems = validate(body, terrorist=row.label in violating)
        if problems:
            result.invalid[int(row.id)] = problems
            continue
        conn.execute(
            sor_statements.insert().values(
                decision_id=int(row.id),
                puid=body["puid"],
                body=body,
                created_at=clock(),
                attempts=0,
            )
        )
        result.stored += 1
    return result


def iter_statements(
    conn: Connection, *, start: datetime | None = None, end: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Stored statements whose decision falls in [start, end), oldest first."""
    query = (
        select(sor_statements.c.body)
        .join(decisions, decisions.c.id == sor_statements.c.decision_id)
        .order_by(decisions.c.created_at, decisions.c.id)
    )
    if start is not None:
        query = query.where(decisions.c.created_at >= start)
    if end is not None:
        query = query.where(decisions.c.created_at < end)
    for row in conn.execute(query):
        yield dict(row.body)


def export_jsonl(
    conn: Connection, out: IO[str], *, start: datetime | None = None, end: datetime | None = None
) -> int:
    count = 0
    for body in iter_statements(conn, start=start, end=end):
        out.write(json.dumps(body, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def restrictive_decisions(conn: Connection) -> list[tuple[int, str]]:
    """(decision id, item id) of every restrictive decision: what must have a statement."""
    rows = conn.execute(
        select(decisions.c.id, submissions.c.item_id)
        .join(submissions, submissions.c.id == decisions.c.submission_id)
        .where(decisions.c.action.in_(RESTRICTIVE))
        .order_by(decisions.c.id)
    )
    return [(int(r.id), str(r.item_id)) for r in rows]
