"""Banks and their entries on disk. Entry removal is a tombstone, so history and indexes that
follow the change feed (`entries_changed_since`) can see it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from takedown.core.banks import Bank, BankEntry, BankKind
from takedown.core.errors import NotFound
from takedown.core.taxonomy import TvecLabel
from takedown.storage.bank_signal import notify_changed
from takedown.storage.ledger import append_event
from takedown.storage.tables import bank_entries, banks


def _bank_from_row(row: Any) -> Bank:
    return Bank(
        name=row.name,
        label=TvecLabel(row.label),
        severity=int(row.severity),
        source=row.source,
        enabled=bool(row.enabled),
        kind=BankKind(row.kind),
        thresholds={str(k): int(v) for k, v in (row.thresholds or {}).items()},
    )


def upsert_bank(conn: Connection, bank: Bank, *, actor: str) -> Bank:
    values = {
        "label": bank.label.value,
        "severity": bank.severity,
        "source": bank.source,
        "enabled": bank.enabled,
        "kind": bank.kind.value,
        "thresholds": dict(bank.thresholds),
    }
    exists = conn.execute(select(banks.c.name).where(banks.c.name == bank.name)).first()
    if exists:
        conn.execute(update(banks).where(banks.c.name == bank.name).values(**values))
    else:
        conn.execute(banks.insert().values(name=bank.name, created_at=datetime.now(UTC), **values))
    append_event(
        conn, "bank.saved", f"bank:{bank.name}", {"name": bank.name, **values}, actor=actor
    )
    return bank


def get_bank(conn: Connection, name: str) -> Bank:
    row = conn.execute(select(banks).where(banks.c.name == name)).first()
    if row is None:
        raise NotFound(f"no bank named {name!r}", hint="create it with `takedown bank import`")
    return _bank_from_row(row)


def list_banks(conn: Connection) -> list[Bank]:
    return [_bank_from_row(r) for r in conn.execute(select(banks).order_by(banks.c.name))]


def add_entries(
    conn: Connection,
    bank: str,
    entries: Iterable[tuple[str, str, str | None]],
    *,
    actor: str,
) -> tuple[int, int]:
    """Add (signal_type, value, note) entries; returns (added, already present)."""
    get_bank(conn, bank)
    now = datetime.now(UTC)
    added = present = 0
    for signal_type, value, note in entries:
        row = conn.execute(
            select(bank_entries.c.id, bank_entries.c.removed_at).where(
                bank_entries.c.bank == bank,
                bank_entries.c.signal_type == signal_type,
                bank_entries.c.value == value,
            )
        ).first()
        if row is not None and row.removed_at is None:
            present += 1
            continue
        if row is not None:
            conn.execute(
                update(bank_entries)
                .where(bank_entries.c.id == row.id)
                .values(removed_at=None, created_at=now, note=note)
            )
        else:
            conn.execute(
                bank_entries.insert().values(
                    bank=bank, signal_type=signal_type, value=value, note=note, created_at=now
                )
            )
        added += 1
    if added:
        notify_changed(conn)
    append_event(
        conn,
        "bank.entries_added",
        f"bank:{bank}",
        {"added": added, "present": present},
        actor=actor,
    )
    return added, present


def remove_entry(conn: Connection, entry_id: int, *, actor: str) -> None:
    now = datetime.now(UTC)
    result = conn.execute(
        update(bank_entries)
        .where(bank_entries.c.id == entry_id, bank_entries.c.removed_at.is_(None))
        .values(removed_at=now)
    )
    if result.rowcount == 0:
        raise NotFound(f"no active bank entry {entry_id}")
    notify_changed(conn)
    append_event(
        conn, "bank.entry_removed", f"entry:{entry_id}", {"entry_id": entry_id}, actor=actor
    )


def active_entries(conn: Connection, *, except_types: Iterable[str] = ()) -> list[BankEntry]:
    query = select(bank_entries).where(bank_entries.c.removed_at.is_(None))
    skip = list(except_types)
    if skip:
        query = query.where(bank_entries.c.signal_type.not_in(skip))
    rows = conn.execute(query.order_by(bank_entries.c.id))
    return [BankEntry(r.id, r.bank, r.signal_type, r.value, r.note) for r in rows]


def active_entries_by_id(conn: Connection, entry_ids: Sequence[int]) -> list[BankEntry]:
    """The entries among `entry_ids` that are still active (a matcher resolving index hits)."""
    rows = conn.execute(select(bank_entries).where(
        bank_entries.c.id.in_(list(entry_ids)), bank_entries.c.removed_at.is_(None)))
    return [BankEntry(r.id, r.bank, r.signal_type, r.value, r.note) for r in rows]


def entries_changed_since(conn: Connection, since: datetime) -> tuple[list[BankEntry], list[int]]:
    """(added or revived entries, removed entry ids) since a moment: the change feed."""
    rows = conn.execute(
        select(bank_entries).where(
            or_(bank_entries.c.created_at >= since, bank_entries.c.removed_at >= since)
        )
    ).all()
    added = [
        BankEntry(r.id, r.bank, r.signal_type, r.value, r.note)
        for r in rows
        if r.removed_at is None
    ]
    removed = [int(r.id) for r in rows if r.removed_at is not None]
    return added, removed
