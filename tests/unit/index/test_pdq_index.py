"""The PDQ index returns exactly what brute force returns, through adds, removes and merges."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takedown.core.errors import InvalidInput
from takedown.index.base import Index
from takedown.index.pdq import PdqIndex, parse_hashes
from takedown.index.pdq_segment import PdqSegment, probe_plan


def flip(row: np.ndarray, bits: np.ndarray) -> np.ndarray:
    out = np.unpackbits(row.copy())
    out[bits] ^= 1
    return np.packbits(out)


def to_hex(rows: np.ndarray) -> list[str]:
    return [bytes(row).hex() for row in rows]


def brute(
    stored: dict[int, np.ndarray], query: np.ndarray, threshold: int
) -> list[tuple[int, int]]:
    found = []
    for entry_id, row in stored.items():
        distance = int(np.unpackbits(row ^ query).sum())
        if distance <= threshold:
            found.append((distance, entry_id))
    return sorted(found)


@st.composite
def collections(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """Families of near-duplicates (as real banks are), plus queries near and far from them."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    families = draw(st.integers(1, 12))
    rows = []
    for _ in range(families):
        base = rng.integers(0, 256, 32, dtype=np.uint8)
        for _ in range(draw(st.integers(1, 8))):
            rows.append(flip(base, rng.choice(256, rng.integers(0, 40), replace=False)))
    stored = np.array(rows)
    threshold = draw(st.integers(0, 31))
    queries = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["boundary", "outside", "near", "random"]))
        base = stored[rng.integers(0, len(stored))]
        if kind == "boundary":  # exactly at the threshold: must match
            queries.append(flip(base, rng.choice(256, threshold, replace=False)))
        elif kind == "outside":  # one bit beyond: must not match (unless another row is near)
            queries.append(flip(base, rng.choice(256, threshold + 1, replace=False)))
        elif kind == "near":
            queries.append(flip(base, rng.choice(256, rng.integers(0, 48), replace=False)))
        else:
            queries.append(rng.integers(0, 256, 32, dtype=np.uint8))
    return stored, np.array(queries), threshold


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(collections())
def test_bulk_built_index_equals_brute_force(case: tuple[np.ndarray, np.ndarray, int]) -> None:
    stored, queries, threshold = case
    ids = np.arange(len(stored)) * 3 + 5
    index = PdqIndex.build(ids, to_hex(stored), background=False)
    expected = [brute(dict(zip(ids.tolist(), stored, strict=True)), q, threshold) for q in queries]
    assert index.query_many(to_hex(queries), threshold) == expected
    assert [index.query(h, threshold) for h in to_hex(queries)] == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    collections(),
    st.lists(st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 40)), max_size=60),
    st.integers(1, 8),
)
def test_adds_removes_and_merges_stay_exact(
    case: tuple[np.ndarray, np.ndarray, int], ops: list[tuple[str, int]], limit: int
) -> None:
    """A dict of what should be live is the model; tiny delta limits force many compactions."""
    stored, queries, threshold = case
    index = PdqIndex(delta_limit=limit, background=False)
    model: dict[int, np.ndarray] = {}
    for step, (op, entry_id) in enumerate(ops):
        if op == "add":
            row = stored[(entry_id + step) % len(stored)]
            index.add(entry_id, bytes(row).hex())
            model[entry_id] = row
        else:
            assert index.remove(entry_id) == (entry_id in model)
            model.pop(entry_id, None)
        assert len(index) == len(model)
    for query in queries:
        assert index.query(bytes(query).hex(), threshold) == brute(model, query, threshold)


def test_probe_plan_follows_the_pigeonhole_split() -> None:
    chunks, flips, budgets = probe_plan(0)  # pair 0 identical: one exact bucket per chunk
    assert chunks.tolist() == [0, 1] and flips.tolist() == [0, 0] and budgets.tolist() == [0, 0]
    assert len(probe_plan(15)[0]) == 16  # every pair within 1 bit: exact buckets everywhere
    assert len(probe_plan(16)[0]) == 2 * 17 + 14  # pair 0 within 2 bits, the rest within 1
    chunks, flips, budgets = probe_plan(31)  # every pair within 3 bits: every neighbour
    assert len(chunks) == 16 * 17
    assert sorted(budgets[flips == 0].tolist()) == [3] * 16
    assert set(budgets[flips != 0].tolist()) == {2}


def test_thresholds_above_31_fall_back_to_an_exact_scan() -> None:
    rng = np.random.default_rng(7)
    stored = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    index = PdqIndex.build(range(300), to_hex(stored), background=False)
    query = flip(stored[9], rng.choice(256, 60, replace=False))
    expected = brute(dict(enumerate(stored)), query, 70)
    assert (60, 9) in expected
    assert index.query(bytes(query).hex(), 70) == expected
    assert len(index.query(bytes(query).hex(), 256)) == 300


