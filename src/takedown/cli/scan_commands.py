"""`takedown scan FILE.jsonl`: the API's submission path in batch, from the command line.

Each line is one submission object, as the API takes it. Output is one JSON object per input
line on stdout (a bad line gets `{"line", "error"}` and the rest go on); progress on stderr.
Exit 0 when every line was decided, 2 when any line was invalid.

Webhooks: a scan decides items in this process, so the outbox messages for its decisions are
made from *this* process's settings. Without `TAKEDOWN_WEBHOOK_URLS` (and `_SECRET`) in the
scan's environment its decisions send no webhooks, even when a running `serve` has them; the
scan says so on stderr. Messages it does queue are sent before it exits, and any left (a
receiver down) are sent by a running `serve`/`worker` on the same database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from takedown.cli._common import emit, open_runtime
from takedown.core import jsonsafe
from takedown.core.content import Submission, submission_from_json
from takedown.core.errors import InvalidInput, NotFound
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.storage import submissions as subs
from takedown.storage.db import reading

CHUNK = 500


def register(subparsers: Any) -> None:
    scan = subparsers.add_parser("scan", help="scan a JSON-lines file of submissions")
    scan.add_argument("file", help="JSON lines, one submission per line ('-' for stdin)")
    scan.set_defaults(func=cmd_scan)


def _lines(path: str) -> Iterator[tuple[int, bytes]]:
    """Raw lines: each is decoded on its own, so one line of invalid UTF-8 is reported as that
    line's error instead of ending the scan."""
    stream: BinaryIO
    if path == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = Path(path).open("rb")  # noqa: SIM115 - closed by `with` below
        except OSError as error:
            raise NotFound(f"cannot read {path}: {error.strerror}") from None
    with stream:
        for n, line in enumerate(stream, start=1):
            if line.strip():
                yield n, line


def cmd_scan(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    bad = 0
    if not runtime.settings.webhook_urls:
        print(
            "takedown: note: TAKEDOWN_WEBHOOK_URLS is not set for this scan, so its decisions "
            "send no webhooks (set it as for `serve` to notify the platform)",
            file=sys.stderr,
        )
    try:
        total = None if args.file == "-" else sum(1 for _ in _lines(args.file))
        with tqdm(total=total, desc="scan", unit="item", file=sys.stderr) as bar:
            chunk: list[Submission] = []
            for n, line in _lines(args.file):
                try:
                    obj = jsonsafe.loads(line)
                except InvalidInput as error:
                    emit({"line": n, "error": f"invalid JSON: {error.message}"})
                    bad += 1
                    bar.update(1)
                    continue
                try:
                    chunk.append(
                        submission_from_json(obj, max_bytes=runtime.settings.max_item_bytes)
                    )
                except InvalidInput as error:
                    emit({"line": n, "error": str(error)})
                    bad += 1
                    bar.update(1)
                if len(chunk) >= CHUNK:
                    _process(runtime, chunk, bar)
                    chunk = []
            if chunk:
                _process(runtime, chunk, bar)
        runtime.deliverer.run_once()
    finally:
        runtime.close()
    return 2 if bad else 0


def _process(runtime: Runtime, chunk: list[Submission], bar: tqdm) -> None:
    unique: dict[str, Submission] = {}
    for item in chunk:
        unique.setdefault(item.item_id, item)
    accepted = ingest.accept(
        runtime.engine, runtime.queue, list(unique.values()), source="cli", actor="cli"
    )
    ids = [a.row_id for a in accepted]
    while runtime.worker.run_once(ids=ids, limit=len(ids)):
        pass
    by_id = {a.item_id: a.row_id for a in accepted}
    with reading(runtime.engine) as conn:
        results = subs.load_results_many(conn, ids)
        states = subs.status_many(conn, ids)
    for item in chunk:
        row_id = by_id[item.item_id]
        result = results[row_id]
        emit(
            {
                "id": item.item_id,
                "status": states[row_id],
                "decision": result["decision"],
                "findings": result["findings"],
                "cases": result["cases"],
            }
        )
        bar.update(1)
