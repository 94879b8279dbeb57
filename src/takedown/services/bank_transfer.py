"""Bank import and export in every interchange format, for the CLI (and later the API).

Import parses the whole file first (a bad record rejects it with its line number and nothing
is stored), then adds live entries, tombstones entries the file marks deleted, and keeps each
entry's peer labels beside it, all in one transaction. Export writes a bank's active entries
with those labels, so what came in from a peer goes out again verbatim.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from takedown.core.banks import Bank, BankKind
from takedown.core.errors import InvalidInput, NotFound
from takedown.core.taxonomy import TvecLabel
from takedown.exchange.client import ExchangeEntry
from takedown.exchange.formats import FORMATS, read_file, write_file, write_stream
from takedown.exchange.formats.records import ParseResult
from takedown.signals.registry import SignalRegistry
from takedown.storage import banks as bank_store
from takedown.storage.entry_labels import EntryLabels, active_ids, labelled_entries, save_labels


def _canonical(registry: SignalRegistry, parsed: ParseResult) -> list[ExchangeEntry]:
    return [replace(e, value=registry.canonical(e.signal_type, e.value)) for e in parsed.entries]


def _bank_for(
    engine: Engine, name: str, label: TvecLabel | None, entries: list[ExchangeEntry], **options: Any
) -> Bank:
    """The given label wins; else an existing bank stays as it is; else the entries' own label."""
    if label is not None:
        return Bank(name=name, label=label, **options)
    with engine.connect() as conn:
        try:
            return bank_store.get_bank(conn, name)
        except NotFound:
            pass
    votes = Counter(e.label for e in entries if e.label)
    if not votes:
        raise InvalidInput(
            f"bank {name!r} does not exist and the file names no taxonomy label",
            hint="pass --label, e.g. --label TVEC7",
        )
    return Bank(name=name, label=TvecLabel(votes.most_common(1)[0][0]), **options)


def import_bank_file(
    engine: Engine,
    registry: SignalRegistry,
    *,
    bank: str,
    path: Path,
    fmt: str,
    label: TvecLabel | None = None,
    severity: int = 3,
    kind: BankKind = BankKind.BLOCK,
    source: str = "local",
    signal_type: str | None = None,
    hma_bank: str | None = None,
    actor: str = "cli",
) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    parsed = read_file(
        path, fmt, known=registry.names(), bank=bank, signal_type=signal_type, hma_bank=hma_bank
    )
    entries = _canonical(registry, parsed)
    if not entries:
        detail = f" ({dict(parsed.skipped)} skipped)" if parsed.skipped else ""
        raise InvalidInput(f"{path} holds no entries{detail}")
    live = {(e.signal_type, e.value): e for e in entries if not e.deleted}
    gone = {(e.signal_type, e.value) for e in entries if e.deleted} - set(live)
    target = _bank_for(engine, bank, label, entries, severity=severity, kind=kind, source=source)
    with engine.begin() as conn:
        bank_store.upsert_bank(conn, target, actor=actor)
        added, present = bank_store.add_entries(
            conn, bank, [(t, v, e.note) for (t, v), e in live.items()], actor=actor
        )
        removed = 0
        for entry_id in active_ids(conn, bank, gone):
            bank_store.remove_entry(conn, entry_id, actor=actor)
            removed += 1
        labelled = save_labels(
            conn,
            bank,
            [
                (
                    t,
                    v,
                    EntryLabels(
                        label=e.label,
                        source_labels=e.source_labels,
                        tags=e.tags,
                        external_id=e.external_id if e.external_id != f"{t}:{v}" else None,
                        contributor=e.contributor,
                        extra=dict(e.extra),
                    ),
                )
                for (t, v), e in live.items()
            ],
        )
    result: dict[str, Any] = {
        "bank": bank,
        "label": target.label.value,
        "added": added,
        "already_present": present,
    }
    if removed:
        result["removed"] = removed
    if labelled:
        result["labelled"] = labelled
    if parsed.skipped:
        result["skipped"] = dict(parsed.skipped)
    return result


def bank_entries_for_export(engine: Engine, bank: str) -> list[ExchangeEntry]:
    with engine.connect() as conn:
        target = bank_store.get_bank(conn, bank)
        rows = labelled_entries(conn, bank)
    return [
        ExchangeEntry(
            external_id=row.labels.external_id or f"{row.signal_type}:{row.value}",
            signal_type=row.signal_type,
            value=row.value,
            label=row.labels.label or target.label.value,
            source_labels=row.labels.source_labels,
            tags=row.labels.tags,
            severity=target.severity,
            contributor=row.labels.contributor,
            note=row.note,
            first_seen=row.created_at,
            extra=row.labels.extra,
        )
        for row in rows
    ]


def export_bank_file(
    engine: Engine, *, bank: str, fmt: str, path: Path | None, out: TextIO = sys.stdout
) -> dict[str, Any]:
    """Write to `path` (a folder for hma), or to `out` when no path is given."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    entries = bank_entries_for_export(engine, bank)
    if path is None:
        if fmt == "hma":
            raise InvalidInput("HMA bank content is a folder", hint="pass --output FOLDER")
        written, skipped = write_stream(entries, out, fmt)
    else:
        written, skipped = write_file(entries, path, fmt, bank=bank)
    result: dict[str, Any] = {"bank": bank, "format": fmt, "written": written}
    if path is not None:
        result["path"] = str(path)
    if skipped:
        result["skipped"] = skipped
    return result
