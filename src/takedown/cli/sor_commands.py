"""`takedown sor export|submit|validate`: DSA statements of reasons in the Transparency
Database format (one JSON object per line, the database's field names at the top level)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from takedown.cli._common import emit
from takedown.cli._legal import accountability
from takedown.core.errors import InvalidInput, NotFound
from takedown.reports.metrics import parse_day
from takedown.reports.sor import validate


def register(subparsers: Any) -> None:
    sor = subparsers.add_parser("sor", help="statements of reasons (DSA Transparency Database)")
    sub = sor.add_subparsers(dest="sor_command", metavar="ACTION", required=True)
    export = sub.add_parser("export", help="write statements as JSON lines")
    export.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (UTC)")
    export.add_argument("--to", dest="end", help="last day, inclusive")
    export.add_argument("--out", type=Path, help="file to write (default stdout)")
    export.set_defaults(func=cmd_export)
    submit = sub.add_parser("submit", help="send unsent statements to the configured endpoint")
    submit.set_defaults(func=cmd_submit)
    check = sub.add_parser("validate", help="check a JSON-lines file against the schema rules")
    check.add_argument("file", type=Path)
    check.set_defaults(func=cmd_validate)


def cmd_export(args: argparse.Namespace) -> int:
    start = parse_day(args.start) if args.start else None
    end = parse_day(args.end, end=True) if args.end else None
    with accountability() as acc:
        if args.out:
            with args.out.open("w", encoding="utf-8") as out:
                count, built = acc.export_statements(out, start=start, end=end)
        else:
            count, built = acc.export_statements(sys.stdout, start=start, end=end)
    print(f"{count} statement(s) written", file=sys.stderr)
    if built.invalid:
        print(
            f"{len(built.invalid)} decision(s) have invalid statements: {built.invalid}",
            file=sys.stderr,
        )
        return 2
    return 0


def cmd_submit(_args: argparse.Namespace) -> int:
    with accountability() as acc:
        result = acc.submit_statements()
    emit({"accepted": result.accepted, "already_there": result.already_there})
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise NotFound(f"cannot read {args.file}: {error.strerror}") from None
    bad = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            body = json.loads(line)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"{args.file}:{number}: not JSON ({error.msg})") from None
        for problem in validate(body):
            bad += 1
            print(f"{args.file}:{number}: {problem}", file=sys.stderr)
    return 2 if bad else 0
