"""Hash lookup for clients that hash on their side: many values per call, nothing stored.
Thresholds and result sizes are bounded (takedown.services.lookup)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.services import lookup as bounded
from takedown.storage.keys import Principal, Role

router = APIRouter(prefix="/v1/lookup", tags=["lookup"])

MAX_VALUES = 100_000


class LookupIn(BaseModel):
    signal_type: str = Field(examples=["pdq"])
    values: list[str] = Field(min_length=1, max_length=MAX_VALUES)
    threshold: int | None = Field(default=None, ge=0, le=256)


@router.post("", summary="Match up to 100,000 hashes of one type against the banks")
def lookup(
    body: LookupIn,
    request: Request,
    _p: Principal = Depends(require(Role.INTEGRATOR, Role.HUB_MEMBER)),
) -> dict[str, Any]:
    runtime = request.app.state.runtime
    return bounded.lookup(
        runtime.registry,
        runtime.matcher,
        body.signal_type,
        body.values,
        body.threshold,
        engine=runtime.engine,
    )
