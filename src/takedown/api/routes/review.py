"""The reviewer's API: the ordered queue, one case, decide, escalate, bulk decide, and the
statement of reasons for any decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.core.errors import InvalidInput
from takedown.review.service import Reviewer
from takedown.services.casework import Casework
from takedown.storage.keys import Principal, Role, grants

router = APIRouter(tags=["review"])

QUEUE_STATES = {"open", "escalated", "decided", "appealed", "upheld", "overturned"}


def reviewer_of(principal: Principal) -> Reviewer:
    return Reviewer(principal.key_id, principal.actor, grants(principal.role, Role.LEAD))


def casework_of(request: Request) -> Casework:
    return request.app.state.runtime.casework  # type: ignore[no-any-return]


class DecisionIn(BaseModel):
    action: str = Field(description="remove, restrict, suspend or none")
    label: str = Field(description="TVEC label, e.g. TVEC7; TVEC0 for no action")
    reason: str = Field(min_length=1, max_length=2000)


class EscalationIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class BulkIn(DecisionIn):
    case_ids: list[int] = Field(min_length=1, max_length=200)


@router.get("/v1/review/queue")
def review_queue(
    request: Request,
    state: list[str] = Query(["open"]),
    limit: int = Query(100, ge=1, le=1000),
    _p: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    unknown = sorted(set(state) - QUEUE_STATES)
    if unknown:
        raise InvalidInput(
            f"unknown case state {unknown[0]!r}", hint=", ".join(sorted(QUEUE_STATES))
        )
    return {"cases": casework_of(request).queue(state, limit=limit)}


@router.get("/v1/cases/{case_id}")
def get_case(
    case_id: int,
    request: Request,
    _p: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    return casework_of(request).case(case_id)


@router.post("/v1/cases/{case_id}/decision")
def decide_case(
    case_id: int,
    body: DecisionIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    with casework_of(request).acting() as service:
        outcome = service.decide(
            case_id,
            reviewer_of(principal),
            action=body.action,
            label=body.label,
            reason=body.reason,
        )
    return outcome.to_json()


@router.post("/v1/cases/{case_id}/escalation")
def escalate_case(
    case_id: int,
    body: EscalationIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    with casework_of(request).acting() as service:
        service.escalate(case_id, reviewer_of(principal), reason=body.reason)
    return {"case_id": case_id, "state": "escalated"}


@router.post("/v1/cases/bulk-decision")
def bulk_decide(
    body: BulkIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    with casework_of(request).acting() as service:
        outcomes = service.bulk_decide(
            body.case_ids,
            reviewer_of(principal),
            action=body.action,
            label=body.label,
            reason=body.reason,
        )
    return {"decided": [o.to_json() for o in outcomes]}


@router.get("/v1/decisions/{decision_id}/statement")
def statement(
    decision_id: int,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR, Role.INTEGRATOR)),
) -> dict[str, Any]:
    """The statement of reasons (DSA Art 17) for one decision, automated or human; an
    integrator reads only statements about its own items."""
    return casework_of(request).statement(decision_id, tenant=principal.tenant)
