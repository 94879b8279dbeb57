"""The PDQ bank as a compact `.tdx` snapshot, so matchers start from a file, not a table scan.

A snapshot is two files side by side: `pdq-index.tdx` (every active PDQ entry, see
index/pdq_format.py) and `pdq-index.tdx.json`, which says up to when the snapshot covers the
change feed. A matcher maps the `.tdx` (pages shared between processes on one machine), then
replays the bank change feed from that moment on (services/banks_follow.py): entries added or
removed after the snapshot reach it like any other change, and no process ever reloads in step
with another.

Who writes it: `takedown index snapshot` (cron, or before scaling out), or any one process with
`TAKEDOWN_PDQ_SNAPSHOT_SECONDS` set. The snapshot is read from the database in one transaction,
so what it holds is exactly the committed bank at `covers_until`. Writers write the `.tdx` first
and the `.json` second, each by atomic rename; the `.json` records the CRC-32 of the `.tdx`
hashes, so a reader that catches two writers interleaved sees a mismatch and falls back to the
database instead of trusting a position the file does not cover.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select

from takedown.core.errors import InvalidInput
from takedown.index.pdq import PdqIndex, parse_hashes
from takedown.index.pdq_format import read_header
from takedown.storage.db import reading
from takedown.storage.tables import bank_entries

log = logging.getLogger(__name__)

SIGNAL_TYPE = "pdq"
FILE_NAME = "pdq-index.tdx"


@dataclass(frozen=True)
class Snapshot:
    path: Path
    covers_until: datetime
    count: int


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def write_snapshot(engine: Engine, path: Path) -> Snapshot:
    """Write every active PDQ entry to `path`; returns what the snapshot covers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with reading(engine) as conn, conn.begin():
        # Taken inside the transaction, before the read: a change committed after this moment
        # may or may not be in the file, and the follower's replay from here covers it either way.
        covers_until = datetime.now(UTC)
        rows = conn.execute(
            select(bank_entries.c.id, bank_entries.c.value).where(
                bank_entries.c.signal_type == SIGNAL_TYPE, bank_entries.c.removed_at.is_(None)
            ).order_by(bank_entries.c.id)
        ).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    hashes = parse_hashes([r[1] for r in rows]) if rows else np.zeros((0, 32), np.uint8)
    PdqIndex.build(ids, hashes, background=False).save(path)
    meta = {
        "format": "takedown.pdq-snapshot",
        "version": 1,
        "covers_until": covers_until.isoformat(),
        "count": len(rows),
        "hashes_crc32": _hashes_crc(path),
    }
    tmp = sidecar(path).with_name(sidecar(path).name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, sidecar(path))
    return Snapshot(path, covers_until, len(rows))


def _hashes_crc(path: Path) -> int:
    for array in read_header(path)["arrays"]:
        if array["name"] == "hashes":
            return int(array["crc32"])
    raise InvalidInput(f"{path} has no hashes array")


def load_snapshot(path: Path) -> tuple[PdqIndex, Snapshot] | None:
    """The snapshot's index (memory-mapped) and position, or None when there is no usable
    snapshot: missing, damaged or inconsistent files are logged and the caller reads the
    database instead."""
    if not path.exists() or not sidecar(path).exists():
        return None
    try:
        meta = json.loads(sidecar(path).read_text())
        covers_until = datetime.fromisoformat(meta["covers_until"])
        if int(meta["hashes_crc32"]) != _hashes_crc(path):
            log.warning("PDQ snapshot %s and its position file disagree (written while being "
                        "replaced?); loading the banks from the database", path)
            return None
        index = PdqIndex.load(path, mmap=True)
    except (InvalidInput, OSError, ValueError, KeyError) as error:
        log.warning("PDQ snapshot %s unusable (%s); loading the banks from the database",
                    path, error)
        return None
    return index, Snapshot(path, covers_until, len(index))


def run_forever(engine: Engine, path: Path, every: float, stop: threading.Event) -> None:
    """Rewrite the snapshot every `every` seconds (one process per deployment needs this)."""
    while not stop.wait(every):
        try:
            started = time.monotonic()
            snapshot = write_snapshot(engine, path)
            log.info("PDQ snapshot: %d entries in %.1f s", snapshot.count,
                     time.monotonic() - started)
        except Exception:  # noqa: BLE001 - the next round tries again; matchers keep working
            log.exception("PDQ snapshot failed")
