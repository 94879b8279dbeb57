"""`takedown bank import|export|add-media|list`: labelled hash lists in and out, in several
formats, and banking pictures.

`add-media` banks each picture's reference PDQ hash and its local-feature set (`orb`), and each
clip's vPDQ hash and its key frames' feature sets, skipping degenerate ones
(services/media_banking.py) and saying so on stderr.

CSV columns: `signal_type,value[,note]` with a header (plus optional label columns, see
docs/exchanges.md), or a bare column of hex hashes whose type is inferred from length
(32 → md5, 64 → sha256) unless `--signal-type` says otherwise. `--format jsonl|te|hma` reads
JSON lines, python-threatexchange files and HMA bank folders.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from takedown.cli._common import emit, open_runtime
from takedown.core.banks import Bank, BankKind
from takedown.core.errors import InvalidInput, NotFound
from takedown.core.taxonomy import parse_label
from takedown.services.bank_transfer import export_bank_file, import_bank_file
from takedown.storage import banks as bank_store

IMPORT_FORMATS = ["csv", "jsonl", "te", "hma"]
EXPORT_FORMATS = ["csv", "jsonl", "te", "hma"]


def register(subparsers: Any) -> None:
    bank = subparsers.add_parser("bank", help="manage hash banks")
    sub = bank.add_subparsers(dest="bank_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="create or extend a bank from a file")
    imp.add_argument("name")
    imp.add_argument("file", type=Path, help="a file, or an HMA bank folder for --format hma")
    imp.add_argument(
        "--format", choices=IMPORT_FORMATS, default="csv", help="file format (default csv)"
    )
    imp.add_argument(
        "--label", help="taxonomy label, e.g. TVEC7 (needed for a new bank unless the file has one)"
    )
    imp.add_argument("--severity", type=int, default=3)
    imp.add_argument("--kind", choices=[k.value for k in BankKind], default="block")
    imp.add_argument("--signal-type", help="type for a bare column of values")
    imp.add_argument("--source", default="local")
    imp.add_argument("--hma-bank", help="which bank of an HMA store to read (--format hma)")
    imp.set_defaults(func=cmd_import)
    exp = sub.add_parser("export", help="write a bank's entries and labels to a file")
    exp.add_argument("name")
    exp.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    exp.add_argument(
        "--output", "-o", type=Path, help="file (a folder for hma); standard output if omitted"
    )
    exp.set_defaults(func=cmd_export)
    media = sub.add_parser(
        "add-media", help="bank pictures (PDQ + local features) and clips (vPDQ + key frames)")
    media.add_argument("name", help="an existing bank, or a new one with --label")
    media.add_argument("files", type=Path, nargs="+")
    media.add_argument("--label", help="create the bank with this taxonomy label if missing")
    media.add_argument("--note")
    media.set_defaults(func=cmd_add_media)
    ls = sub.add_parser("list", help="list banks")
    ls.set_defaults(func=cmd_list)


def cmd_import(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        result = import_bank_file(
            runtime.engine,
            runtime.registry,
            bank=args.name,
            path=args.file,
            fmt=args.format,
            label=parse_label(args.label) if args.label else None,
            severity=args.severity,
            kind=BankKind(args.kind),
            source=args.source,
            signal_type=args.signal_type,
            hma_bank=args.hma_bank,
        )
    finally:
        runtime.close()
    emit(result)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    try:
        result = export_bank_file(
            runtime.engine, bank=args.name, fmt=args.format, path=args.output, out=sys.stdout
        )
    finally:
        runtime.close()
    if args.output is None:
        sys.stderr.write(json.dumps(result) + "\n")
    else:
        emit(result)
    return 0


def cmd_add_media(args: argparse.Namespace) -> int:
    """One JSON line per file; an unreadable or degenerate file is reported and skipped
    (exit 2), the others are still banked."""
    from takedown.cli.hash_commands import sniff_kind
    from takedown.services.media_banking import bank_picture, bank_video

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
                bank = bank_video if sniff_kind(data[:32], path.name) == "video" else bank_picture
                result = bank(runtime.engine, args.name, data, note=args.note, actor="cli")
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
