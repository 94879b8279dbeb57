"""`takedown report build`: the transparency report, computed from the ledger.

Building signs a checkpoint of the ledger head first and names it in the report, so a reader
can check the figures came from that exact, unaltered ledger.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from takedown.cli._common import emit
from takedown.cli._legal import accountability
from takedown.reports.metrics import parse_day
from takedown.reports.render import FORMATS


def register(subparsers: Any) -> None:
    report = subparsers.add_parser("report", help="transparency reports")
    sub = report.add_subparsers(dest="report_command", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="compute and write a transparency report")
    build.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (UTC)")
    build.add_argument("--to", dest="end", required=True, help="last day, inclusive")
    build.add_argument("--format", choices=FORMATS, default="html")
    build.add_argument("--out", type=Path, required=True, help="directory to write")
    build.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    with accountability() as acc:
        report = acc.build_report(
            parse_day(args.start), parse_day(args.end, end=True), args.format, args.out
        )
    emit(
        {
            "files": [str(p) for p in report.paths],
            "ledger_head": report.figures.ledger_head,
            "items_actioned": report.figures.items_actioned_total,
        }
    )
    return 0
