"""Banks: create and list labelled hash lists, add and remove entries, bank pictures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from takedown.api.auth import require
from takedown.core.banks import Bank, BankKind
from takedown.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from takedown.core.taxonomy import parse_label
from takedown.services import flood
from takedown.services.media_banking import (
    BankedPicture,
    BankedVideo,
    bank_picture,
    bank_video,
)
from takedown.storage import banks as bank_store
from takedown.storage.keys import Principal, Role

router = APIRouter(prefix="/v1/banks", tags=["banks"])


class BankIn(BaseModel):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
    label: str
    severity: int = Field(default=3, ge=1, le=5)
    source: str = "local"
    enabled: bool = True
    kind: BankKind = BankKind.BLOCK
    thresholds: dict[str, int] = Field(default_factory=dict)


class EntryIn(BaseModel):
    signal_type: str
    value: str = Field(min_length=1, max_length=512)
    note: str | None = None


class EntriesIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=100_000)


def _bank_json(bank: Bank) -> dict[str, Any]:
    return {
        "name": bank.name,
        "label": bank.label.value,
        "severity": bank.severity,
        "source": bank.source,
        "enabled": bank.enabled,
        "kind": bank.kind.value,
        "thresholds": bank.thresholds,
    }


@router.get("")
def list_banks(
    request: Request,
    _p: Principal = Depends(require(Role.ADMIN, Role.REVIEWER, Role.AUDITOR)),
) -> dict[str, Any]:
    with request.app.state.runtime.engine.connect() as conn:
        return {"banks": [_bank_json(b) for b in bank_store.list_banks(conn)]}


@router.put("/{name}")
def save_bank(
    name: str, body: BankIn, request: Request, principal: Principal = Depends(require(Role.ADMIN))
) -> dict[str, Any]:
    if body.name != name:
        raise InvalidInput("the bank name in the path and body differ")
    bank = Bank(
        name=body.name,
        label=parse_label(body.label),
        severity=body.severity,
        source=body.source,
        enabled=body.enabled,
        kind=body.kind,
        thresholds=body.thresholds,
    )
    runtime = request.app.state.runtime
    with runtime.engine.begin() as conn:
        bank_store.upsert_bank(conn, bank, actor=principal.actor)
    runtime.follower.poll()
    return _bank_json(bank)


@router.post("/{name}/entries", status_code=201)
def add_entries(
    name: str,
    body: EntriesIn,
    request: Request,
    principal: Principal = Depends(require(Role.ADMIN)),
) -> dict[str, int]:
    runtime = request.app.state.runtime
    known = set(runtime.registry.names())
    for n, entry in enumerate(body.entries):
        if entry.signal_type not in known:
            raise InvalidInput(
                f"entries[{n}]: unknown signal type {entry.signal_type!r}",
                hint=f"known: {', '.join(sorted(known))}",
            )
    with runtime.engine.begin() as conn:
        added, present = bank_store.add_entries(
            conn,
            name,
            [
                (e.signal_type, runtime.registry.canonical(e.signal_type, e.value), e.note)
                for e in body.entries
            ],
            actor=principal.actor,
        )
    runtime.follower.poll()
    return {"added": added, "already_present": present}


@router.post("/{name}/media", status_code=201,
             summary="Bank a picture (PDQ + local features) or a clip (vPDQ + key frames)")
async def add_media(
    name: str, request: Request, principal: Principal = Depends(require(Role.ADMIN))
) -> dict[str, object]:
    """The media itself, not hashes computed elsewhere: the server extracts PDQ (vPDQ for a
    clip) and the `orb` feature sets (a clip's key frames) the same way detection does, and
    refuses flat media (400) rather than bank an entry that would match anything flat. Body:
    the bytes (`image/*` or `video/*`) or multipart with a `file` part and an optional `note`
    field."""
    runtime = request.app.state.runtime
    limit = runtime.settings.max_item_bytes
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    note = request.query_params.get("note")
    if content_type.startswith(("image/", "video/")):
        data, media_type = await request.body(), content_type
    elif content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("multipart upload needs a 'file' part")
        data, media_type = await upload.read(limit + 1), (upload.content_type or "").lower()
        field = form.get("note")
        note = field if isinstance(field, str) and field else note
    else:
        raise UnsupportedMediaType(
            f"unsupported content type {content_type or '(none)'!r}",
            hint="send the media as image/*, video/* or multipart/form-data with a 'file' part",
        )
    if len(data) > limit:
        raise PayloadTooLarge(f"the upload is over the {limit}-byte limit")
    result: BankedPicture | BankedVideo = await run_in_threadpool(
        bank_video if media_type.startswith("video/") else bank_picture,
        runtime.engine, name, data, note=note, actor=principal.actor)
    runtime.follower.poll()
    return result.to_json()


@router.delete("/entries/{entry_id}", status_code=204)
def remove_entry(
    entry_id: int, request: Request, principal: Principal = Depends(require(Role.ADMIN))
) -> None:
    runtime = request.app.state.runtime
    with runtime.engine.begin() as conn:
        bank_store.remove_entry(conn, entry_id, actor=principal.actor)
    runtime.follower.poll()


@router.post("/entries/{entry_id}/release", status_code=204)
def release_entry(
    entry_id: int, request: Request, principal: Principal = Depends(require(Role.ADMIN))
) -> None:
    """Lift a flood quarantine once a person has checked the entry."""
    with request.app.state.runtime.engine.begin() as conn:
        flood.release(conn, entry_id, actor=principal.actor)
