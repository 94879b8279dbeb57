"""The append-only, hash-chained ledger of everything that happened.

Each event's hash covers its content and the previous event's hash, so editing or deleting any
past event breaks every hash after it; `verify_chain` finds the first broken link. Reports and
metrics are computed from events, never from mutable rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    subject: str
    payload: dict[str, Any]
    actor: str
    at: datetime
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    *,
    seq: int,
    type: str,
    subject: str,
    payload: dict[str, Any],
    actor: str,
    at: datetime,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "type": type,
            "subject": subject,
            "payload": payload,
            "actor": actor,
            "at": at.isoformat(),
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def verify_chain(events: Iterable[Event]) -> int | None:
    """Return the seq of the first event whose link is broken, or None when the chain holds."""
    prev = GENESIS
    expected_seq: int | None = None
    for event in events:
        if expected_seq is not None and event.seq != expected_seq:
            return event.seq
        recomputed = event_hash(
            seq=event.seq,
            type=event.type,
            subject=event.subject,
            payload=event.payload,
            actor=event.actor,
            at=event.at,
            prev_hash=prev,
        )
        if event.prev_hash != prev or event.hash != recomputed:
            return event.seq
        prev = event.hash
        expected_seq = event.seq + 1
    return None
