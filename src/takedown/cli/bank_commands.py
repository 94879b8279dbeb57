"""`takedown bank import|add-media|list`: load labelled hash lists from CSV, or bank pictures.

`add-media` banks each picture's reference PDQ hash and its local-feature set (`orb`), skipping
degenerate ones (services/media_banking.py) and saying so on stderr.

CSV columns: `signal_type,value[,note]` with a header, or a bare column of hex hashes whose
type is inferred from length (32 → md5, 64 → sha256) unless `--signal-type` says otherwise.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from takedown.cli._common import emit, open_runtime
from takedown.core.banks import Bank, BankKind
from takedown.core.errors import InvalidInput, NotFound
from takedown.core.taxonomy import parse_label
from takedown.storage import banks as bank_store

LENGTH_TYPES = {32: "md5", 64: "sha256"}


def register(subparsers: Any) -> None:
    bank = subparsers.add_parser("bank", help="manage hash banks")
    sub = bank.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="create or extend a bank from a CSV file")
    imp.add_argument("name")
    imp.add_argument("file", type=Path)
    imp.add_argument("--label", required=True, help="taxonomy label, e.g. TVEC7")
    imp.add_argument("--severity", type=int, default=3)
    imp.add_argument("--kind", choices=[k.value for k in BankKind], default="block")
    imp.add_argument("--signal-type", help="type for a bare column of values")
    imp.add_argument("--source", default="local")
    imp.set_defaults(func=cmd_import)
    media = sub.add_parser("add-media", help="bank pictures (PDQ + local features)")
    media.add_argument("name", help="an existing bank, or a new one with --label")
    media.add_argument("files", type=Path, nargs="+")
    media.add_argument("--label", help="create the bank with this taxonomy label if missing")
    media.add_argument("--note")
    media.set_defaults(func=cmd_add_media)
    ls = sub.add_parser("list", help="list banks")
    ls.set_defaults(func=cmd_list)


def read_entries(
    path: Path, *, signal_type: str | None, known: set[str]
) -> list[tuple[str, str, str | None]]:
    """Parse the whole file before anything is stored: one bad row rejects the import."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise NotFound(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["signal_type", "value"]:
        header_mode, rows = True, rows[1:]
    else:
        header_mode = False
    entries: list[tuple[str, str, str | None]] = []
    for n, row in enumerate(rows, start=2 if header_mode else 1):
        if header_mode:
            if len(row) < 2:
                raise InvalidInput(f"{path}:{n}: expected signal_type,value[,note]")
            kind, value = row[0].strip(), row[1].strip()
            note = row[2].strip() if len(row) > 2 and row[2].strip() else None
        else:
            value, note = row[0].strip(), (row[1].strip() if len(row) > 1 else None) or None
            kind = signal_type or LENGTH_TYPES.get(len(value), "")
            if not kind:
                raise InvalidInput(
                    f"{path}:{n}: cannot infer the signal type of {value[:20]!r}",
                    hint="add a header `signal_type,value` or pass --signal-type",
                )
        if kind not in known:
            raise InvalidInput(
                f"{path}:{n}: unknown signal type {kind!r}",
                hint=f"known: {', '.join(sorted(known))}",
            )
        if not value:
            raise InvalidInput(f"{path}:{n}: empty value")
        entries.append((kind, value, note))
    if not entries:
        raise InvalidInput(f"{path} holds no entries")
    return entries


def cmd_import(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        registry = runtime.registry
        raw = read_entries(args.file, signal_type=args.signal_type, known=set(registry.names()))
        entries = [
            (kind, registry.canonical(kind, value), note)
            for kind, value, note in tqdm(
                raw, desc="import", unit="hash", file=sys.stderr, disable=len(raw) < 10_000
            )
        ]
        bank = Bank(
            name=args.name,
            label=parse_label(args.label),
            severity=args.severity,
            source=args.source,
            kind=BankKind(args.kind),
        )
        with runtime.engine.begin() as conn:
            bank_store.upsert_bank(conn, bank, actor="cli")
            added, present = bank_store.add_entries(conn, args.name, entries, actor="cli")
    finally:
        runtime.close()
    emit({"bank": args.name, "label": bank.label.value, "added": added, "already_present": present})
    return 0


def cmd_add_media(args: argparse.Namespace) -> int:
    """One JSON line per file; an unreadable or degenerate file is reported and skipped
    (exit 2), the others are still banked."""
    from takedown.services.media_banking import bank_picture

    runtime = open_runtime()
    failed = False
    try:
        with runtime.engine.begin() as conn:
            try:
                bank_store.get_bank(conn, args.name)
            except NotFound:
                if not args.label:
                    raise
                bank_store.upsert_bank(
                    conn, Bank(name=args.name, label=parse_label(args.label)), actor="cli")
        for path in args.files:
            try:
                data = path.read_bytes()
                result = bank_picture(runtime.engine, args.name, data, note=args.note,
                                      actor="cli")
            except (OSError, InvalidInput) as error:
                failed = True
                emit({"file": str(path), "error": str(error)})
                print(f"{path}: {error}", file=sys.stderr)
                continue
            for warning in result.warnings:
                print(f"{path}: {warning}", file=sys.stderr)
            emit({"file": str(path), **result.to_json()})
    finally:
        runtime.close()
    return 2 if failed else 0


def cmd_list(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        with runtime.engine.connect() as conn:
            for bank in bank_store.list_banks(conn):
                emit(
                    {
                        "name": bank.name,
                        "label": bank.label.value,
                        "enabled": bank.enabled,
                        "kind": bank.kind.value,
                        "severity": bank.severity,
                    }
                )
    finally:
        runtime.close()
    return 0
