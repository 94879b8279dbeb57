"""Why ORB: the local-feature detectors OpenCV ships, compared on the same edits and pictures.

    python bench/local_features_alternatives.py --json [--limit 12]

Each picture of the held-out set is banked with each method's descriptors (≤ 256 keypoints);
each edited copy (≤ 700 keypoints) is matched against every banked picture with brute force
(mutual nearest neighbours) and the same RANSAC similarity check (≥ 14 inliers). Reported per
method: match rate per edit, false matches over distinct pairs, extraction CPU ms (median,
one thread, 640 px work frame) and bytes per banked picture. The ORB row is Takedown's signal
(grid-spread keypoints); the same ORB keeping only its strongest keypoints; SIFT with 128
float descriptors (512 bytes each). AKAZE and BRISK are not in opencv-python-headless 5.x's
main module (they moved to the contrib build), so they were not tried. Baseline: the ORB row.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable

import cv2
import numpy as np
from media_edits import NEW_EDITS, heldout_images
from PIL import Image

from takedown.signals.local_features import MIN_INLIERS, FeatureSet, features_from_luma, verify

EDITS = ["crop_10_centre", "crop_20_corner", "caption_band_bottom", "logo_overlay",
         "screenshot_frame", "crop10_jpeg50_caption"]


def _frame(image: Image.Image) -> np.ndarray:
    luma = np.asarray(image.convert("L"))
    scale = 640 / max(luma.shape)
    if scale < 1:
        luma = cv2.resize(luma, (round(luma.shape[1] * scale), round(luma.shape[0] * scale)),
                          interpolation=cv2.INTER_AREA)
    return luma


def _opencv(detector: cv2.Feature2D) -> Callable[[np.ndarray, int], tuple[FeatureSet, int]]:
    def extract(frame: np.ndarray, limit: int) -> tuple[FeatureSet, int]:
        keypoints, descriptors = detector.detectAndCompute(frame, None)
        if descriptors is None:
            return FeatureSet(frame.shape[1], frame.shape[0], np.zeros((0, 2), np.float32),
                              np.zeros((0, 32), np.uint8)), 0
        order = np.argsort([-k.response for k in keypoints])[:limit]
        points = np.array([keypoints[i].pt for i in order], np.float32).reshape(-1, 2)
        chosen = descriptors[order]
        return FeatureSet(frame.shape[1], frame.shape[0], points, chosen), chosen.nbytes
    return extract


def _orb(frame: np.ndarray, limit: int) -> tuple[FeatureSet, int]:
    features = features_from_luma(frame, limit)
    return features, int(features.descriptors.nbytes)


METHODS = {
    "orb (takedown)": (_orb, cv2.NORM_HAMMING),
    "orb, strongest keypoints (no grid spread)": (_opencv(cv2.ORB.create(
        nfeatures=700, edgeThreshold=19, patchSize=19, fastThreshold=12)), cv2.NORM_HAMMING),
    "sift": (_opencv(cv2.SIFT.create()), cv2.NORM_L2),
}


def _pairs(query: FeatureSet, banked: FeatureSet, norm: int) -> np.ndarray:
    if len(query) == 0 or len(banked) == 0:
        return np.zeros((0, 2), np.int64)
    matches = cv2.BFMatcher(norm, crossCheck=True).match(query.descriptors, banked.descriptors)
    return np.array([(m.queryIdx, m.trainIdx) for m in matches], np.int64).reshape(-1, 2)


def run(limit: int) -> dict[str, object]:
    cv2.setNumThreads(1)
    pictures = [(n, Image.open(io.BytesIO(d)).convert("RGB")) for n, d in heldout_images()][:limit]
    out: dict[str, object] = {}
    for method, (extract, norm) in METHODS.items():
        bank, sizes, cost = {}, [], []
        for name, image in pictures:
            features, size = extract(_frame(image), 256)
            bank[name] = features
            sizes.append(size + 4 * len(features))
        rates, false = {}, 0
        for edit in EDITS:
            hits = 0
            for name, image in pictures:
                frame = _frame(NEW_EDITS[edit](image))
                start = time.process_time()
                query, _ = extract(frame, 700)
                cost.append(1000 * (time.process_time() - start))
                for other, banked in bank.items():
                    result = verify(query, banked, _pairs(query, banked, norm))
                    verified = result is not None and result.inliers >= MIN_INLIERS
                    if other == name:
                        hits += verified
                    else:
                        false += verified
            rates[edit] = round(100.0 * hits / len(pictures), 1)
        out[method] = {"match_rate_percent": rates, "min_rate": min(rates.values()),
                       "false_matches": false, "extract_cpu_ms_median":
                       round(statistics.median(cost), 1),
                       "bytes_per_banked_picture": int(statistics.median(sizes))}
    baseline = out["orb (takedown)"]
    for values in out.values():
        values["ratio_extract_ms_vs_orb"] = round(  # type: ignore[index]
            values["extract_cpu_ms_median"] / max(1e-9, baseline["extract_cpu_ms_median"]), 2)  # type: ignore[index]
    return {"pictures": len(pictures), "edits": EDITS, "methods": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.limit), indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
