"""Submissions: single or batch JSON (media as base64), or multipart upload; idempotent by id."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from takedown.api.auth import require
from takedown.api.guards import PARSED_JSON
from takedown.core import jsonsafe
from takedown.core.content import (
    ContentKind,
    Submission,
    make_submission,
    parse_kind,
    submission_from_json,
)
from takedown.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from takedown.services import ingest
from takedown.storage.keys import Principal, Role

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])


def _parse_json_body(
    raw: bytes, *, max_item_bytes: int, max_items: int, parsed: Any = None
) -> tuple[list[Submission], bool]:
    if parsed is None:
        if not raw.strip():
            raise InvalidInput("the request body is empty", hint="send a JSON submission object")
        parsed = jsonsafe.loads(raw)
    body = parsed
    if isinstance(body, dict) and "items" in body:
        items = body["items"]
        if not isinstance(items, list) or not items:
            raise InvalidInput("'items' must be a non-empty list of submissions")
        if len(items) > max_items:
            raise PayloadTooLarge(
                f"a batch holds at most {max_items} items, got {len(items)}",
                hint="split it into several requests",
            )
        parsed = []
        for n, obj in enumerate(items):
            try:
                parsed.append(submission_from_json(obj, max_bytes=max_item_bytes))
            except InvalidInput as error:
                raise InvalidInput(f"items[{n}]: {error.message}", hint=error.hint) from None
        return parsed, True
    return [submission_from_json(body, max_bytes=max_item_bytes)], False


async def _parse_multipart(request: Request, max_item_bytes: int) -> Submission:
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidInput("multipart upload needs a 'file' part")
    content = await upload.read(max_item_bytes + 1)
    if len(content) > max_item_bytes:
        raise PayloadTooLarge(f"the file is over the {max_item_bytes}-byte limit")
    item_id = form.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise InvalidInput("multipart upload needs an 'id' field")
    raw_kind = form.get("kind")
    kind = parse_kind(raw_kind) if isinstance(raw_kind, str) else _guess_kind(upload.content_type)
    metadata: Any = {}
    raw_meta = form.get("metadata")
    if isinstance(raw_meta, str) and raw_meta:
        metadata = jsonsafe.loads(raw_meta)
        if not isinstance(metadata, dict):
            raise InvalidInput("'metadata' must be a JSON object")
    account = form.get("account_id")
    text = form.get("text")
    if isinstance(text, str) and len(text) > max_item_bytes:
        raise PayloadTooLarge(f"'text' is over the {max_item_bytes}-character limit")
    return make_submission(
        item_id=item_id,
        kind=kind,
        account_id=account if isinstance(account, str) else None,
        text=text if isinstance(text, str) else None,
        content=content,
        metadata={**metadata, "filename": upload.filename} if upload.filename else metadata,
    )


def _guess_kind(content_type: str | None) -> ContentKind:
    if content_type and content_type.startswith("image/"):
        return ContentKind.IMAGE
    if content_type and content_type.startswith("video/"):
        return ContentKind.VIDEO
    return ContentKind.FILE


@router.post("", status_code=202, summary="Submit one item, a batch, or an upload")
async def submit(
    request: Request, principal: Principal = Depends(require(Role.INTEGRATOR))
) -> JSONResponse:
    runtime = request.app.state.runtime
    settings = runtime.settings
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        items, batch = _parse_json_body(
            await request.body(),
            max_item_bytes=settings.max_item_bytes,
            max_items=settings.max_batch_items,
            parsed=request.scope.get(PARSED_JSON),
        )
    elif content_type == "multipart/form-data":
        items, batch = [await _parse_multipart(request, settings.max_item_bytes)], False
    else:
        raise UnsupportedMediaType(
            f"unsupported content type {content_type or '(none)'!r}",
            hint="send application/json or multipart/form-data",
        )
    tenant = principal.tenant or ""
    accepted = ingest.accept(
        runtime.engine, runtime.queue, items, actor=principal.actor, tenant=tenant
    )
    results = ingest.describe(runtime.engine, items, accepted)
    status = 202 if any(a.created for a in accepted) else 200
    return JSONResponse({"items": results} if batch else results[0], status_code=status)


@router.get("/{item_id}", summary="An item's status, findings and decision")
def get_submission(
    item_id: str,
    request: Request,
    tenant: str | None = Query(
        None, max_length=128, description="reviewers and auditors: whose item (default any)"
    ),
    principal: Principal = Depends(require(Role.INTEGRATOR, Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, object]:
    """An integrator sees only its own items: another tenant's id is simply not found."""
    scope = principal.tenant if principal.tenant is not None else tenant
    return ingest.status(request.app.state.runtime.engine, item_id, tenant=scope)
