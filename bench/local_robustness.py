"""PDQ alone vs PDQ + local features (`orb`) on every re-posting edit; run via robustness.py.

    python bench/robustness.py --json --local            # the shared dev set
    python bench/robustness.py --json --local --heldout  # pictures the project never tuned on

Bank: each distinct picture's reference PDQ hash and its `orb` feature set (as banked), all in
one `LocalFeatureIndex`. Query: every edit of every picture, as the matcher does it: PDQ query
variants first; the local-feature lookup only when PDQ matched no banked picture. A query
"matches" when its own original is among the results; any other banked picture in the results
is a false match (pairs of distinct pictures, counted once per pair). Pictures with PDQ
quality < 50 or fewer than 40 keypoints are degenerate: they are banked for neither signal
and reported apart. Timing: one thread, medians; `cost_1600px_ms` re-encodes each picture as a
1,600 px JPEG (q90) and times the whole fallback (decode + ORB + lookup + RANSAC) on it.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

import cv2
import faiss
from media_edits import NEW_EDITS, heldout_images
from PIL import Image
from robustness import EDITS, EXTRA_EDITS, distinct_images
from tqdm import tqdm

from takedown.index.local_features import LocalFeatureIndex
from takedown.signals.imaging import decode_rgb
from takedown.signals.local_features import BANK_FEATURES, FeatureSet, features_from_bytes
from takedown.signals.pdq import PDQ_MATCH_THRESHOLD, hamming, pdq_hash, pdq_query_hashes

SAME_OBJECT = {frozenset({"c", "pen-and-coaster"})}
"""Dev-set pairs that are different photos of the same object (the coaster): local features
rightly find one in the other; they are reported, not counted as false matches."""


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _jpeg_1600(image: Image.Image) -> bytes:
    scale = 1600 / max(image.size)
    resized = image.resize((round(image.width * scale), round(image.height * scale)))
    buffer = io.BytesIO()
    resized.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _old_edit(name: str):  # type: ignore[no-untyped-def]
    edit = {**EDITS, **EXTRA_EDITS}[name]
    return lambda image: Image.open(io.BytesIO(edit(image))).convert("RGB")


def run_local(root: Path, limit: int | None, *, heldout: bool = False,
              distractors: int = 0) -> dict[str, object]:
    """`distractors`: synthetic pictures (bench/local_features_index.py's clustered ones, from
    the dev set's descriptors) banked first, so the index answers in its words form, as a
    large bank's would; their full sets are regenerated on demand, like database reads."""
    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)
    if heldout:
        pictures = heldout_images()[:limit]
    else:
        pictures = [(g, data) for g, _p, data in distinct_images(root)][:limit]
    edits = {name: _old_edit(name) for name in EDITS} | NEW_EDITS
    index = LocalFeatureIndex()
    if distractors:
        from local_features_index import dev_pool, synthetic

        pool = dev_pool(root)
        index = LocalFeatureIndex(lambda key: synthetic(pool, int(key)))
        for n in range(distractors):
            index.add_features(10_000_000 + n, synthetic(pool, n), key=str(n))
    bank_pdq: dict[str, str] = {}
    ids: dict[str, int] = {}
    degenerate: list[str] = []
    bank_bytes: list[int] = []
    bank_ms: list[float] = []
    originals: dict[str, Image.Image] = {}
    banked: dict[str, FeatureSet] = {}
    for n, (group, data) in enumerate(pictures):
        reference = pdq_hash(data)
        start = time.process_time()
        features = features_from_bytes(data, BANK_FEATURES)
        bank_ms.append(1000 * (time.process_time() - start))
        if reference.low_quality or features.degenerate:
            degenerate.append(group)
            continue
        ids[group] = n
        bank_pdq[group] = reference.hash
        index.add_features(n, features)
        banked[group] = features
        bank_bytes.append(len(features.encode()))
        originals[group] = Image.fromarray(decode_rgb(data))
    names = {n: g for g, n in ids.items()}

    pdq_only: dict[str, list[bool]] = {e: [] for e in edits}
    combined: dict[str, list[bool]] = {e: [] for e in edits}
    false_pdq: set[frozenset[str]] = set()
    false_combined: set[frozenset[str]] = set()
    same_object: set[frozenset[str]] = set()
    misses: dict[str, list[str]] = {}
    fallback_ms: list[float] = []
    pdq_ms: list[float] = []
    for group, image in tqdm(originals.items(), desc="edits", file=sys.stderr):
        for edit_name, edit in edits.items():
            data = _png(edit(image))
            start = time.process_time()
            queries = pdq_query_hashes(data, fast=True)
            pdq_hits = {g for g, h in bank_pdq.items()
                        if min(hamming(q, h) for q in queries) <= PDQ_MATCH_THRESHOLD}
            pdq_ms.append(1000 * (time.process_time() - start))
            hits = set(pdq_hits)
            if not pdq_hits:
                start = time.process_time()
                hits = {names.get(m.entry_id, "distractor") for m in index.query_content(data)}
                fallback_ms.append(1000 * (time.process_time() - start))
            pdq_only[edit_name].append(group in pdq_hits)
            combined[edit_name].append(group in hits)
            if group not in hits:
                misses.setdefault(edit_name, []).append(group)
            for other in pdq_hits - {group}:
                false_pdq.add(frozenset({group, other}))
            for other in hits - {group}:
                pair = frozenset({group, other})
                (same_object if pair in SAME_OBJECT else false_combined).add(pair)

    cost_1600: list[float] = []
    for image in list(originals.values())[:20]:
        data = _jpeg_1600(image)
        start = time.process_time()
        index.query_content(data)
        cost_1600.append(1000 * (time.process_time() - start))
    # Screenshots at phone resolution, found, and (their picture taken out of the bank for the
    # lookup) not found: the second case runs both the whole-picture and the inset lookup, the
    # most a query costs.
    shots_found: list[bool] = []
    cost_unmatched_shot: list[float] = []
    for group, image in list(originals.items())[:20]:
        data = _jpeg_1600(NEW_EDITS["screenshot_frame"](image))
        shots_found.append(ids[group] in {m.entry_id for m in index.query_content(data)})
        index.remove(ids[group])
        start = time.process_time()
        index.query_content(data)
        cost_unmatched_shot.append(1000 * (time.process_time() - start))
        index.add_features(ids[group], banked[group])

    def rate(values: list[bool]) -> float:
        return round(100.0 * sum(values) / max(1, len(values)), 1)

    return {
        "set": "heldout" if heldout else str(root),
        "distractors": distractors,
        "index_form": index.form,
        "images": len(pictures),
        "banked": len(originals),
        "degenerate_images": degenerate,
        "match_rate_percent": {
            e: {"pdq": rate(pdq_only[e]), "pdq+orb": rate(combined[e])} for e in edits},
        "min_rate": {"pdq": min(rate(v) for v in pdq_only.values()),
                     "pdq+orb": min(rate(v) for v in combined.values())},
        "false_match_pairs": {"pdq": sorted("/".join(sorted(p)) for p in false_pdq),
                              "pdq+orb": sorted("/".join(sorted(p)) for p in false_combined)},
        "false_matches": {"pdq": len(false_pdq), "pdq+orb": len(false_combined)},
        "same_object_pairs_found": sorted("/".join(sorted(p)) for p in same_object),
        "distinct_pairs": len(originals) * (len(originals) - 1) // 2,
        "misses_pdq+orb": misses,
        "cost_ms_median": {
            "pdq_query": round(statistics.median(pdq_ms), 1),
            "orb_fallback_when_pdq_missed": round(statistics.median(fallback_ms or [0.0]), 1),
            "orb_fallback_1600px_jpeg": round(statistics.median(cost_1600 or [0.0]), 1),
            "orb_unmatched_screenshot_1600px_jpeg": round(
                statistics.median(cost_unmatched_shot or [0.0]), 1),
            "orb_bank_extract": round(statistics.median(bank_ms), 1),
            "extra_when_pdq_matched": 0.0,
        },
        "screenshots_1600px_jpeg_found": f"{sum(shots_found)}/{len(shots_found)}",
        "ratio_fallback_1600px_vs_pdq_query": round(
            statistics.median(cost_1600 or [0.0]) / max(1e-9, statistics.median(pdq_ms)), 2),
        "bytes_per_banked_image": {"pdq": 32, "orb_median": int(statistics.median(bank_bytes)),
                                   "orb_max": max(bank_bytes)},
        "index_descriptors": index.descriptor_count(),
    }
