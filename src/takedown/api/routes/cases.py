"""Review cases (list and read); deciding them lives with the review workbench."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from takedown.api.auth import require
from takedown.storage.keys import Principal, Role
from takedown.storage.tables import cases, submissions

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.get("")
def list_cases(
    request: Request,
    state: str = Query("open"),
    limit: int = Query(100, ge=1, le=1000),
    _p: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    query = (
        select(cases, submissions.c.item_id)
        .join(submissions, submissions.c.id == cases.c.submission_id)
        .where(cases.c.state == state)
        .order_by(cases.c.priority.desc(), cases.c.id)
        .limit(limit)
    )
    with request.app.state.runtime.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        "cases": [
            {
                "id": r.id,
                "item_id": r.item_id,
                "state": r.state,
                "priority": r.priority,
                "label": r.label,
                "reason": r.reason,
                "opened_at": r.opened_at.isoformat(),
            }
            for r in rows
        ]
    }
