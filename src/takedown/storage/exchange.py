"""Exchange data on a node: applying a page of a source's deltas to its bank, with the cursor in
the same transaction, and reading an entry's provenance back for match evidence.

`apply_page` is the crash-safety boundary of a sync: the bank rows, their provenance and the
source's new cursor commit together, so a node killed mid-sync resumes from the last committed
page and ends with exactly the source's entries, never a duplicate (entries are keyed by the
source's own id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, func, select, update

from takedown.core.banks import BankEntry
from takedown.core.errors import NotFound
from takedown.exchange.client import ExchangeEntry
from takedown.storage.bank_signal import notify_changed
from takedown.storage.bulk import insert_rows, rows_where_in
from takedown.storage.exchange_tables import (
    exchange_entries,
    exchange_sources,
)
from takedown.storage.ledger import append_event
from takedown.storage.tables import bank_entries

CHUNK = 500


@dataclass
class PageResult:
    """What one committed page changed: the entries to make matchable (`live`) or drop
    (`gone`) in this process's matcher at once, and the crisis entries for the retro-scan."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    crisis: list[tuple[int, ExchangeEntry]] = field(default_factory=list)
    skipped: bool = False
    own: int = 0
    live: list[BankEntry] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)


def ensure_source(conn: Connection, name: str, kind: str, bank: str) -> None:
    row = conn.execute(select(exchange_sources.c.name).where(exchange_sources.c.name == name))
    if row.first() is None:
        conn.execute(exchange_sources.insert().values(name=name, kind=kind, bank=bank, received=0))


def source_cursor(conn: Connection, name: str) -> str | None:
    row = conn.execute(
        select(exchange_sources.c.cursor).where(exchange_sources.c.name == name)
    ).first()
    if row is None:
        raise NotFound(f"no exchange source {name!r} on this node")
    return None if row.cursor is None else str(row.cursor)


def list_sources(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(exchange_sources).order_by(exchange_sources.c.name))
    return [
        {
            "name": r.name,
            "kind": r.kind,
            "bank": r.bank,
            "cursor": r.cursor,
            "received": int(r.received),
            "synced_at": r.synced_at.isoformat() if r.synced_at else None,
        }
        for r in rows
    ]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _insert_entries(
    conn: Connection, rows: list[tuple[str, str, str, str | None, datetime]]
) -> dict[tuple[str, str], int]:
    """Insert bank entries (bank, signal_type, value, note, created_at) and return their ids.
    SQLite hands out max(id)+1 itself and this transaction holds its write lock, so the ids
    can be chosen up front."""
    if not rows:
        return {}
    names = ("bank", "signal_type", "value", "note", "created_at")
    if conn.dialect.name == "sqlite":
        start = int(
            conn.execute(select(func.coalesce(func.max(bank_entries.c.id), 0))).scalar_one()
        )
        ids = range(start + 1, start + 1 + len(rows))
        insert_rows(
            conn, bank_entries, ("id", *names), [(i, *r) for i, r in zip(ids, rows, strict=True)]
        )
        return {(r[1], r[2]): i for i, r in zip(ids, rows, strict=True)}
    returned = conn.execute(
        bank_entries.insert().returning(
            bank_entries.c.id,
            bank_entries.c.signal_type,
            bank_entries.c.value,
            sort_by_parameter_order=True,
        ),
        [dict(zip(names, r, strict=True)) for r in rows],
    )
    return {(r.signal_type, r.value): int(r.id) for r in returned}


def _known(conn: Connection, source: str, ids: Sequence[str]) -> dict[str, int]:
    rows = rows_where_in(
        conn, exchange_entries, ("external_id", "entry_id"), {"source": source}, "external_id", ids
    )
    return {str(external_id): int(entry_id) for external_id, entry_id in rows}


def _bank_rows(
    conn: Connection, bank: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, bool]]:
    """(id, removed) of the bank's rows holding these values."""
    found: dict[tuple[str, str], tuple[int, bool]] = {}
    for signal_type in {t for t, _ in keys}:
        values = sorted(v for t, v in keys if t == signal_type)  # probes in index order
        rows = rows_where_in(
            conn,
            bank_entries,
            ("id", "value", "removed_at"),
            {"bank": bank, "signal_type": signal_type},
            "value",
            values,
        )
        found.update({(signal_type, str(v)): (int(i), gone is not None) for i, v, gone in rows})
    return found


