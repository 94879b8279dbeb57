"""PDQ index benchmark: Takedown's index against HMA's default and faiss brute force, one core.

    python bench/pdq_index.py --n 1000000 --json
    python bench/pdq_index.py --n 1000000 --clustered --json

Compares, in one process, on the same hashes and queries:

* `takedown`   takedown.index.pdq.PdqIndex (multi-index hashing in numpy, delta buffer)
* `hma`        threatexchange's PDQIndex, the default PDQ index of Meta's Hasher-Matcher-Actioner
               (faiss IndexBinaryMultiHash behind IndexBinaryIDMap2, threshold 31)
* `faiss_flat` faiss IndexBinaryFlat range search: exact brute force, also the ground truth

Queries are half near-duplicates of stored hashes (0..31 bits flipped, so right at and inside
the threshold) and half random hashes. `--clustered` stores families of near-duplicates (as
real collections are) instead of independent random hashes. Recall is measured against the
brute-force truth. qps is single-hash `query` calls; qps_batched is one batched call. Rounds
alternate between the indexes and the median round is reported, because the machine is shared.
Memory: `bytes_per_hash` is what each index holds (Takedown: its arrays, and resident memory
growth when a process loads the saved file; HMA: resident memory growth while building it,
including the hex strings it keeps; faiss: its codes).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from takedown.index.pdq import PdqIndex  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def flip_bits(hashes: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip exactly counts[i] distinct random bits of row i."""
    bits = np.unpackbits(hashes, axis=1)
    keys = rng.random(bits.shape)
    ranks = np.argsort(keys, axis=1)
    mask = np.zeros(bits.shape, dtype=bool)
    mask[np.arange(len(bits))[:, None], ranks] = np.arange(256)[None, :] < counts[:, None]
    return np.packbits(bits ^ mask, axis=1)


