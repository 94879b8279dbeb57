"""The .tdx format: round trips, refuses damage, and still reads version-1 files.

tests/fixtures/index/pdq_v1.tdx was written by the version-1 writer from the 200 entries
(families of near-duplicates) listed in pdq_v1_entries.csv; it must keep loading, and answer
exactly what brute force over the CSV answers, whatever the code becomes.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from takedown.core.errors import InvalidInput
from takedown.index.pdq import PdqIndex
from takedown.index.pdq_format import MAGIC, read_header

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "index"


def entries() -> tuple[list[int], list[str]]:
    lines = (FIXTURES / "pdq_v1_entries.csv").read_text().split()[1:]
    pairs = [line.split(",") for line in lines]
    return [int(i) for i, _ in pairs], [h for _, h in pairs]


def brute(ids: list[int], hashes: list[str], query: str, threshold: int) -> list[tuple[int, int]]:
    q = int(query, 16)
    found = [((int(h, 16) ^ q).bit_count(), i) for i, h in zip(ids, hashes, strict=True)]
    return sorted((d, i) for d, i in found if d <= threshold)


@pytest.mark.parametrize("mmap", [False, True])
def test_version_1_fixture_still_loads_and_matches(mmap: bool) -> None:
    ids, hashes = entries()
    index = PdqIndex.load(FIXTURES / "pdq_v1.tdx", mmap=mmap)
    assert read_header(FIXTURES / "pdq_v1.tdx")["version"] == 1
    assert len(index) == len(ids) == 200
    for threshold in (0, 10, 31, 45):
        expected = [brute(ids, hashes, h, threshold) for h in hashes]
        assert index.query_many(hashes, threshold) == expected


def test_round_trip_keeps_adds_and_removes(tmp_path: Path) -> None:
    rng = np.random.default_rng(23)
    rows = [bytes(r).hex() for r in rng.integers(0, 256, (500, 32), dtype=np.uint8)]
    index = PdqIndex.build(range(400), rows[:400], background=False)
    index.add_many(range(400, 500), rows[400:])
    index.remove_many(range(0, 500, 5))
    path = tmp_path / "bank.tdx"
    index.save(path)
    loaded = PdqIndex.load(path)
    assert len(loaded) == 400
    assert loaded.query_many(rows, 31) == index.query_many(rows, 31)
    loaded.add(10_000, rows[0])  # a loaded (possibly read-only) index still takes changes
    assert loaded.query(rows[0], 0) == [(0, 10_000)]


def test_the_header_is_plain_json_after_the_magic(tmp_path: Path) -> None:
    path = tmp_path / "x.tdx"
    PdqIndex.build([1], ["ab" * 32], background=False).save(path)
    raw = path.read_bytes()
    assert raw.startswith(MAGIC)
    (length,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12 : 12 + length])
    assert header["format"] == "takedown.pdq-index" and header["count"] == 1
    assert all(entry["offset"] % 64 == 0 for entry in header["arrays"])
    assert b"pickle" not in raw and b"\x80\x04" not in raw[:12]


def test_damaged_files_are_refused(tmp_path: Path) -> None:
    source = (FIXTURES / "pdq_v1.tdx").read_bytes()
    header = read_header(FIXTURES / "pdq_v1.tdx")
    hashes = next(a for a in header["arrays"] if a["name"] == "hashes")
    flipped = bytearray(source)
    flipped[hashes["offset"] + 5] ^= 0x10
    cases = {
        "flipped.tdx": (bytes(flipped), "checksum"),
        "truncated.tdx": (source[: len(source) // 2], "truncated"),
        "other.tdx": (b"PK\x03\x04" + source[4:], "not a Takedown PDQ index"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InvalidInput, match=message):
            PdqIndex.load(path)


def test_newer_versions_are_refused_with_a_hint(tmp_path: Path) -> None:
    source = (FIXTURES / "pdq_v1.tdx").read_bytes()
    (length,) = struct.unpack("<I", source[8:12])
    text = source[12 : 12 + length].replace(b'"version": 1', b'"version": 9')
    path = tmp_path / "future.tdx"
    path.write_bytes(source[:12] + text + source[12 + length :])
    with pytest.raises(InvalidInput, match="version 9") as caught:
        PdqIndex.load(path)
    assert caught.value.hint