_INTERNED: dict[tuple[str, ...], list[str]] = {}


def _interned(values: tuple[str, ...]) -> list[str]:
    """One list object per distinct label or tag set, so bulk inserts encode each set once."""
    found = _INTERNED.get(values)
    if found is None:
        if len(_INTERNED) > 10_000:
            _INTERNED.clear()
        found = _INTERNED[values] = list(values)
    return found


def _provenance(source: str, entry: ExchangeEntry, entry_id: int, now: datetime) -> dict[str, Any]:
    return dict(zip(PROVENANCE_COLUMNS, _provenance_row(source, entry, entry_id, now), strict=True))


PROVENANCE_COLUMNS = (
    "source",
    "external_id",
    "entry_id",
    "contributor",
    "labels",
    "tags",
    "severity",
    "disputed",
    "crisis",
    "deleted",
    "first_seen",
    "received_at",
)


def _provenance_row(
    source: str, entry: ExchangeEntry, entry_id: int, now: datetime
) -> tuple[Any, ...]:
    return (
        source,
        entry.external_id,
        entry_id,
        entry.contributor,
        _interned(entry.source_labels or ((entry.label,) if entry.label else ())),
        _interned(tuple(entry.tags)),
        entry.severity,
        entry.disputed,
        entry.crisis,
        entry.deleted,
        entry.first_seen,
        now,
    )


def apply_page(
    conn: Connection,
    source: str,
    bank: str,
    entries: Sequence[ExchangeEntry],
    cursor: str | None,
    *,
    after: str | None,
    move: bool = True,
    actor: str = "exchange",
    own_banks: Sequence[str] = (),
) -> PageResult:
    """Apply one page in the caller's transaction and move the source's cursor past it.

    `after` is the cursor the page was fetched from: if another process has moved the source
    on since (two followers of one source), the page is skipped rather than applied twice.
    With `move=False` (crisis entries fetched ahead of the feed) the cursor stays where it is;
    the feed brings the same entries again later, and they are then updates, not duplicates.
    Entries already live in `own_banks` (the banks this node publishes to the source) are this
    node's own publications coming back and are skipped, so they never match in two banks."""
    now = datetime.now(UTC)
    result = PageResult()
    current = conn.execute(
        select(exchange_sources.c.cursor).where(exchange_sources.c.name == source).with_for_update()
    ).scalar_one()
    if move and current != after:
        result.skipped = True
        return result
    latest: dict[str, ExchangeEntry] = {}
    for entry in entries:
        latest[entry.external_id] = entry
    page = list(latest.values())
    known = _known(conn, source, [e.external_id for e in page])
    fresh = [e for e in page if e.external_id not in known and not e.deleted]
    if own_banks and fresh:
        fresh = _not_own(conn, own_banks, fresh, result)
    rows = _bank_rows(conn, bank, [(e.signal_type, e.value) for e in fresh])
    inserts: list[tuple[str, str, str, str | None, datetime]] = []
    queued: set[tuple[str, str]] = set()
    for entry in fresh:
        key = (entry.signal_type, entry.value)
        row = rows.get(key)
        if key in queued:
            continue
        if row is None:
            queued.add(key)
            inserts.append((bank, entry.signal_type, entry.value, entry.note, now))
        elif row[1]:
            conn.execute(
                update(bank_entries)
                .where(bank_entries.c.id == row[0])
                .values(removed_at=None, created_at=now, note=entry.note)
            )
    # In value order: each index of values then takes the page as one sweep through its
    # leaves instead of a random probe per row, which at a million entries is most of a
    # page's insert time (ids are handed out in that order; nothing depends on them).
    inserts.sort(key=itemgetter(1, 2))
    new_ids = _insert_entries(conn, inserts)
    ids = {**{key: row[0] for key, row in rows.items()}, **new_ids}
    provenance: list[tuple[Any, ...]] = []
    for entry in fresh:
        entry_id = ids[(entry.signal_type, entry.value)]
        provenance.append(_provenance_row(source, entry, entry_id, now))
        result.live.append(BankEntry(entry_id, bank, entry.signal_type, entry.value, entry.note))
        if entry.crisis:
            result.crisis.append((entry_id, entry))
    result.added = len(fresh)
    insert_rows(conn, exchange_entries, PROVENANCE_COLUMNS, provenance)
    for entry in page:
        if entry.external_id not in known:
            continue
        entry_id = known[entry.external_id]
        values = _provenance(source, entry, entry_id, now)
        del values["source"], values["external_id"], values["received_at"]
        conn.execute(
            update(exchange_entries)
            .where(
                exchange_entries.c.source == source,
                exchange_entries.c.external_id == entry.external_id,
            )
            .values(**values)
        )
        if entry.deleted and not _shared(conn, entry_id):
            removed = conn.execute(
                update(bank_entries)
                .where(bank_entries.c.id == entry_id, bank_entries.c.removed_at.is_(None))
                .values(removed_at=now)
            )
            result.removed += removed.rowcount
            result.gone.append(entry_id)
        elif not entry.deleted:
            revived = conn.execute(
                update(bank_entries)
                .where(bank_entries.c.id == entry_id, bank_entries.c.removed_at.is_not(None))
                .values(removed_at=None, created_at=now)
            )
            result.updated += 1
            if revived.rowcount:
                result.live.append(
                    BankEntry(entry_id, bank, entry.signal_type, entry.value, entry.note)
                )
            if entry.crisis and revived.rowcount:
                result.crisis.append((entry_id, entry))
    if result.live or result.gone:
        notify_changed(conn)
    if move:
        conn.execute(
            update(exchange_sources)
            .where(exchange_sources.c.name == source)
            .values(
                cursor=cursor, synced_at=now, received=exchange_sources.c.received + len(entries)
            )
        )
    append_event(
        conn,
        "exchange.received",
        f"source:{source}",
        {
            "source": source,
            "bank": bank,
            "count": len(entries),
            "added": result.added,
            "updated": result.updated,
            "removed": result.removed,
            "crisis": len(result.crisis),
        },
        actor=actor,
    )
    return result