def test_a_batch_of_ten_thousand_matches_single_queries() -> None:
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 256, (2000, 32), dtype=np.uint8)
    index = PdqIndex.build(range(2000), to_hex(stored), background=False)
    picks = rng.integers(0, 2000, 10_000)
    queries = np.array([flip(stored[p], rng.choice(256, p % 32, replace=False)) for p in picks])
    results = index.query_many(to_hex(queries), 31)
    assert len(results) == 10_000
    assert all((p % 32, p) in result for p, result in zip(picks.tolist(), results, strict=True))
    for i in rng.integers(0, 10_000, 50).tolist():
        assert results[i] == index.query(bytes(queries[i]).hex(), 31)


def test_add_replaces_and_remove_tombstones_without_rebuilding() -> None:
    rng = np.random.default_rng(5)
    a, b = to_hex(rng.integers(0, 256, (2, 32), dtype=np.uint8))
    index = PdqIndex.build([1, 2], [a, b], background=False)
    segment = index._main
    index.add(1, b)  # replace: entry 1 now holds b
    assert index.query(a, 31) == []
    assert index.query(b, 0) == [(0, 1), (0, 2)]
    assert index.remove(2) and not index.remove(2)
    assert index.query(b, 0) == [(0, 1)]
    assert len(index) == 1
    assert index._main is segment  # visible at once, and nothing was rebuilt


def test_background_compaction_keeps_changes_made_while_it_runs() -> None:
    rng = np.random.default_rng(11)
    rows = to_hex(rng.integers(0, 256, (4000, 32), dtype=np.uint8))
    index = PdqIndex.build(range(2000), rows[:2000], delta_limit=100_000)
    index.add_many(range(2000, 3000), rows[2000:3000])
    index.compact(wait=False)
    index.add_many(range(3000, 4000), rows[3000:])  # while (or after) the merge runs
    removed = list(range(0, 4000, 7))
    index.remove_many(removed)
    index.compact(wait=True)
    index.compact(wait=True)
    assert len(index) == 4000 - len(removed)
    gone = set(removed)
    results = index.query_many(rows, 0)
    for entry_id, result in enumerate(results):
        assert result == ([] if entry_id in gone else [(0, entry_id)])


def test_queries_run_while_another_thread_adds() -> None:
    rng = np.random.default_rng(13)
    rows = to_hex(rng.integers(0, 256, (3000, 32), dtype=np.uint8))
    index = PdqIndex(delta_limit=256)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i, row in enumerate(rows):
                index.add(i, row)
        except BaseException as error:  # surfaced below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    while thread.is_alive():
        index.query_many(rows[:50], 31)
    thread.join()
    index.compact(wait=True)
    assert not errors
    assert [r[0] for r in index.query_many(rows, 0)] == [(0, i) for i in range(3000)]


def test_large_and_negative_entry_ids_round_trip() -> None:
    rng = np.random.default_rng(17)
    rows = to_hex(rng.integers(0, 256, (3, 32), dtype=np.uint8))
    ids = [-4, 2**40, 2**63 - 1]
    index = PdqIndex.build(ids, rows, background=False)
    assert index._main.entry_ids.dtype == np.dtype("<i8")
    assert [index.query(r, 0) for r in rows] == [[(0, i)] for i in ids]


def test_memory_is_96_bytes_per_hash_plus_3_mib_of_offsets() -> None:
    rng = np.random.default_rng(19)
    n = 50_000
    segment = PdqSegment.build(rng.integers(0, 256, (n, 32), dtype=np.uint8), np.arange(n))
    # 32 B hash + 15 postings x 4 B + 4 B entry id; offsets are 3 bytes each below 2**24 rows.
    assert segment.nbytes == 96 * n + 16 * 65_537 * 3 + 1
    assert segment.offsets.shape == (16, 65_537) and int(segment.offsets[5, -1]) == n


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["ab" * 31], "has 62 characters"),
        (["zz" * 32], "not hexadecimal"),
        ([b"\x00" * 32], "not a string"),
    ],
)
def test_bad_hashes_are_refused_with_their_position(values: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_hashes(["00" * 32, *values])


@pytest.mark.parametrize("threshold", [-1, 257, 3.5, True])
def test_bad_thresholds_are_refused(threshold: object) -> None:
    index = PdqIndex()
    with pytest.raises(InvalidInput):
        index.query("00" * 32, threshold)  # type: ignore[arg-type]


def test_empty_index_and_protocol() -> None:
    index = PdqIndex()
    assert isinstance(index, Index)
    assert len(index) == 0
    assert index.query("ff" * 32, 31) == []
    assert index.query_many([], 31) == []
