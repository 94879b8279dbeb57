"""The durable outbox: messages written in the same transaction as the decision they announce,
delivered afterwards at least once. A message is claimed by pushing its next attempt into the
future, so a deliverer that dies mid-send only delays it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from takedown.storage.tables import outbox


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    idempotency_key: str
    target: str
    topic: str
    payload: dict[str, Any]
    attempts: int


def enqueue(
    conn: Connection, *, key: str, target: str, topic: str, payload: dict[str, Any]
) -> bool:
    """Queue a message; a repeated key is ignored (returns False), making retries harmless."""
    exists = conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key)).first()
    if exists:
        return False
    now = datetime.now(UTC)
    conn.execute(
        outbox.insert().values(
            idempotency_key=key,
            target=target,
            topic=topic,
            payload=payload,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


def claim_due(conn: Connection, *, limit: int, lease: timedelta) -> list[OutboxMessage]:
    now = datetime.now(UTC)
    query = (
        select(outbox)
        .where(
            outbox.c.delivered_at.is_(None),
            outbox.c.dead_at.is_(None),
            outbox.c.next_attempt_at <= now,
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    if rows:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_([r.id for r in rows]))
            .values(next_attempt_at=now + lease, attempts=outbox.c.attempts + 1)
        )
    return [
        OutboxMessage(
            int(r.id), r.idempotency_key, r.target, r.topic, dict(r.payload), int(r.attempts) + 1
        )
        for r in rows
    ]


def mark_delivered(conn: Connection, message_id: int) -> None:
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id)
        .values(delivered_at=datetime.now(UTC), last_error=None)
    )


def mark_failed(
    conn: Connection, message_id: int, *, error: str, retry_at: datetime | None
) -> None:
    """Schedule a retry, or (retry_at None) give up and keep the message as dead for operators."""
    values: dict[str, Any] = {"last_error": error[:2000]}
    if retry_at is None:
        values["dead_at"] = datetime.now(UTC)
    else:
        values["next_attempt_at"] = retry_at
    conn.execute(update(outbox).where(outbox.c.id == message_id).values(**values))


def wake_target(conn: Connection, target: str) -> int:
    """Make every waiting message for `target` due now (it just answered again)."""
    now = datetime.now(UTC)
    result = conn.execute(
        update(outbox)
        .where(
            outbox.c.target == target,
            outbox.c.delivered_at.is_(None),
            outbox.c.dead_at.is_(None),
            outbox.c.next_attempt_at > now,
            outbox.c.attempts > 0,
        )
        .values(next_attempt_at=now)
    )
    return int(result.rowcount or 0)


def dead_messages(conn: Connection, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Dead messages for operators: id, key, topic, attempts, when it died and why (the error
    was redacted before it was stored; the target is not shown, it may carry a token)."""
    rows = conn.execute(
        select(outbox).where(outbox.c.dead_at.is_not(None)).order_by(outbox.c.id).limit(limit)
    ).all()
    return [
        {
            "id": int(r.id),
            "key": r.idempotency_key,
            "topic": r.topic,
            "attempts": int(r.attempts),
            "dead_at": r.dead_at.isoformat(),
            "error": r.last_error,
        }
        for r in rows
    ]


def replay_dead(conn: Connection, ids: list[int] | None = None) -> list[int]:
    """Bring dead messages back to life (all, or those `ids`): attempts start again from zero
    and they are due at once. Delivery stays idempotent by key, so a replay is harmless."""
    query = select(outbox.c.id).where(outbox.c.dead_at.is_not(None))
    if ids is not None:
        query = query.where(outbox.c.id.in_(ids))
    revived = [int(i) for i in conn.execute(query.order_by(outbox.c.id)).scalars()]
    if revived:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(revived))
            .values(dead_at=None, attempts=0, next_attempt_at=datetime.now(UTC))
        )
    return revived


def counts(conn: Connection) -> dict[str, int]:
    delivered = func.count(outbox.c.delivered_at)
    dead = func.count(outbox.c.dead_at)
    total, done, gone = conn.execute(select(func.count(), delivered, dead)).one()
    return {
        "total": int(total),
        "delivered": int(done),
        "dead": int(gone),
        "pending": int(total) - int(done) - int(gone),
    }
