"""User reports (notice and action, DSA Art 16): a report raises the item's case priority, or
opens a case, and is counted apart from proactive detection (`report.received`, source
`user_report`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.api.routes.review import case_service
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
    runtime = request.app.state.runtime
    with runtime.engine.begin() as conn:
        service = case_service(conn, request, tenant=principal.tenant)
        return service.report(
            body.item_id, reporter=body.reporter, reason=body.reason, actor=principal.actor
        )
