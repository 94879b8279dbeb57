"""`takedown backfill ARCHIVE`: scan an archive in checkpointed partitions (see
services/backfill.py). Run it on as many machines as you like with the same `--run`: they
share the partitions. Prints one JSON line per partition and a summary; exit 0 when every
partition is done, 2 when some records were invalid (they are counted, the rest go on)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from takedown.cli._common import emit, open_runtime
from takedown.services.backfill import Options, backfill
from takedown.storage.backfill import Partition


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("backfill", help="scan an archive in resumable partitions")
    cmd.add_argument("archive", type=Path, help="a .jsonl file or a directory")
    cmd.add_argument("--run", default=None, help="run name (default: derived from the path)")
    cmd.add_argument("--partition-size", type=int, default=1000)
    cmd.add_argument("--max-pending", type=int, default=20_000,
                     help="pause while this many items wait for workers")
    cmd.add_argument("--lease-minutes", type=float, default=10.0)
    cmd.add_argument("--inline", action="store_true",
                     help="also process each partition in this process (no workers needed)")
    cmd.set_defaults(func=cmd_backfill)


def cmd_backfill(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    options = Options(partition_size=args.partition_size, max_pending=args.max_pending,
                      lease=timedelta(minutes=args.lease_minutes), inline=args.inline)
    try:
        with tqdm(desc="backfill", unit="partition", file=sys.stderr) as bar:

            def report(partition: Partition, items: int, bad: int) -> None:
                emit({"partition": partition.number, "source": partition.source,
                      "items": items, "invalid": bad})
                bar.update(1)

            summary = backfill(runtime, args.archive, run=args.run, options=options,
                               on_partition=report)
        if args.inline:
            runtime.deliverer.run_once()
    finally:
        runtime.close()
    emit(summary)
    return 2 if summary["errors"] else 0
