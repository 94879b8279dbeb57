"""`takedown backfill`: scan an archive (a JSON-lines file, or a directory of them and of raw
files) in partitions with checkpoints, spread over every worker, resumable.

The archive is cut into partitions (line ranges of each JSON-lines file; runs of raw files in
name order) recorded once per run. Any number of backfill processes on any machines claim
partitions from the database, store each partition's items as one bulk request and announce
them on the work queue, where every worker takes its share; a partition is checkpointed only
after its items are stored. Backpressure keeps the queue shallow (at most `max_pending` items
waiting), so live traffic is never stuck behind an archive and the database never locks up.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from takedown.core.content import ContentKind, Submission, make_submission, submission_from_json
from takedown.core.errors import InvalidInput, NotFound
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.storage import backfill as checkpoints
from takedown.storage.db import reading
from takedown.storage.tables import submissions

RAW = "<files>"
"""The `source` of partitions made of raw files (their index in the sorted file list)."""
KINDS = {
    ".jpg": ContentKind.IMAGE, ".jpeg": ContentKind.IMAGE, ".png": ContentKind.IMAGE,
    ".gif": ContentKind.IMAGE, ".webp": ContentKind.IMAGE, ".bmp": ContentKind.IMAGE,
    ".mp4": ContentKind.VIDEO, ".webm": ContentKind.VIDEO, ".mov": ContentKind.VIDEO,
    ".txt": ContentKind.TEXT,
}


@dataclass(frozen=True)
class Options:
    partition_size: int = 1000
    max_pending: int = 20_000
    lease: timedelta = timedelta(minutes=10)
    inline: bool = False


def run_name(archive: Path) -> str:
    """Default run name: stable for the same archive path, so a rerun resumes it."""
    digest = hashlib.sha256(str(archive.resolve()).encode()).hexdigest()[:12]
    return f"{archive.name[:100]}-{digest}"


def _jsonl_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.jsonl") if p.is_file())


def _raw_files(root: Path) -> list[Path]:
    if root.is_file():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() != ".jsonl")


def partition_archive(root: Path, size: int) -> list[tuple[str, int, int]]:
    """(source, start, stop) ranges covering the archive."""
    if not root.exists():
        raise NotFound(f"no archive at {root}")
    if size < 1:
        raise InvalidInput("the partition size must be at least 1")
    ranges: list[tuple[str, int, int]] = []
    for path in _jsonl_files(root):
        with path.open("rb") as handle:
            lines = sum(1 for _ in handle)
        source = path.name if root.is_file() else str(path.relative_to(root))
        ranges.extend((source, start, min(start + size, lines)) for start in range(0, lines, size))
    raw = _raw_files(root)
    ranges.extend((RAW, start, min(start + size, len(raw))) for start in range(0, len(raw), size))
    return ranges


def read_partition(
    root: Path, partition: checkpoints.Partition, *, max_bytes: int
) -> tuple[list[Submission], int]:
    """The partition's valid submissions (first occurrence of an id) and its bad-record count."""
    items: dict[str, Submission] = {}
    bad = 0
    for record in _records(root, partition, max_bytes=max_bytes):
        if record is None:
            bad += 1
        else:
            items.setdefault(record.item_id, record)
    return list(items.values()), bad


def _records(
    root: Path, partition: checkpoints.Partition, *, max_bytes: int
) -> Iterator[Submission | None]:
    if partition.source == RAW:
        for path in _raw_files(root)[partition.start : partition.stop]:
            data = path.read_bytes()
            if len(data) > max_bytes:
                yield None
                continue
            kind = KINDS.get(path.suffix.lower(), ContentKind.FILE)
            name = str(path.relative_to(root))
            if kind is ContentKind.TEXT:
                text = data.decode("utf-8", "replace")
                yield make_submission(item_id=name, kind=kind, text=text)
            else:
                yield make_submission(item_id=name, kind=kind, content=data,
                                      metadata={"filename": path.name})
        return
    path = root if root.is_file() else root / partition.source
    with path.open(encoding="utf-8", errors="replace") as handle:
        for n, line in enumerate(handle):
            if n < partition.start:
                continue
            if n >= partition.stop:
                break
            if not line.strip():
                continue
            try:
                yield submission_from_json(json.loads(line), max_bytes=max_bytes)
            except (json.JSONDecodeError, InvalidInput):
                yield None


def backfill(
    runtime: Runtime,
    archive: Path,
    *,
    run: str | None = None,
    options: Options = Options(),  # noqa: B008 - frozen dataclass
    stop: threading.Event | None = None,
    on_partition: Callable[[checkpoints.Partition, int, int], None] | None = None,
) -> dict[str, object]:
    """Plan (once) and work through a run's partitions until none is left or `stop` is set."""
    name = run or run_name(archive)
    ranges = partition_archive(archive, options.partition_size)
    try:
        with runtime.engine.begin() as conn:
            checkpoints.plan(conn, name, ranges)
    except IntegrityError:
        pass  # another backfill process planned the same run a moment ago
    while stop is None or not stop.is_set():
        _wait_for_room(runtime, options.max_pending, stop)
        with runtime.engine.begin() as conn:
            partition = checkpoints.claim(conn, name, lease=options.lease)
        if partition is None:
            break
        items, bad = read_partition(archive, partition,
                                    max_bytes=runtime.settings.max_item_bytes)
        accepted = ingest.accept(runtime.engine, runtime.queue, items, source="backfill",
                                 actor="backfill") if items else []
        if options.inline and accepted:
            ids = [a.row_id for a in accepted]
            while runtime.worker.run_once(ids=ids, limit=len(ids)):
                pass
        with runtime.engine.begin() as conn:
            checkpoints.complete(conn, partition, items=len(items), errors=bad)
        if on_partition is not None:
            on_partition(partition, len(items), bad)
    with reading(runtime.engine) as conn:
        return {"run": name, **checkpoints.progress(conn, name)}


def _wait_for_room(runtime: Runtime, max_pending: int, stop: threading.Event | None) -> None:
    """Backpressure: wait while the queue already holds `max_pending` items."""
    while stop is None or not stop.is_set():
        with reading(runtime.engine) as conn:
            waiting = conn.execute(
                select(func.count()).select_from(submissions).where(
                    submissions.c.status.in_(("pending", "processing"))
                )
            ).scalar_one()
        if waiting < max_pending:
            return
        time.sleep(0.5)