def _not_own(
    conn: Connection, own_banks: Sequence[str], fresh: list[ExchangeEntry], result: PageResult
) -> list[ExchangeEntry]:
    keys = [(e.signal_type, e.value) for e in fresh]
    own = {
        key
        for bank in own_banks
        for key, (_id, removed) in _bank_rows(conn, bank, keys).items()
        if not removed
    }
    result.own = sum(1 for key in keys if key in own)
    return [e for e, key in zip(fresh, keys, strict=True) if key not in own]


def _shared(conn: Connection, entry_id: int) -> bool:
    """Another live exchange entry (a second contributor of the same hash) still holds it."""
    row = conn.execute(
        select(exchange_entries.c.external_id).where(
            exchange_entries.c.entry_id == entry_id, exchange_entries.c.deleted.is_(False)
        )
    ).first()
    return row is not None


def provenance_for(conn: Connection, entry_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Exchange metadata per bank entry id, for match evidence and lookups."""
    ids = sorted(set(entry_ids))
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(select(exchange_entries).where(exchange_entries.c.entry_id.in_(chunk)))
        for r in rows:
            found[int(r.entry_id)] = {
                "source": r.source,
                "external_id": r.external_id,
                "contributor": r.contributor,
                "labels": list(r.labels or []),
                "tags": list(r.tags or []),
                "disputed": bool(r.disputed),
                "crisis": bool(r.crisis),
                "first_seen": r.first_seen.isoformat() if r.first_seen else None,
            }
    return found


def source_of(conn: Connection, entry_id: int) -> tuple[str, str] | None:
    """(source, external id) a bank entry came from, if it came from an exchange."""
    row = conn.execute(
        select(exchange_entries.c.source, exchange_entries.c.external_id).where(
            exchange_entries.c.entry_id == entry_id
        )
    ).first()
    return None if row is None else (str(row.source), str(row.external_id))