def make_data(n: int, clustered: bool, rng: np.random.Generator) -> np.ndarray:
    if not clustered:
        return rng.integers(0, 256, (n, 32), dtype=np.uint8)
    # Families of 1..20 near-duplicates within 0..16 bits of their original.
    sizes = rng.integers(1, 21, n // 5 + 1)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n) + 1]
    bases = rng.integers(0, 256, (len(sizes), 32), dtype=np.uint8)
    members = np.repeat(bases, sizes, axis=0)[:n]
    out = np.empty_like(members)
    step = 500_000
    for start in range(0, n, step):
        part = members[start : start + step]
        out[start : start + step] = flip_bits(part, rng.integers(0, 17, len(part)), rng)
    return out


def make_queries(data: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    near = data[rng.integers(0, len(data), count // 2)]
    near = flip_bits(near, rng.integers(0, 32, len(near)), rng)
    far = rng.integers(0, 256, (count - len(near), 32), dtype=np.uint8)
    queries = np.concatenate([near, far])
    return queries[rng.permutation(len(queries))]


def hexes(rows: np.ndarray) -> list[str]:
    text = rows.tobytes().hex()
    return [text[i * 64 : (i + 1) * 64] for i in range(len(rows))]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def recall(found: list[set[int]], truth: list[set[int]]) -> float:
    total = sum(len(t) for t in truth)
    hit = sum(len(f & t) for f, t in zip(found, truth, strict=True))
    return hit / total if total else 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--clustered", action="store_true")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--hma-queries", type=int, default=None, help="fewer for slow HMA runs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=31)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-hma", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    t = args.threshold
    data = make_data(args.n, args.clustered, rng)
    queries = make_queries(data, args.queries, rng)
    query_hex = hexes(queries)
    hma_count = min(args.hma_queries or args.queries, args.queries)
    report: dict[str, Any] = {
        "n": args.n,
        "clustered": args.clustered,
        "queries": args.queries,
        "hma_queries": hma_count,
        "threshold": t,
        "rounds": args.rounds,
    }

    # Ground truth and the faiss brute-force baseline.
    flat = faiss.IndexBinaryFlat(256)
    build_s, _ = timed(lambda: flat.add(data))
    _, (lims, _, labels) = timed(lambda: flat.range_search(queries, t + 1))
    truth = [set(labels[lims[i] : lims[i + 1]].tolist()) for i in range(len(queries))]
    report["true_matches"] = int(lims[-1])

    # Takedown.
    ids = np.arange(args.n)
    td_build, td = timed(lambda: PdqIndex.build(ids, hexes(data), background=False))
    gc.collect()

    def td_single(count: int) -> list[set[int]]:
        return [{e for _, e in td.query(h, t)} for h in query_hex[:count]]

    def td_batch(count: int) -> list[set[int]]:
        return [{e for _, e in r} for r in td.query_many(query_hex[:count], t)]

    # HMA.
    hma = None
    if not args.skip_hma:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        gc.collect()
        before = rss_bytes()

        def hma_build() -> Any:
            return PDQIndex(zip(hexes(data), range(args.n), strict=True))

        hma_build_s, hma = timed(hma_build)
        gc.collect()
        hma_rss = rss_bytes() - before

    def hma_single(count: int) -> list[set[int]]:
        return [{m.metadata for m in hma.query(h)} for h in query_hex[:count]]

    def hma_batch(count: int) -> list[set[int]]:
        result = hma.index.search_with_distance_in_result(query_hex[:count], t)
        return [{int(i) for i, _, _ in result[h]} for h in query_hex[:count]]

    def flat_single(count: int) -> list[set[int]]:
        found = []
        for row in queries[:count]:
            lim, _, lab = flat.range_search(row[None, :], t + 1)
            found.append(set(lab.tolist()))
        return found

    def flat_batch(count: int) -> list[set[int]]:
        lim, _, lab = flat.range_search(queries[:count], t + 1)
        return [set(lab[lim[i] : lim[i + 1]].tolist()) for i in range(count)]

    flat_count = min(args.queries, max(50, int(2e8 // max(args.n, 1))))
    Run = Callable[[int], list[set[int]]]
    methods: dict[str, tuple[Run, Run, int]] = {
        "takedown": (td_single, td_batch, args.queries),
        "faiss_flat": (flat_single, flat_batch, flat_count),
    }
    if hma is not None:
        methods["hma"] = (hma_single, hma_batch, hma_count)
    single: dict[str, list[float]] = {name: [] for name in methods}
    batched: dict[str, list[float]] = {name: [] for name in methods}
    found_single: dict[str, list[set[int]]] = {}
    found_batch: dict[str, list[set[int]]] = {}
    for _ in range(args.rounds):
        for name, (one, many, count) in methods.items():
            seconds, found_single[name] = timed(lambda one=one, count=count: one(count))
            single[name].append(count / seconds)
            seconds, found_batch[name] = timed(lambda many=many, count=count: many(count))
            batched[name].append(count / seconds)

    for name, (_, _, count) in methods.items():
        report[name] = {
            "qps": round(statistics.median(single[name]), 1),
            "qps_batched": round(statistics.median(batched[name]), 1),
            "recall": recall(found_single[name], truth[:count]),
            "recall_batched": recall(found_batch[name], truth[:count]),
            "queries_timed": count,
        }
    report["takedown"].update(
        bytes_per_hash=round(td.nbytes / args.n, 1),
        build_s=round(td_build, 2),
    )
    report["faiss_flat"].update(bytes_per_hash=flat.code_size, build_s=round(build_s, 2))
    if hma is not None:
        report["hma"].update(
            bytes_per_hash=round(hma_rss / args.n, 1), build_s=round(hma_build_s, 2)
        )
        del hma
        gc.collect()
        report["speedup_vs_hma"] = round(report["takedown"]["qps"] / report["hma"]["qps"], 1)
        report["speedup_vs_hma_batched"] = round(
            report["takedown"]["qps_batched"] / report["hma"]["qps_batched"], 1
        )
    report["takedown"].update(incremental(td, data, query_hex, rng, t))
    return emit(report, args.json)


def incremental(
    td: PdqIndex, data: np.ndarray, query_hex: list[str], rng: np.random.Generator, t: int
) -> dict[str, Any]:
    """Add/remove visibility, compaction, save and load times for Takedown's index."""
    fresh = hexes(rng.integers(0, 256, (1, 32), dtype=np.uint8))[0]
    start = time.perf_counter()
    td.add(4_000_000_000, fresh)
    visible = any(e == 4_000_000_000 for _, e in td.query(fresh, t))
    add_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    td.remove(0)
    gone = all(e != 0 for _, e in td.query(hexes(data[:1])[0], t))
    remove_ms = (time.perf_counter() - start) * 1e3
    # Worst case between merges: the delta buffer one entry short of its limit.
    pending = td.delta_limit - 2
    extra = rng.integers(0, 256, (pending, 32), dtype=np.uint8)
    td.add_many(np.arange(pending) + 4_100_000_000, extra)
    probes = query_hex[:200]
    seconds, _ = timed(lambda: [td.query(h, t) for h in probes])
    full_delta_qps = len(probes) / seconds
    compact_s, _ = timed(lambda: td.compact(wait=True))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.tdx"
        save_s, _ = timed(lambda: td.save(path))
        gc.collect()
        # What a matcher process holds after loading the file (numpy reports its buffers to
        # tracemalloc); resident-set deltas are useless here, freed build memory is reused.
        tracemalloc.start()
        load_s, loaded = timed(lambda: PdqIndex.load(path))
        loaded_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        mmap_s, _ = timed(lambda: PdqIndex.load(path, mmap=True, verify=False))
        size = path.stat().st_size
        assert len(loaded) == len(td)
    return {
        "add_then_query_ms": round(add_ms, 2),
        "add_visible": visible,
        "remove_then_query_ms": round(remove_ms, 2),
        "remove_visible": gone,
        "delta_limit": td.delta_limit,
        "qps_with_full_delta": round(full_delta_qps, 1),
        "compact_s": round(compact_s, 2),
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
        "load_mmap_s": round(mmap_s, 3),
        "file_bytes_per_hash": round(size / len(td), 1),
        "traced_bytes_per_hash_loaded": round(loaded_bytes / len(td), 1),
    }


def emit(report: dict[str, Any], as_json: bool) -> int:
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
