"""Accounts: profiles and interactions in (the platform tells us who posts and who amplifies
whom), risk, strikes, evader links and decisions out; reviewer decisions and appeals.

An integrator names accounts by its own platform ids and sees only its tenant's accounts;
stored keys are per tenant (core/tenancy.py), so another integrator's "u1" is another account.
Reviewers, leads and auditors see every tenant's, by stored key."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from takedown.accounts.model import AccountProfile, Interaction
from takedown.api.auth import require
from takedown.core.errors import InvalidInput, NotFound, PayloadTooLarge, TakedownError
from takedown.core.tenancy import account_key, split_key, visible_to
from takedown.services import account_views
from takedown.services.accounts import AccountService
from takedown.signals.pdq import pdq_hash
from takedown.storage.keys import Principal, Role

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
MAX_ACCOUNTS = 1000
MAX_AVATAR_BYTES = 4 * 1024 * 1024


def _service(request: Request) -> AccountService:
    return request.app.state.runtime.accounts  # type: ignore[no-any-return]


def _key(principal: Principal, account_id: str) -> str:
    return account_key(principal.tenant, account_id) if principal.tenant is not None else (
        account_id)


def _resolved(request: Request, principal: Principal, account_id: str,
              tenant: str | None) -> str:
    """An integrator names its own accounts; a reviewer names any tenant's, by platform id
    (with `?tenant=` when several tenants have that id) or by stored key."""
    if principal.tenant is not None:
        return account_key(principal.tenant, account_id)
    return account_views.resolve_key(request.app.state.runtime.engine, account_id, tenant)


def _shown(principal: Principal, result: dict[str, Any]) -> dict[str, Any]:
    """`result` with its account named as the caller names it: an integrator by its own id,
    everyone else by platform id plus, for a non-default tenant, `tenant`."""
    if "account_id" not in result:
        return result
    shown = {**result, **_named(principal, str(result["account_id"]), "account_id")}
    if isinstance(result.get("links"), list):
        shown["links"] = [{**link, **_named(principal, str(link["suspended_id"]), "suspended_id")}
                          for link in result["links"]]
    return shown


def _named(principal: Principal, key: str, field: str) -> dict[str, Any]:
    if principal.tenant is not None:  # another tenant's account is not named to an integrator
        return {field: visible_to(principal.tenant, key)}
    tenant, account_id = split_key(key)
    return {field: account_id, **({f"{field}_tenant": tenant} if tenant else {})}


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInput(f"the body is not valid JSON: {error}") from None


def _profile(obj: Any) -> AccountProfile:
    avatar = None
    if isinstance(obj, dict) and obj.get("avatar_base64") is not None:
        raw = obj["avatar_base64"]
        if not isinstance(raw, str) or len(raw) * 3 // 4 > MAX_AVATAR_BYTES:
            raise PayloadTooLarge(f"'avatar_base64' must be a string of at most "
                                  f"{MAX_AVATAR_BYTES} bytes")
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("'avatar_base64' is not valid base64") from None
        try:
            avatar = pdq_hash(data).hash
        except TakedownError:
            raise
        except Exception:  # noqa: BLE001 - any decoder failure is the caller's bad image
            raise InvalidInput("'avatar_base64' is not a decodable image",
                               hint="send a PNG or JPEG, or 'avatar_pdq' as 64 hex digits"
                               ) from None
    return AccountProfile.from_json(obj, avatar_pdq=avatar)


@router.post("", summary="Create or update account profiles (one object or {accounts: [...]})")
async def upsert_accounts(
    request: Request, principal: Principal = Depends(require(Role.INTEGRATOR))
) -> dict[str, Any]:
    body = await _json(request)
    batch = isinstance(body, dict) and "accounts" in body
    items = body["accounts"] if batch else [body]
    if not isinstance(items, list) or not items:
        raise InvalidInput("'accounts' must be a non-empty list of profiles")
    if len(items) > MAX_ACCOUNTS:
        raise PayloadTooLarge(f"at most {MAX_ACCOUNTS} accounts per request")
    profiles = []
    for n, obj in enumerate(items):
        try:
            profiles.append(_profile(obj))
        except InvalidInput as error:
            raise InvalidInput(f"accounts[{n}]: {error.message}", hint=error.hint) from None
    profiles = [replace(p, account_id=_key(principal, p.account_id)) for p in profiles]
    results = [_shown(principal, r)
               for r in _service(request).upsert_profiles(profiles, actor=principal.actor)]
    return {"accounts": results} if batch else results[0]


@router.post("/interactions", summary="Record follows, amplifications and replies")
async def add_interactions(
    request: Request, principal: Principal = Depends(require(Role.INTEGRATOR))
) -> dict[str, Any]:
    from datetime import UTC, datetime

    body = await _json(request)
    items = body.get("interactions") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidInput("send {\"interactions\": [{account_id, target_id, kind}, ...]}")
    if len(items) > MAX_ACCOUNTS * 10:
        raise PayloadTooLarge(f"at most {MAX_ACCOUNTS * 10} interactions per request")
    now = datetime.now(UTC)
    parsed = []
    for n, obj in enumerate(items):
        try:
            found = Interaction.from_json(obj, now=now)
            parsed.append(replace(found, account_id=_key(principal, found.account_id),
                                  target_id=_key(principal, found.target_id)))
        except InvalidInput as error:
            raise InvalidInput(f"interactions[{n}]: {error.message}", hint=error.hint) from None
    result = _service(request).add_interactions(parsed)
    return {**result, "accounts": [_shown(principal, r) for r in result["accounts"]]}


@router.get("", summary="Accounts, optionally by state or minimum risk")
def list_accounts(
    request: Request,
    state: str | None = Query(None),
    min_risk: float | None = Query(None, ge=0, le=1),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    principal: Principal = Depends(require(Role.INTEGRATOR, Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    rows = _service(request).listing(state=state, min_risk=min_risk, limit=limit,
                                     offset=offset, tenant=principal.tenant)
    return {"accounts": [_shown(principal, row) for row in rows]}


@router.get("/queue", summary="Open and appealed account cases, most urgent first")
def account_queue(
    request: Request, principal: Principal = Depends(require(Role.REVIEWER, Role.AUDITOR))
) -> dict[str, Any]:
    rows = _service(request).queue()
    return {"cases": [_shown(principal, {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                         for k, v in row.items()}) for row in rows]}


@router.get("/{account_id}", summary="An account: state, risk and reasons, strikes, links")
def get_account(
    account_id: str,
    request: Request,
    tenant: str | None = Query(None, description="reviewers: whose account, if several"),
    principal: Principal = Depends(require(Role.INTEGRATOR, Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    key = _resolved(request, principal, account_id, tenant)
    try:
        return _shown(principal, _service(request).page(key))
    except NotFound:
        raise NotFound(f"no account {account_id!r}") from None


class AccountDecisionIn(BaseModel):
    action: Literal["none", "warn", "restrict", "suspend"]
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/{account_id}/decision", summary="A reviewer decides about an account")
def decide_account(
    account_id: str,
    body: AccountDecisionIn,
    request: Request,
    tenant: str | None = Query(None, description="whose account, if several tenants have it"),
    principal: Principal = Depends(require(Role.REVIEWER)),
) -> dict[str, Any]:
    key = _resolved(request, principal, account_id, tenant)
    return _shown(principal, _service(request).decide_by_reviewer(
        key, action=body.action, reason=body.reason, actor=principal.actor))


class AccountAppealIn(BaseModel):
    appellant: str = Field(min_length=1, max_length=256)
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/{account_id}/appeals", status_code=201, summary="Appeal an account decision")
def appeal_account(
    account_id: str,
    body: AccountAppealIn,
    request: Request,
    principal: Principal = Depends(require(Role.INTEGRATOR)),
) -> dict[str, Any]:
    return _shown(principal, _service(request).appeal(
        _key(principal, account_id), appellant=body.appellant, reason=body.reason,
        actor=principal.actor))


class AccountAppealDecisionIn(BaseModel):
    outcome: Literal["uphold", "overturn"]
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/cases/{case_id}/appeal-decision", summary="A lead rules on an account appeal")
def decide_account_appeal(
    case_id: int,
    body: AccountAppealDecisionIn,
    request: Request,
    principal: Principal = Depends(require(Role.LEAD)),
) -> dict[str, Any]:
    return _service(request).decide_appeal(case_id, outcome=body.outcome, reason=body.reason,
                                           actor=principal.actor)
