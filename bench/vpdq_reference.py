"""vPDQ against Meta's reference: per-frame hashes and the variant matches of the sample clips.

For every clip in threatexchange-tmk/ that has a sample-hash file, hash every frame with
Takedown (`hash_video_file(seconds_per_hash=0)`) and compare with Meta's file: frame counts,
bits that differ per frame (the decoder build differs, so a few bits move) and the video-level
match both ways. Then match each variant (grey, logo, letterbox, frame rate, longer) against its
original with Takedown's matcher, beside threatexchange's brute-force matcher as the baseline.

    python bench/vpdq_reference.py --json [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from tqdm import tqdm

from takedown.signals.pdq import hamming
from takedown.signals.vpdq import (
    FrameHash,
    hash_video_file,
    match_videos,
    read_reference_file,
)

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "videos" / "threatexchange-tmk"
)
HMA_MAX_FRAMES = 250
"""threatexchange's pure-Python matcher takes minutes on the 673-frame chair clips."""
VARIANTS = {
    "chair-orig-22-sd-bar": ["chair-19-sd-bar", "chair-22-sd-grey-bar",
                             "chair-22-with-large-logo-bar"],
    "pattern-hd-no-bar": ["pattern-sd-grey-bar", "pattern-sd-with-large-logo-bar",
                          "pattern-longer-no-bar"],
}


def frame_agreement(ours: list[FrameHash], theirs: list[FrameHash]) -> dict[str, float]:
    pairs = list(zip(ours, theirs, strict=False))
    bits = [hamming(a.pdq_hex, b.pdq_hex) for a, b in pairs]
    return {
        "frames_ours": len(ours),
        "frames_reference": len(theirs),
        "identical_frames": sum(b == 0 for b in bits),
        "median_bits": statistics.median(bits) if bits else 0,
        "max_bits": max(bits, default=0),
        "quality_equal": sum(a.quality == b.quality for a, b in pairs),
    }


def hma_match(query: list[FrameHash], compared: list[FrameHash]) -> tuple[float, float]:
    from threatexchange.extensions.vpdq.vpdq_brute_matcher import match_VPDQ_hash_brute
    from threatexchange.extensions.vpdq.vpdq_util import VpdqCompactFeature

    def compact(frames: list[FrameHash]) -> list[VpdqCompactFeature]:
        return [VpdqCompactFeature(f.pdq_hex, f.quality, f.timestamp) for f in frames]

    result = match_VPDQ_hash_brute(compact(query), compact(compared), 50, 31)
    return result.query_match_percent, result.compared_match_percent


def run(root: Path) -> dict[str, object]:
    reference_dir = root / "vpdq-sample-hashes"
    names = sorted(p.stem for p in reference_dir.glob("*.txt"))
    ours: dict[str, list[FrameHash]] = {}
    reference: dict[str, list[FrameHash]] = {}
    per_clip: dict[str, object] = {}
    for name in tqdm(names, desc="hashing clips", file=sys.stderr):
        reference[name] = read_reference_file((reference_dir / f"{name}.txt").read_text())
        ours[name] = hash_video_file(str(root / f"{name}.mp4"), seconds_per_hash=0)
        match = match_videos(ours[name], reference[name])
        per_clip[name] = frame_agreement(ours[name], reference[name]) | {
            "match_vs_reference_percent": [round(match.query_percent, 1),
                                           round(match.compared_percent, 1)]}

    variants: dict[str, object] = {}
    ours_seconds = hma_seconds = timed_ours = 0.0
    for original, copies in VARIANTS.items():
        for copy in copies:
            if copy not in ours or original not in ours:
                continue
            start = time.perf_counter()
            result = match_videos(ours[copy], ours[original])
            ours_seconds += time.perf_counter() - start
            hma: tuple[float, float] | None = None
            if max(len(ours[copy]), len(ours[original])) <= HMA_MAX_FRAMES:
                ours_seconds_pair = time.perf_counter()
                match_videos(ours[copy], ours[original])
                timed_ours += time.perf_counter() - ours_seconds_pair
                start = time.perf_counter()
                hma = hma_match(ours[copy], ours[original])
                hma_seconds += time.perf_counter() - start
            on_reference = match_videos(reference[copy], reference[original])
            variants[f"{copy} vs {original}"] = {
                "query_percent": round(result.query_percent, 1),
                "compared_percent": round(result.compared_percent, 1),
                "match": result.is_match(),
                "hma_percent": None if hma is None else [round(hma[0], 1), round(hma[1], 1)],
                "on_reference_hashes_percent": [round(on_reference.query_percent, 1),
                                                round(on_reference.compared_percent, 1)],
            }
    unrelated = {}
    for a, b in (("doorknob-hd-no-bar", "chair-orig-22-sd-bar"),
                 ("doorknob-hd-no-bar", "pattern-hd-no-bar"),
                 ("chair-orig-22-sd-bar", "pattern-hd-no-bar")):
        if a in ours and b in ours:
            m = match_videos(ours[a], ours[b])
            unrelated[f"{a} vs {b}"] = {"query_percent": round(m.query_percent, 1),
                                        "compared_percent": round(m.compared_percent, 1),
                                        "match": m.is_match()}
    return {
        "clips": per_clip,
        "variants": variants,
        "all_variants_match": all(v["match"] for v in variants.values()),  # type: ignore[index]
        "unrelated": unrelated,
        "no_false_match": not any(v["match"] for v in unrelated.values()),
        "matcher_seconds_all_pairs": round(ours_seconds, 4),
        "matcher_seconds_pairs_timed_against_hma": {"takedown": round(timed_ours, 4),
                                                    "hma": round(hma_seconds, 4)},
        "speedup_vs_hma": round(hma_seconds / max(timed_ours, 1e-9), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.data / "vpdq-sample-hashes").is_dir():
        print(f"no sample hashes under {args.data}", file=sys.stderr)
        return 2
    print(json.dumps(run(args.data), indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
