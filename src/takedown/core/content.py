"""Submissions: an item a platform hosts (or that was reported to it), as Takedown receives it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from takedown.core import jsonsafe
from takedown.core.errors import InvalidInput, PayloadTooLarge


class ContentKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    FILE = "file"
    URL = "url"


MEDIA_KINDS: frozenset[ContentKind] = frozenset(
    {ContentKind.IMAGE, ContentKind.VIDEO, ContentKind.FILE}
)
MAX_ID_LENGTH = 256


@dataclass(frozen=True)
class Submission:
    """One platform item. `item_id` is the platform's own id and the idempotency key."""

    item_id: str
    kind: ContentKind
    account_id: str | None = None
    text: str | None = None
    content: bytes | None = None
    url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    tenant: str = ""  # the integrator that sent it (core/tenancy.py); "" is the default

    def payload_summary(self) -> dict[str, Any]:
        """What may be logged about the item: sizes and kinds, never the content itself."""
        return {
            "id": self.item_id,
            "kind": self.kind.value,
            "text_chars": len(self.text or ""),
            "content_bytes": len(self.content or b""),
            "has_url": self.url is not None,
        }


def parse_kind(value: object) -> ContentKind:
    try:
        return ContentKind(str(value))
    except ValueError:
        allowed = ", ".join(k.value for k in ContentKind)
        raise InvalidInput(f"unknown kind {value!r}", hint=f"use one of: {allowed}") from None


def submission_from_json(obj: object, *, max_bytes: int) -> Submission:
    """Validate one JSON submission fully before anything is stored, so nothing is half-stored."""
    if not isinstance(obj, dict):
        raise InvalidInput("each submission must be a JSON object", hint='e.g. {"id": "1", ...}')
    item_id = obj.get("id")
    if not isinstance(item_id, str | int) or isinstance(item_id, bool) or str(item_id) == "":
        raise InvalidInput("submission needs a non-empty 'id'", hint="the platform's item id")
    item_id = str(item_id)
    if len(item_id) > MAX_ID_LENGTH:
        raise InvalidInput(f"'id' is longer than {MAX_ID_LENGTH} characters")
    kind = parse_kind(obj.get("kind", "text" if "text" in obj else None))
    account = obj.get("account_id")
    if account is not None and not isinstance(account, str | int):
        raise InvalidInput(f"item {item_id}: 'account_id' must be a string")
    metadata = obj.get("metadata")
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict):
        raise InvalidInput(f"item {item_id}: 'metadata' must be a JSON object")
    text = obj.get("text")
    if text is not None and not isinstance(text, str):
        raise InvalidInput(f"item {item_id}: 'text' must be a string")
    if text is not None and len(text) > max_bytes:
        raise PayloadTooLarge(
            f"item {item_id}: 'text' has {len(text)} characters, over the {max_bytes} limit",
            hint="split long text into several items",
        )
    url = obj.get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidInput(f"item {item_id}: 'url' must be a string")
    content: bytes | None = None
    raw_b64 = obj.get("content_base64")
    if raw_b64 is not None:
        if not isinstance(raw_b64, str):
            raise InvalidInput(f"item {item_id}: 'content_base64' must be a string")
        if len(raw_b64) * 3 // 4 > max_bytes:
            raise PayloadTooLarge(f"item {item_id}: content is over the {max_bytes}-byte limit")
        try:
            content = base64.b64decode(raw_b64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(
                f"item {item_id}: 'content_base64' is not valid base64",
                hint="standard alphabet with padding, no line breaks",
            ) from None
    return make_submission(
        item_id=item_id,
        kind=kind,
        account_id=None if account is None else str(account),
        text=text,
        content=content,
        url=url,
        metadata=metadata,
    )


def make_submission(
    *,
    item_id: str,
    kind: ContentKind,
    account_id: str | None = None,
    text: str | None = None,
    content: bytes | None = None,
    url: str | None = None,
    metadata: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> Submission:
    """Check that the item carries the content its kind needs, and that every string can be
    stored as it is on any backend (no NUL, no lone surrogate)."""
    for name, value in (("id", item_id), ("account_id", account_id), ("text", text), ("url", url)):
        if value is not None:
            jsonsafe.check_text(value, f"item {item_id!r}: '{name}'" if name != "id" else "'id'")
    jsonsafe.check(metadata or {}, max_depth=jsonsafe.MAX_DEPTH)
    if kind is ContentKind.TEXT and not (text and text.strip()):
        raise InvalidInput(f"item {item_id}: a text item needs non-empty 'text'")
    if kind in MEDIA_KINDS and not content:
        raise InvalidInput(
            f"item {item_id}: a {kind.value} item needs non-empty 'content_base64'",
            hint="or upload it as multipart/form-data",
        )
    if kind is ContentKind.URL and not (url and url.strip()):
        raise InvalidInput(f"item {item_id}: a url item needs a non-empty 'url'")
    return Submission(
        item_id=item_id,
        kind=kind,
        account_id=account_id,
        text=text,
        content=content,
        url=url,
        metadata=dict(metadata or {}),
        created_at=created_at or datetime.now(UTC),
    )
