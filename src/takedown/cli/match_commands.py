"""`takedown match` and `takedown index build|info|snapshot`: PDQ lookups against an index file.

    takedown index build hashes.csv -o bank.tdx     # CSV / text / JSON lines of hashes
    takedown match --index bank.tdx queries.txt     # one JSON line out per hash in
    takedown hash photos/*.jpg | takedown match --index bank.tdx

Input lines may be a bare 64-digit hex hash, a CSV/TSV row holding one (the first other field
is taken as its id), or a JSON object with "pdq", "hash" or "signals": {"pdq": ...} (what
`takedown hash` prints). Lookups go to the index in batches of `--batch-size`, because one
batched call costs far less per hash than many single ones. A bad line yields an error object
in the output rather than stopping a long run; the exit code is then 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm import tqdm

from takedown.core.errors import InvalidInput
from takedown.index.pdq import DEFAULT_THRESHOLD, PdqIndex
from takedown.index.pdq_format import read_header

_HEX = frozenset("0123456789abcdefABCDEF")
_ID_KEYS = ("entry_id", "id", "file")


@dataclass
class Row:
    """One input line: where it came from, its hash (or why it has none), fields to echo."""

    line: int
    hash: str | None
    echo: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _is_hash(text: str) -> bool:
    return len(text) == 64 and _HEX.issuperset(text)


def parse_line(text: str, line: int) -> Row | None:
    """Interpret one line; None for blank lines and CSV headers."""
    text = text.strip()
    if not text:
        return None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as error:
            return Row(line, None, error=f"invalid JSON: {error.msg}")
        if not isinstance(obj, dict):
            return Row(line, None, error="a JSON line must be an object")
        signals = obj.get("signals")
        if not isinstance(signals, dict):
            signals = {}
        value = obj.get("pdq") or obj.get("hash") or signals.get("pdq")
        echo = {key: obj[key] for key in _ID_KEYS if key in obj}
        if not isinstance(value, str) or not _is_hash(value.strip()):
            return Row(line, None, echo, error="no 64-digit hex PDQ hash in this object")
        return Row(line, value.strip().lower(), echo)
    fields = [part.strip().strip('"') for part in text.replace("\t", ",").split(",")]
    hashes = [part for part in fields if _is_hash(part)]
    if not hashes:
        if line == 1 and any(part.lower() in {"hash", "pdq", "signal", "id"} for part in fields):
            return None
        return Row(line, None, error=f"no 64-digit hex PDQ hash in {text[:80]!r}")
    others = [part for part in fields if part != hashes[0] and part]
    return Row(line, hashes[0].lower(), {"id": others[0]} if others else {})


def read_rows(paths: list[str]) -> Iterator[tuple[str, Row]]:
    for name in paths or ["-"]:
        with _open(name) as stream:
            for number, text in enumerate(stream, start=1):
                row = parse_line(text, number)
                if row is not None:
                    yield name, row


@contextlib.contextmanager
def _open(name: str) -> Iterator[IO[str]]:
    if name == "-":
        yield sys.stdin
        return
    try:
        with open(name, encoding="utf-8", errors="replace") as stream:
            yield stream
    except FileNotFoundError:
        raise InvalidInput(f"input file {name} does not exist") from None


def _progress(total: int | None, what: str) -> tqdm:
    return tqdm(total=total, unit=" hashes", desc=what, file=sys.stderr, disable=None)


def run_match(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise InvalidInput("--batch-size must be at least 1")
    index = PdqIndex.load(args.index, mmap=args.mmap, verify=not args.no_verify)
    several = len(args.inputs) > 1
    errors = 0
    out = sys.stdout
    batch: list[tuple[str, Row]] = []

    def flush() -> None:
        nonlocal errors
        good = [i for i, (_, row) in enumerate(batch) if row.hash is not None]
        hashes = np.frombuffer(
            bytes.fromhex("".join(batch[i][1].hash or "" for i in good)), dtype=np.uint8
        ).reshape(-1, 32)
        query_index, entry_ids, distance = index.search(hashes, args.threshold)
        found: dict[int, list[dict[str, int]]] = {}
        for q, entry_id, dist in zip(
            query_index.tolist(), entry_ids.tolist(), distance.tolist(), strict=True
        ):
            found.setdefault(good[q], []).append({"entry_id": entry_id, "distance": dist})
        for position, (source, row) in enumerate(batch):
            record: dict[str, Any] = {"line": row.line, **row.echo}
            if several:
                record["input"] = source
            if row.error is not None:
                errors += 1
                record["error"] = row.error
            else:
                record["hash"] = row.hash
                record["matches"] = found.get(position, [])
            out.write(json.dumps(record) + "\n")
        batch.clear()

    with _progress(None, "matching") as bar:
        for item in read_rows(args.inputs):
            batch.append(item)
            if len(batch) >= args.batch_size:
                flush()
                bar.update(args.batch_size)
        done = len(batch)
        if batch:
            flush()
        bar.update(done)
    if errors:
        print(f"takedown: {errors} input line(s) had no valid PDQ hash", file=sys.stderr)
        return 2
    return 0


def load_entries(path: str) -> tuple[np.ndarray, list[str]]:
    """(entry ids, hashes) from a hash list; rows without an integer id get their position."""
    ids: list[int] = []
    hashes: list[str] = []
    with _progress(None, "reading") as bar:
        for _, row in read_rows([path]):
            if row.hash is None:
                raise InvalidInput(f"{path}, line {row.line}: {row.error}")
            raw_id = row.echo.get("entry_id", row.echo.get("id"))
            try:
                ids.append(int(raw_id) if raw_id is not None else len(hashes))
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"{path}, line {row.line}: entry id {raw_id!r} is not an integer",
                    hint="use integer ids, or give bare hashes and let positions be the ids",
                ) from None
            hashes.append(row.hash)
            bar.update(1)
    return np.asarray(ids, dtype=np.int64), hashes


def run_index_build(args: argparse.Namespace) -> int:
    ids, hashes = load_entries(args.input)
    if not hashes:
        raise InvalidInput(f"{args.input} holds no PDQ hashes")
    index = PdqIndex.build(ids, hashes, background=False)
    index.save(args.output)
    summary = {"output": str(args.output), "count": len(index), "bytes": args.output.stat().st_size}
    print(json.dumps(summary))
    return 0


def run_index_info(args: argparse.Namespace) -> int:
    header = read_header(args.index)
    header["file_bytes"] = args.index.stat().st_size
    print(json.dumps(header, indent=2))
    return 0


def run_index_snapshot(args: argparse.Namespace) -> int:
    from takedown.cli._common import settings_from_env
    from takedown.services.pdq_snapshot import write_snapshot
    from takedown.storage.db import make_engine, migrate

    settings = settings_from_env()
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        snapshot = write_snapshot(engine, args.output or settings.effective_pdq_index_file)
    finally:
        engine.dispose()
    print(json.dumps({"path": str(snapshot.path), "count": snapshot.count,
                      "covers_until": snapshot.covers_until.isoformat()}))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    match = subparsers.add_parser(
        "match",
        help="look PDQ hashes up in an index file",
        description="Print one JSON line per input hash with every entry within --threshold.",
    )
    match.add_argument("inputs", nargs="*", help="files of hashes; none or '-' reads stdin")
    match.add_argument("--index", required=True, type=Path, help="a .tdx file (index build)")
    match.add_argument(
        "--threshold", type=int, default=DEFAULT_THRESHOLD, help="max Hamming distance (31)"
    )
    match.add_argument("--batch-size", type=int, default=10_000, help="hashes per lookup call")
    match.add_argument("--mmap", action="store_true", help="map the index instead of reading it")
    match.add_argument("--no-verify", action="store_true", help="skip the checksums on load")
    match.set_defaults(func=run_match)

    index = subparsers.add_parser("index", help="build and inspect PDQ index files")
    actions = index.add_subparsers(dest="index_command", metavar="ACTION")
    build = actions.add_parser(
        "build",
        help="build a .tdx index from a list of hashes",
        description="Lines: a hash, 'entry_id,hash' (CSV/TSV, header allowed) or JSON objects "
        "with 'pdq'/'hash' and 'entry_id'/'id'. Without ids, an entry's id is its position.",
    )
    build.add_argument("input", help="CSV, text or JSON-lines file ('-' reads stdin)")
    build.add_argument("-o", "--output", required=True, type=Path, help="the .tdx file to write")
    build.set_defaults(func=run_index_build)
    info = actions.add_parser("info", help="print a .tdx file's header as JSON")
    info.add_argument("index", type=Path)
    info.set_defaults(func=run_index_info)
    snap = actions.add_parser(
        "snapshot",
        help="write the banks' PDQ entries to the snapshot file matchers start from",
        description="Reads every active PDQ bank entry in one transaction and writes the .tdx "
        "snapshot plus its change-feed position (FILE.json). Matchers started later map the "
        "file and replay the bank change feed from that position.",
    )
    snap.add_argument("-o", "--output", type=Path, default=None,
                      help="default: TAKEDOWN_PDQ_INDEX_FILE or DATA_DIR/pdq-index.tdx")
    snap.set_defaults(func=run_index_snapshot)
