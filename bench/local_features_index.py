"""How the `orb` index scales: lookup latency, queries/s, memory, add/remove visibility.

    python bench/local_features_index.py --json [--sizes 2000,10000,40000] [--synthetic uniform]

Bank: synthetic pictures with random keypoint positions and 256 descriptors each, either
`clustered` (real ORB descriptors of the very pictures queried, 15% of bits flipped: every
query descriptor has thousands of near neighbours, a worst case for candidate selection and for
IVF list balance) or `uniform` (random bits: the search cost alone). Into each bank go 20 real
pictures; the queries are 10%-cropped, captioned copies of those (the full fallback path:
lookup + RANSAC; extraction excluded, it does not depend on the bank size; bench/robustness.py
--local measures it). One thread, medians. `recall` is the share of queries whose own picture
was verified; `visible` checks that a picture added during the run is found by the very next
query and that a removed one is not. Memory is what the index holds (descriptors, owner ids,
keypoints), computed from its arrays. The baseline in the same run is the exact flat index at
the smallest size.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time

import faiss
import numpy as np
from media_edits import caption_band, crop, heldout_images
from PIL import Image

from takedown.index.local_features import LocalFeatureIndex
from takedown.signals.local_features import (
    BANK_FEATURES,
    FeatureSet,
    features_from_bytes,
)

REAL = 20


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _synthetic(pool: np.ndarray, rng: np.random.Generator, mode: str) -> FeatureSet:
    if mode == "uniform":
        descriptors = rng.integers(0, 256, size=(BANK_FEATURES, 32), dtype=np.uint8)
    else:
        rows = pool[rng.integers(0, pool.shape[0], BANK_FEATURES)]
        bits = np.unpackbits(rows, axis=1)
        flips = rng.random(bits.shape) < 0.15
        descriptors = np.packbits(bits ^ flips, axis=1)
    points = rng.uniform(0, 640, size=(BANK_FEATURES, 2)).astype(np.float32)
    return FeatureSet(640, 480, points, descriptors)


def _memory_bytes(index: LocalFeatureIndex) -> int:
    descriptors = index.descriptor_count() * 32
    points = sum(len(s) * 8 for s in index._sets.values())  # noqa: SLF001 - measuring it
    owners = index._owner.nbytes  # noqa: SLF001
    lists = index.descriptor_count() * 8 if index._ivf else 0  # noqa: SLF001 - IVF ids
    return descriptors * 2 + points + owners + lists


def measure(size: int, real: list[FeatureSet], queries: list[FeatureSet],
            pool: np.ndarray, *, ivf_from: int | None = None,
            mode: str = "clustered") -> dict[str, object]:
    rng = np.random.default_rng(size)
    index = LocalFeatureIndex(**({"ivf_from": ivf_from} if ivf_from is not None else {}))
    start = time.process_time()
    for n in range(size - len(real)):
        index.add_features(10_000_000 + n, _synthetic(pool, rng, mode))
    for n, features in enumerate(real):
        index.add_features(n, features)
    load_s = time.process_time() - start
    latencies: list[float] = []
    found = 0
    for n, query in enumerate(queries):
        start = time.process_time()
        matches = index.query_features(query)
        latencies.append(1000 * (time.process_time() - start))
        found += any(m.entry_id == n for m in matches)
    index.remove(3)
    gone = not any(m.entry_id == 3 for m in index.query_features(queries[3]))
    index.add_features(3, real[3])
    back = any(m.entry_id == 3 for m in index.query_features(queries[3]))
    median = statistics.median(latencies)
    return {
        "pictures": size,
        "descriptors": index.descriptor_count(),
        "structure": "ivf" if index._ivf else "flat",  # noqa: SLF001
        "lookup_ms_median": round(median, 2),
        "lookup_ms_p90": round(sorted(latencies)[int(0.9 * len(latencies))], 2),
        "queries_per_s": round(1000 / median, 1),
        "recall_percent": round(100 * found / len(queries), 1),
        "memory_mb": round(_memory_bytes(index) / 1e6, 1),
        "load_s": round(load_s, 1),
        "visible": {"removed_gone_at_once": gone, "added_found_at_once": back},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--synthetic", choices=["clustered", "uniform"], default="clustered",
                        help="clustered: noisy copies of the queries' own descriptors (worst "
                             "case); uniform: random bits (the search cost alone)")
    args = parser.parse_args(argv)
    faiss.omp_set_num_threads(1)
    pictures = heldout_images(REAL)[:REAL]
    real, queries = [], []
    for _name, data in pictures:
        real.append(features_from_bytes(data, BANK_FEATURES))
        image = Image.open(io.BytesIO(data)).convert("RGB")
        queries.append(features_from_bytes(_png(caption_band(crop(image, 0.1)))))
    pool = np.vstack([f.descriptors for f in real])
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [measure(size, real, queries, pool, mode=args.synthetic) for size in sizes]
    baseline = measure(sizes[0], real, queries, pool, ivf_from=10 ** 12, mode=args.synthetic)
    largest = results[-1]
    per_descriptor_ms = float(largest["lookup_ms_median"])  # type: ignore[arg-type]
    out = {
        "synthetic": args.synthetic,
        "results": results,
        "baseline_exact_flat": baseline,
        "ratio_largest_vs_flat_baseline_ms": round(
            per_descriptor_ms / max(1e-9, float(baseline["lookup_ms_median"])), 2),  # type: ignore[arg-type]
        "bytes_per_banked_picture": int(_bytes_per_picture()),
    }
    print(json.dumps(out, indent=2 if args.json else None))
    return 0


def _bytes_per_picture() -> float:
    """In the index: descriptor (twice: faiss and the kept set), IVF id, owner id, keypoint."""
    return BANK_FEATURES * (32 * 2 + 8 + 8 + 8)


if __name__ == "__main__":
    sys.exit(main())
