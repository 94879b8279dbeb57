"""How the `orb` index scales: lookup latency, queries/s, memory, add/remove visibility.

    python bench/local_features_index.py --json [--sizes 10000,100000,1000000]

Bank: synthetic pictures whose descriptors are *clustered like real ORB*: each is a real ORB
descriptor of a dev-set picture (../shared/data/images, never queried) with 1/8 of its bits
flipped, so descriptors crowd around the same corners, edges and text strokes as a real bank's
do (uniform random bits would make every visual word equally rare: an easy, false case). Into
each bank go 20 real held-out pictures; the queries are two edits of each (10% crop + caption
band; 20% corner crop). The full path is timed (word assignment, voting, reading the candidates'
full sets, RANSAC); extraction is excluded (bench/robustness.py --local measures it). Full sets
of synthetic pictures are regenerated from their key on demand, as the database would return
them. One thread, medians. `recall` is the share of queries whose own picture was verified;
`visible` checks that a removal and a re-addition are seen by the very next query. Memory is
what the index holds, from its arrays. The baseline in the same run is the exact flat form at
500 pictures.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from pathlib import Path

import faiss
import numpy as np
from media_edits import caption_band, crop, heldout_images
from PIL import Image
from robustness import DEFAULT_DATA, distinct_images

from takedown.index.local_features import LocalFeatureIndex
from takedown.index.words_form import INDEXED
from takedown.signals.local_features import BANK_FEATURES, FeatureSet, features_from_bytes

REAL = 20
BASELINE = 500
BULK_FROM = 50_000
"""From this size the synthetic part is loaded in one go (`LocalFeatureIndex.load`, the start-up
path) rather than one `add` per picture; the 20 real pictures are still added one by one."""
"""Pictures in the exact flat baseline (it costs seconds per lookup beyond a few thousand)."""


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def dev_pool(root: Path) -> np.ndarray:
    """Real ORB descriptors of the dev-set pictures (the synthetic bank's cluster centres)."""
    rows = [features_from_bytes(data).descriptors for _g, _p, data in distinct_images(root)]
    return np.unique(np.vstack(rows), axis=0)


def synthetic(pool: np.ndarray, key: int, count: int = BANK_FEATURES) -> FeatureSet:
    rng = np.random.default_rng(key)
    rows = pool[rng.integers(0, pool.shape[0], count)]
    noise = rng.integers(0, 256, (3, count, 32), dtype=np.uint8)
    descriptors = rows ^ (noise[0] & noise[1] & noise[2])
    points = rng.uniform(0, 640, size=(count, 2)).astype(np.float32)
    return FeatureSet(640, 480, points, descriptors)


def _bulk_subsets(pool: np.ndarray, count: int, chunk: int = 50_000) -> np.ndarray:
    """The indexed descriptors of `count` synthetic pictures, drawn like `synthetic`'s."""
    rng = np.random.default_rng(count)
    out = np.empty((count, INDEXED, 32), dtype=np.uint8)
    for start in range(0, count, chunk):
        end = min(count, start + chunk)
        rows = pool[rng.integers(0, pool.shape[0], (end - start, INDEXED))]
        noise = rng.integers(0, 256, (3, end - start, INDEXED, 32), dtype=np.uint8)
        out[start:end] = rows ^ (noise[0] & noise[1] & noise[2])
    return out


def measure(size: int, real: list[FeatureSet], queries: list[tuple[int, FeatureSet]],
            pool: np.ndarray, *, words_from: int | None = None) -> dict[str, object]:
    bulk = size >= BULK_FROM and not words_from
    subsets = _bulk_subsets(pool, size - len(real)) if bulk else None

    def resolve(key: str) -> FeatureSet | None:
        full = synthetic(pool, int(key))
        if subsets is not None:  # the stored set holds the very descriptors the index has
            full.descriptors[:INDEXED] = subsets[int(key)]
        return full

    index = LocalFeatureIndex(resolve, **({"words_from": words_from} if words_from else {}))
    start = time.perf_counter()
    adds: list[float] = []
    if subsets is not None:
        count = subsets.shape[0]
        index.load(np.arange(10_000_000, 10_000_000 + count), subsets,
                   [str(n) for n in range(count)])
    for n in range(0 if bulk else size - len(real)):
        features = synthetic(pool, n)
        began = time.perf_counter()
        index.add_features(10_000_000 + n, features, key=str(n))
        adds.append(1000 * (time.perf_counter() - began))
    for n, features in enumerate(real):
        began = time.perf_counter()
        index.add_features(n, features)
        adds.append(1000 * (time.perf_counter() - began))
    load_s = time.perf_counter() - start
    latencies: list[float] = []
    found = 0
    for own, query in queries:
        began = time.perf_counter()
        matches = index.query_features(query)
        latencies.append(1000 * (time.perf_counter() - began))
        found += any(m.entry_id == own for m in matches)
    false = sum(1 for own, query in queries for m in index.query_features(query)
                if m.entry_id != own)
    own, query = queries[3]
    index.remove(own)
    gone = not any(m.entry_id == own for m in index.query_features(query))
    index.add_features(own, real[own])
    back = any(m.entry_id == own for m in index.query_features(query))
    median = statistics.median(latencies)
    return {
        "pictures": size,
        "form": index.form,
        "indexed_descriptors": index.descriptor_count(),
        "lookup_ms_median": round(median, 2),
        "lookup_ms_p90": round(sorted(latencies)[int(0.9 * len(latencies))], 2),
        "queries_per_s": round(1000 / median, 1),
        "recall_percent": round(100 * found / len(queries), 1),
        "false_matches": false,
        "memory_mb": round(index.memory_bytes() / 1e6, 1),
        "add_ms_median": round(statistics.median(adds), 3),
        "load_s": round(load_s, 1),
        "visible": {"removed_gone_at_once": gone, "added_found_at_once": back},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the dev set")
    args = parser.parse_args(argv)
    faiss.omp_set_num_threads(1)
    pictures = heldout_images(REAL)[:REAL]
    real: list[FeatureSet] = []
    queries: list[tuple[int, FeatureSet]] = []
    for n, (_name, data) in enumerate(pictures):
        real.append(features_from_bytes(data, BANK_FEATURES))
        image = Image.open(io.BytesIO(data)).convert("RGB")
        queries.append((n, features_from_bytes(_png(caption_band(crop(image, 0.1))))))
        queries.append((n, features_from_bytes(_png(crop(image, 0.2, corner=True)))))
    pool = dev_pool(args.data)
    sizes = [int(s) for s in args.sizes.split(",")]
    baseline = measure(BASELINE, real, queries, pool, words_from=10 ** 9)
    print(json.dumps({"baseline_exact_flat": baseline}), file=sys.stderr, flush=True)
    results = []
    for size in sizes:
        results.append(measure(size, real, queries, pool))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    largest = results[-1]
    out = {
        "synthetic": f"clustered: {pool.shape[0]} real dev-set ORB descriptors, 1/8 bits flipped",
        "results": results,
        "baseline_exact_flat": baseline,
        "ratio_largest_vs_flat_baseline_ms": round(
            float(largest["lookup_ms_median"])  # type: ignore[arg-type]
            / max(1e-9, float(baseline["lookup_ms_median"])), 3),  # type: ignore[arg-type]
    }
    print(json.dumps(out, indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
