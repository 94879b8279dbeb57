"""Exchange labels per bank entry: the TVEC label it maps to and the peer's labels verbatim.

A bank has one label; entries imported from a peer often carry their own (GIFCT behaviours,
TCAP ideology, ThreatExchange tags). They are kept here, beside the entry, so an export echoes
exactly what came in and a later, better label mapping can be re-run without re-importing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, ForeignKey, String, Table, select

from takedown.storage.tables import BigId, UtcDateTime, bank_entries, metadata

_CHUNK = 500

bank_entry_labels = Table(
    "bank_entry_labels",
    metadata,
    Column("entry_id", BigId, ForeignKey("bank_entries.id"), primary_key=True),
    Column("label", String(16), nullable=True),
    Column("source_labels", JSON, nullable=False, default=list),
    Column("tags", JSON, nullable=False, default=list),
    Column("external_id", String(256), nullable=True),
    Column("contributor", String(256), nullable=True),
    Column("extra", JSON, nullable=False, default=dict),
    Column("updated_at", UtcDateTime(), nullable=False),
)


@dataclass(frozen=True)
class EntryLabels:
    """What a peer said about one entry."""

    label: str | None = None
    source_labels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    external_id: str | None = None
    contributor: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.label or self.source_labels or self.tags or self.external_id or self.contributor
        )


@dataclass(frozen=True)
class LabelledEntry:
    entry_id: int
    signal_type: str
    value: str
    note: str | None
    created_at: datetime
    labels: EntryLabels


def _entry_ids(
    conn: Connection, bank: str, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        select(bank_entries.c.id, bank_entries.c.signal_type, bank_entries.c.value).where(
            bank_entries.c.bank == bank, bank_entries.c.removed_at.is_(None)
        )
    )
    return {(r.signal_type, r.value): int(r.id) for r in rows if (r.signal_type, r.value) in keys}


def save_labels(conn: Connection, bank: str, items: Iterable[tuple[str, str, EntryLabels]]) -> int:
    """Attach labels to active entries (signal_type, value) of a bank; returns how many."""
    wanted = {(t, v): labels for t, v, labels in items if labels}
    if not wanted:
        return 0
    ids = _entry_ids(conn, bank, set(wanted))
    now = datetime.now(UTC)
    rows = [
        {
            "entry_id": entry_id,
            "label": wanted[key].label,
            "source_labels": list(wanted[key].source_labels),
            "tags": list(wanted[key].tags),
            "external_id": wanted[key].external_id,
            "contributor": wanted[key].contributor,
            "extra": dict(wanted[key].extra),
            "updated_at": now,
        }
        for key, entry_id in ids.items()
    ]
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        conn.execute(
            bank_entry_labels.delete().where(
                bank_entry_labels.c.entry_id.in_([r["entry_id"] for r in chunk])
            )
        )
        conn.execute(bank_entry_labels.insert(), chunk)
    return len(rows)


def active_ids(conn: Connection, bank: str, keys: Iterable[tuple[str, str]]) -> list[int]:
    """Ids of a bank's active entries among (signal_type, value) pairs."""
    return sorted(_entry_ids(conn, bank, set(keys)).values())


def labelled_entries(conn: Connection, bank: str) -> list[LabelledEntry]:
    """A bank's active entries with whatever labels peers gave them, in id order."""
    rows = conn.execute(
        select(bank_entries, bank_entry_labels)
        .outerjoin(bank_entry_labels, bank_entry_labels.c.entry_id == bank_entries.c.id)
        .where(bank_entries.c.bank == bank, bank_entries.c.removed_at.is_(None))
        .order_by(bank_entries.c.id)
    )
    out = []
    for r in rows:
        labels = EntryLabels(
            label=r.label,
            source_labels=tuple(r.source_labels or ()),
            tags=tuple(r.tags or ()),
            external_id=r.external_id,
            contributor=r.contributor,
            extra=dict(r.extra or {}),
        )
        out.append(LabelledEntry(int(r.id), r.signal_type, r.value, r.note, r.created_at, labels))
    return out
