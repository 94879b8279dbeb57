"""For auditors: the ledger checked against its signed checkpoints, and the transparency
report's figures as JSON (the same computation as `takedown report build`, without writing
files or a checkpoint)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from takedown.api.auth import require
from takedown.reports.metrics import parse_day
from takedown.services.accountability import Accountability
from takedown.storage.keys import Principal, Role

router = APIRouter(tags=["audit"])


@router.get("/v1/audit/verify")
def verify(request: Request, _p: Principal = Depends(require(Role.AUDITOR))) -> dict[str, Any]:
    acc: Accountability = request.app.state.runtime.accountability
    return acc.verify().to_json()


@router.get("/v1/transparency")
def transparency(
    request: Request,
    start: str = Query(alias="from", description="first day, YYYY-MM-DD (UTC)"),
    end: str = Query(alias="to", description="last day, inclusive"),
    _p: Principal = Depends(require(Role.AUDITOR)),
) -> dict[str, Any]:
    acc: Accountability = request.app.state.runtime.accountability
    return acc.figures(parse_day(start), parse_day(end, end=True)).to_json()
