"""Appeals (internal complaints, DSA Art 20): filed by the affected user through the integrator,
decided by a different reviewer than the one who made the contested decision."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.api.routes.review import case_service, reviewer_of
from takedown.storage import casework
from takedown.storage.keys import Principal, Role

router = APIRouter(prefix="/v1/appeals", tags=["appeals"])


class AppealIn(BaseModel):
    item_id: str = Field(min_length=1, max_length=256)
    appellant: str = Field(min_length=1, max_length=256, description="the affected user's id")
    reason: str = Field(min_length=1, max_length=2000)


class AppealDecisionIn(BaseModel):
    outcome: Literal["uphold", "overturn"]
    reason: str = Field(min_length=1, max_length=2000)
    label: str | None = Field(None, description="for overturn: TVEC0 (default) or TVEC.01")


@router.post("", status_code=201)
def file_appeal(
    body: AppealIn,
    request: Request,
    principal: Principal = Depends(require(Role.INTEGRATOR)),
) -> dict[str, Any]:
    with request.app.state.runtime.engine.begin() as conn:
        return case_service(conn, request, tenant=principal.tenant).appeal(
            body.item_id, appellant=body.appellant, reason=body.reason, actor=principal.actor
        )


@router.get("")
def list_appeals(
    request: Request,
    state: Literal["open", "upheld", "overturned"] = Query("open"),
    mine: bool = Query(False, description="only appeals assigned to the caller"),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    with request.app.state.runtime.engine.connect() as conn:
        rows = casework.appeal_queue(
            conn, state=state, assignee=principal.key_id if mine else None, limit=limit
        )
    return {"appeals": rows}


@router.post("/{appeal_id}/decision")
def decide_appeal(
    appeal_id: int,
    body: AppealDecisionIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    with request.app.state.runtime.engine.begin() as conn:
        outcome = case_service(conn, request).decide_appeal(
            appeal_id,
            reviewer_of(principal),
            outcome=body.outcome,
            reason=body.reason,
            label=body.label,
        )
    request.app.state.runtime.delivery_wake.set()
    return outcome.to_json()
