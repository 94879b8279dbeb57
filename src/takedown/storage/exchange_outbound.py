"""What a node sends to exchanges: checkpoints of the feedback sender on the ledger, and which
entries of opt-in banks were published to which source (and retracted there since)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from takedown.storage.exchange_tables import exchange_checkpoints, exchange_published
from takedown.storage.ledger import append_event
from takedown.storage.tables import bank_entries


def checkpoint(conn: Connection, name: str) -> int:
    row = conn.execute(
        select(exchange_checkpoints.c.value).where(exchange_checkpoints.c.name == name)
    ).first()
    return 0 if row is None else int(row.value)


def set_checkpoint(conn: Connection, name: str, value: int) -> None:
    moved = conn.execute(
        update(exchange_checkpoints).where(exchange_checkpoints.c.name == name).values(value=value)
    )
    if moved.rowcount == 0:
        conn.execute(exchange_checkpoints.insert().values(name=name, value=value))


def unpublished(conn: Connection, source: str, banks: Sequence[str], limit: int) -> list[Any]:
    """Active entries of opt-in banks this node has not yet published to `source`."""
    published = select(exchange_published.c.entry_id).where(exchange_published.c.source == source)
    return list(
        conn.execute(
            select(bank_entries)
            .where(
                bank_entries.c.bank.in_(list(banks)),
                bank_entries.c.removed_at.is_(None),
                bank_entries.c.id.not_in(published),
            )
            .order_by(bank_entries.c.id)
            .limit(limit)
        )
    )


def withdrawn(conn: Connection, source: str, banks: Sequence[str]) -> list[Any]:
    """Published entries since removed locally, whose retraction is still to be sent."""
    return list(
        conn.execute(
            select(exchange_published.c.entry_id, exchange_published.c.external_id)
            .join(bank_entries, bank_entries.c.id == exchange_published.c.entry_id)
            .where(
                exchange_published.c.source == source,
                exchange_published.c.retracted_at.is_(None),
                bank_entries.c.bank.in_(list(banks)),
                bank_entries.c.removed_at.is_not(None),
            )
        )
    )


def mark_published(conn: Connection, source: str, pairs: Sequence[tuple[int, str]]) -> None:
    now = datetime.now(UTC)
    if pairs:
        conn.execute(
            exchange_published.insert(),
            [
                {"source": source, "entry_id": e, "external_id": x, "published_at": now}
                for e, x in pairs
            ],
        )
        append_event(
            conn, "exchange.published", f"source:{source}", {"source": source, "count": len(pairs)}
        )


def mark_retracted(conn: Connection, source: str, entry_id: int) -> None:
    conn.execute(
        update(exchange_published)
        .where(exchange_published.c.source == source, exchange_published.c.entry_id == entry_id)
        .values(retracted_at=datetime.now(UTC))
    )
    append_event(
        conn, "exchange.retracted", f"source:{source}", {"source": source, "entry_id": entry_id}
    )
