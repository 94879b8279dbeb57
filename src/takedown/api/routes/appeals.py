"""Appeals (internal complaints, DSA Art 20): filed by the affected user through the integrator,
decided by a different reviewer than the one who made the contested decision."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.api.routes.review import casework_of, reviewer_of
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
    with casework_of(request).acting(tenant=principal.tenant) as service:
        return service.appeal(
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
    rows = casework_of(request).appeals(
        state=state, assignee=principal.key_id if mine else None, limit=limit
    )
    return {"appeals": rows}


@router.post("/{appeal_id}/decision")
def decide_appeal(
    appeal_id: int,
    body: AppealDecisionIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    with casework_of(request).acting() as service:
        outcome = service.decide_appeal(
            appeal_id,
            reviewer_of(principal),
            outcome=body.outcome,
            reason=body.reason,
            label=body.label,
        )
    return outcome.to_json()
