"""Appending to and reading the hash-chained event ledger.

Appends happen inside the caller's transaction, so an event exists exactly when the change it
describes was committed. Appends are serialised (PostgreSQL advisory lock; SQLite's write lock)
so the chain stays linear with many workers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, text

from takedown.core.events import GENESIS, Event, canonical_json, chained_hash
from takedown.core.redact import might_hold_secret, redact_value
from takedown.storage.tables import events

LEDGER_LOCK_ID = 0x7A6B_0001


def append_event(
    conn: Connection,
    type: str,
    subject: str,
    payload: dict[str, Any],
    *,
    actor: str = "system",
    at: datetime | None = None,
) -> Event:
    return append_events(conn, [(type, subject, payload, actor)], at=at)[0]


def append_events(
    conn: Connection,
    items: list[tuple[str, str, dict[str, Any], str]],
    *,
    at: datetime | None = None,
) -> list[Event]:
    """Append many (type, subject, payload, actor) events with one lock, one read of the chain's
    head and one multi-row insert: the worker's batch commit, without per-event round trips."""
    if not items:
        return []
    masked = [_masked(raw) for _type, _subject, raw, _actor in items]
    encoded = [canonical_json(payload) for payload in masked]
    at = (at or datetime.now(UTC)).astimezone(UTC)
    seq, prev = _locked_head(conn)
    appended: list[Event] = []
    for (type, subject, _raw, actor), payload, payload_json in zip(
        items, masked, encoded, strict=True
    ):
        seq += 1
        digest = chained_hash(
            seq=seq, type=type, subject=subject, payload_json=payload_json, actor=actor, at=at,
            prev_hash=prev,
        )
        appended.append(Event(seq, type, subject, payload, actor, at, prev, digest))
        prev = digest
    conn.execute(
        events.insert(),
        [
            {"seq": e.seq, "type": e.type, "subject": e.subject, "payload": e.payload,
             "actor": e.actor, "at": e.at, "prev_hash": e.prev_hash, "hash": e.hash}
            for e in appended
        ],
    )
    return appended


def _locked_head(conn: Connection) -> tuple[int, str]:
    """Take the ledger lock (held to the commit) and read the chain's head: (seq, hash).
    Everything that does not need the head is done by the callers before this."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LEDGER_LOCK_ID})
    last = conn.execute(
        select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS) if last is None else (int(last.seq), str(last.hash))


def _masked(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with secrets masked (the ledger is append-only, so a secret written here
    could never be removed), round-tripped through JSON so what is hashed equals what the
    database gives back. Most payloads hold no string that could be a
    secret, which one scan of their JSON shows, so the per-string walk runs only for the rest."""
    encoded = canonical_json(payload)
    if might_hold_secret(encoded):
        encoded = canonical_json(redact_value(payload))
    result: dict[str, Any] = json.loads(encoded)
    return result


def iter_events(
    conn: Connection, *, subject: str | None = None, after: int = 0, limit: int | None = None
) -> Iterator[Event]:
    query = select(events).where(events.c.seq > after).order_by(events.c.seq)
    if subject is not None:
        query = query.where(events.c.subject == subject)
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query):
        yield Event(
            seq=int(row.seq),
            type=row.type,
            subject=row.subject,
            payload=dict(row.payload),
            actor=row.actor,
            at=row.at,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
