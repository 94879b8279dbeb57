"""Matchers start from the PDQ snapshot file and catch up through the change feed.

A matcher started from a snapshot must see exactly what one started from the database sees:
entries banked or removed after the snapshot was written, and after the matcher started, all
reach it; a damaged or inconsistent snapshot is never trusted.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from sqlalchemy import Engine, select

from takedown.core.banks import Bank
from takedown.core.taxonomy import TvecLabel
from takedown.detect.hashmatch import HashMatchDetector
from takedown.index.pdq import PdqIndex
from takedown.services import pdq_snapshot
from takedown.services.banks_follow import BankFollower
from takedown.storage import banks as bank_store
from takedown.storage.tables import bank_entries


def _hash(rng: random.Random) -> str:
    bits = rng.sample(range(256), 128)  # 128 bits set, as real PDQ hashes have
    return f"{sum(1 << b for b in bits):064x}"


def _bank(engine: Engine, values: list[str]) -> dict[str, int]:
    with engine.begin() as conn:
        bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="test")
        bank_store.add_entries(conn, "known", [("pdq", v, None) for v in values], actor="test")
        rows = conn.execute(select(bank_entries.c.value, bank_entries.c.id)).all()
    return {str(value): int(entry_id) for value, entry_id in rows}


def _remove(engine: Engine, entry_id: int) -> None:
    with engine.begin() as conn:
        bank_store.remove_entry(conn, entry_id, actor="test")


def _matched(detector: HashMatchDetector, values: list[str]) -> list[bool]:
    return [bool(row) for row in detector.lookup("pdq", values)]


def test_a_matcher_started_from_the_file_sees_changes_after_the_snapshot(
    engine: Engine, tmp_path: Path
) -> None:
    rng = random.Random(13)
    old = [_hash(rng) for _ in range(50)]
    ids = _bank(engine, old)
    path = tmp_path / "pdq-index.tdx"
    snapshot = pdq_snapshot.write_snapshot(engine, path)
    assert snapshot.count == 50 and len(PdqIndex.load(path)) == 50

    after_snapshot = _hash(rng)
    _bank(engine, [after_snapshot])
    _remove(engine, ids[old[0]])

    detector = HashMatchDetector()
    follower = BankFollower(engine, detector, snapshot=path)
    follower.load_all()
    assert follower.loaded_from == str(path)
    assert _matched(detector, [old[0], old[1], after_snapshot]) == [False, True, True]
    assert detector.entry_count() == 50
    hit = detector.lookup("pdq", [old[1]])[0][0]
    assert (hit[0], hit[1].bank, hit[2].label) == (0, "known", TvecLabel.PRAISE)

    after_start = _hash(rng)
    _bank(engine, [after_start])
    _remove(engine, ids[old[1]])
    follower.poll()
    assert _matched(detector, [old[1], old[2], after_start]) == [False, True, True]
    assert detector.entry_count() == 50


def test_a_missing_or_inconsistent_snapshot_falls_back_to_the_database(
    engine: Engine, tmp_path: Path
) -> None:
    rng = random.Random(14)
    values = [_hash(rng) for _ in range(5)]
    _bank(engine, values)
    path = tmp_path / "pdq-index.tdx"

    follower = BankFollower(engine, HashMatchDetector(), snapshot=path)
    follower.load_all()  # no file yet
    assert follower.loaded_from == "database"

    pdq_snapshot.write_snapshot(engine, path)
    extra = _hash(rng)
    _bank(engine, [extra])
    meta = json.loads(pdq_snapshot.sidecar(path).read_text())
    pdq_snapshot.sidecar(path).write_text(json.dumps({**meta, "hashes_crc32": 1}))
    detector = HashMatchDetector()
    follower = BankFollower(engine, detector, snapshot=path)
    follower.load_all()
    assert follower.loaded_from == "database"
    assert _matched(detector, [*values, extra]) == [True] * 6

    path.write_bytes(b"not an index")
    detector = HashMatchDetector()
    follower = BankFollower(engine, detector, snapshot=path)
    follower.load_all()
    assert follower.loaded_from == "database"
    assert _matched(detector, values) == [True] * 5
