"""User reports (notice and action, DSA Art 16): a report raises the item's case priority, or
opens a case, and is counted apart from proactive detection (`report.received`, source
`user_report`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.api.routes.review import casework_of
from takedown.storage.keys import Principal, Role

router = APIRouter(prefix="/v1/reports", tags=["reports"])


class ReportIn(BaseModel):
    reporter: str = Field(min_length=1, max_length=256, description="the platform's reporter id")
    item_id: str = Field(min_length=1, max_length=256)
    reason: str = Field(min_length=1, max_length=2000)


@router.post("", status_code=201)
def create_report(
    body: ReportIn,
    request: Request,
    principal: Principal = Depends(require(Role.INTEGRATOR)),
) -> dict[str, Any]:
    with casework_of(request).acting(tenant=principal.tenant) as service:
        return service.report(
            body.item_id, reporter=body.reporter, reason=body.reason, actor=principal.actor
        )
