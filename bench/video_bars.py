"""Letterbox/pillarbox trimming and logo overlays on Meta's own sample clips.

    python bench/video_bars.py --json [--data DIR]

For each variant of a sample clip, the vPDQ match against its original computed from Meta's
*reference* hash files (the baseline, what HMA would report), then with Takedown's extra
query form (bars trimmed: signals/video_frames.py) against the same reference hashes of the
original. `reference_untouched` checks that clips without bars get no extra query form, so
every match the reference makes is made the same way. Logos: the share of a variant's key
frames (1 per second) that the local-feature signal (`orb`) verifies against the original's
key frames, as a matcher for logo-covered clips would use it, and (false matches) the share
verified against the other clip's original.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from takedown.index.local_features import LocalFeatureIndex
from takedown.signals.local_features import BANK_FEATURES, features_from_luma
from takedown.signals.video_frames import sampled_frames, trimmed_frame_hashes
from takedown.signals.vpdq import FrameHash, match_videos, read_reference_file

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "videos" / "threatexchange-tmk"
)
PAIRS = {
    "pattern-sd-grey-bar": "pattern-hd-no-bar",
    "pattern-sd-with-large-logo-bar": "pattern-hd-no-bar",
    "pattern-longer-no-bar": "pattern-hd-no-bar",
    "chair-19-sd-bar": "chair-orig-22-sd-bar",
    "chair-22-sd-grey-bar": "chair-orig-22-sd-bar",
    "chair-22-with-large-logo-bar": "chair-orig-22-sd-bar",
}

OTHER = {"pattern-hd-no-bar": "chair-orig-22-sd-bar", "chair-orig-22-sd-bar": "pattern-hd-no-bar"}
"""Key-frame false matches: each variant against the *other* family's original."""


def _reference(root: Path, name: str) -> list[FrameHash]:
    return read_reference_file((root / "vpdq-sample-hashes" / f"{name}.txt").read_text())


def _percent(match: object) -> dict[str, float]:
    return {"query": round(match.query_percent, 1),  # type: ignore[attr-defined]
            "compared": round(match.compared_percent, 1)}  # type: ignore[attr-defined]


def _luma(frame: np.ndarray) -> np.ndarray:
    return (frame[..., 0] * 0.299 + frame[..., 1] * 0.587 + frame[..., 2] * 0.114).astype(
        np.uint8)


def key_frame_match(root: Path, variant: str, original: str) -> float:
    index = LocalFeatureIndex()
    for n, (_t, frame) in enumerate(sampled_frames(str(root / f"{original}.mp4"))):
        index.add_features(n, features_from_luma(_luma(frame), BANK_FEATURES))
    frames = sampled_frames(str(root / f"{variant}.mp4"))
    found = sum(bool(index.query_features(features_from_luma(_luma(f)))) for _t, f in frames)
    return round(100.0 * found / max(1, len(frames)), 1)


def run(root: Path) -> dict[str, object]:
    results: dict[str, object] = {}
    untouched: dict[str, bool] = {}
    for variant, original in PAIRS.items():
        reference = _reference(root, original)
        plain = match_videos(_reference(root, variant), reference)
        trimmed = trimmed_frame_hashes(str(root / f"{variant}.mp4"))
        with_trim = match_videos(trimmed, reference) if trimmed else plain
        better = max([plain, with_trim], key=lambda m: max(m.query_percent, m.compared_percent))
        results[variant] = {
            "original": original,
            "reference_hashes": _percent(plain),
            "bars_found": trimmed is not None,
            "with_trimmed_query": _percent(better),
            "match_reference": plain.is_match(),
            "match_with_trim": better.is_match(),
            "orb_key_frames_matched_percent": key_frame_match(root, variant, original),
            "orb_key_frames_matching_the_other_clip_percent": key_frame_match(
                root, variant, OTHER[original]),
        }
    for name in sorted({*PAIRS, *PAIRS.values(), "doorknob-hd-no-bar"}):
        if "no-bar" in name:
            untouched[name] = trimmed_frame_hashes(str(root / f"{name}.mp4")) is None
    return {"pairs": results, "reference_untouched_for_clips_without_bars": untouched,
            "matched": {"reference": sum(bool(r["match_reference"]) for r in results.values()),  # type: ignore[index]
                        "with_trim": sum(bool(r["match_with_trim"]) for r in results.values()),  # type: ignore[index]
                        "of": len(results)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no video directory at {args.data}", file=sys.stderr)
        return 2
    print(json.dumps(run(args.data), indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
