"""Removal orders (TCO Art 3) and lawful requests as resources. An order's one-hour clock is in
every response (`clock.remaining_seconds`); acting decides the item's case like a reviewer
would, so the decision's webhooks and statement of reasons follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from takedown.api.auth import require
from takedown.legal.orders import NewOrder
from takedown.services.accountability import Accountability
from takedown.storage.keys import Principal, Role

router = APIRouter(tags=["removal orders"])


def _acc(request: Request) -> Accountability:
    acc: Accountability = request.app.state.runtime.accountability
    return acc


class OrderIn(BaseModel):
    authority: str = Field(min_length=1, max_length=256, description="the issuing authority")
    legal_basis: str = Field(min_length=1, max_length=2000)
    authority_contact: str = Field(min_length=1, max_length=256)
    item_id: str | None = Field(None, max_length=256)
    url: str | None = Field(None, max_length=4096)
    received_at: datetime | None = Field(None, description="default: now")


class ActionIn(BaseModel):
    action: Literal["remove", "restrict"] = "remove"
    label: str = Field("TVEC1", description="the content's TVEC label")


class ConfirmIn(BaseModel):
    reference: str = Field(min_length=1, max_length=500, description="how the authority was told")


class UnmetIn(BaseModel):
    reason: Literal[
        "force_majeure", "technical_impossibility", "manifest_error", "missing_information"
    ]
    detail: str = Field(min_length=1, max_length=2000)


@router.post("/v1/removal-orders", status_code=201)
def receive_order(
    body: OrderIn,
    request: Request,
    principal: Principal = Depends(require(Role.INTEGRATOR, Role.REVIEWER)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.orders(conn).receive(NewOrder(**body.model_dump()), actor=principal.actor)


@router.get("/v1/removal-orders")
def list_orders(
    request: Request,
    open: bool = Query(False, description="only orders not yet actioned"),
    _p: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return {"orders": acc.orders(conn).listing(open_only=open)}


@router.get("/v1/removal-orders/{order_id}")
def get_order(
    order_id: int,
    request: Request,
    _p: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.orders(conn).get(order_id)


@router.post("/v1/removal-orders/{order_id}/action")
def action_order(
    order_id: int,
    body: ActionIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.orders(conn).action(
            order_id,
            actor=principal.actor,
            action=body.action,
            label=body.label,
            reviewer_key_id=principal.key_id,
        )


@router.post("/v1/removal-orders/{order_id}/confirm")
def confirm_order(
    order_id: int,
    body: ConfirmIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.orders(conn).confirm(order_id, reference=body.reference, actor=principal.actor)


@router.post("/v1/removal-orders/{order_id}/unmet")
def unmet_order(
    order_id: int,
    body: UnmetIn,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.orders(conn).unmet(
            order_id, reason=body.reason, detail=body.detail, actor=principal.actor
        )


@router.post("/v1/removal-orders/{order_id}/resume")
def resume_order(
    order_id: int,
    request: Request,
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.orders(conn).resume(order_id, actor=principal.actor)


class LawfulRequestIn(BaseModel):
    authority: str = Field(min_length=1, max_length=256)
    legal_basis: str = Field(min_length=1, max_length=2000)
    contact: str = Field(min_length=1, max_length=512)
    item_ids: list[str] = Field(min_length=1, max_length=1000)


class LawfulDecisionIn(BaseModel):
    approve: bool
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/v1/lawful-requests", status_code=201, tags=["lawful requests"])
def receive_request(
    body: LawfulRequestIn,
    request: Request,
    principal: Principal = Depends(require(Role.LEAD)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.requests(conn).receive(
            authority=body.authority,
            legal_basis=body.legal_basis,
            contact=body.contact,
            item_ids=body.item_ids,
            actor=principal.actor,
        )


@router.get("/v1/lawful-requests", tags=["lawful requests"])
def list_requests(
    request: Request, _p: Principal = Depends(require(Role.LEAD, Role.AUDITOR))
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return {"requests": acc.requests(conn).listing()}


@router.post("/v1/lawful-requests/{request_id}/decision", tags=["lawful requests"])
def decide_request(
    request_id: int,
    body: LawfulDecisionIn,
    request: Request,
    principal: Principal = Depends(require(Role.LEAD)),
) -> dict[str, Any]:
    acc = _acc(request)
    with acc.engine.begin() as conn:
        return acc.requests(conn).decide(
            request_id,
            approve=body.approve,
            reason=body.reason,
            actor=principal.actor,
            is_lead=True,
        )
