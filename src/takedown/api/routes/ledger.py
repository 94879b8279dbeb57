"""The ledger, read-only, for auditors: events in order and a chain check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from takedown.api.auth import require
from takedown.core.events import verify_chain
from takedown.storage.keys import Principal, Role
from takedown.storage.ledger import iter_events

router = APIRouter(prefix="/v1/events", tags=["ledger"])


@router.get("")
def list_events(
    request: Request,
    after: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    subject: str | None = None,
    _p: Principal = Depends(require(Role.AUDITOR)),
) -> dict[str, Any]:
    with request.app.state.runtime.engine.connect() as conn:
        events = list(iter_events(conn, after=after, limit=limit, subject=subject))
    return {
        "events": [
            {
                "seq": e.seq,
                "type": e.type,
                "subject": e.subject,
                "payload": e.payload,
                "actor": e.actor,
                "at": e.at.isoformat(),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in events
        ]
    }


@router.get("/verify")
def verify(request: Request, _p: Principal = Depends(require(Role.AUDITOR))) -> dict[str, Any]:
    with request.app.state.runtime.engine.connect() as conn:
        broken = verify_chain(iter_events(conn))
    return {"ok": broken is None, "first_broken_seq": broken}
