"""Hash lookup for clients that hash on their side: many values per call, nothing stored."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.core.errors import InvalidInput
from takedown.services.exchange_evidence import provenance
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
    if body.signal_type not in runtime.registry.names():
        raise InvalidInput(
            f"unknown signal type {body.signal_type!r}",
            hint=f"known: {', '.join(runtime.registry.names())}",
        )
    values = [runtime.registry.canonical(body.signal_type, v) for v in body.values]
    try:
        found = runtime.matcher.lookup(body.signal_type, values, body.threshold)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    origin = provenance(runtime.engine, [e.entry_id for row in found for _d, e, _b in row])
    return {
        "signal_type": body.signal_type,
        "results": [
            {
                "value": value,
                "matches": [
                    {
                        "distance": d,
                        "entry_id": e.entry_id,
                        "bank": b.name,
                        "label": b.label.value,
                        "bank_kind": b.kind.value,
                        "entry_value": e.value,
                        **({"exchange": origin[e.entry_id]} if e.entry_id in origin else {}),
                    }
                    for d, e, b in row
                ],
            }
            for value, row in zip(body.values, found, strict=True)
        ],
    }
