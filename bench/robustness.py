"""How often an edited copy of an image still matches the original's PDQ hash (distance ≤ 31).

Edits: JPEG q30, resize 50%, 5% crop, 10% border, mirror, rotate 90°, greyscale, caption.
Each distinct shared image is the "bank" original (reference hash); each edit is a query.

Methods compared, all in this process:
  hma               threatexchange's `pdq_from_bytes` on both sides, one hash per query
  takedown_plain    Takedown's reference hash, one hash per query (no variants)
  takedown          reference query hashes: 8 dihedral (+ 8 of the border-trimmed picture)
  takedown_fast     the same variants from the fast decoder (`pdq_query_hashes(fast=True)`)

False matches count pairs of *distinct* images (any edit of one vs the other's bank hash).

    python bench/robustness.py --json [--limit N] [--data DIR]
    python bench/robustness.py --json --bank-crops   # crop experiment: bank-side crop hashes
    python bench/robustness.py --json --local [--heldout]   # PDQ alone vs PDQ + local features

`--local` runs every edit above plus those of bench/media_edits.py (crops of 5/10/20% centre
and corner, caption bands, logo overlay, screenshot frame, crop+JPEG q50+caption) through PDQ
alone and through PDQ with the `orb` local-feature signal as its fallback (looked up only when
PDQ matched nothing), on the shared dev set or, with `--heldout`, on pictures it never saw.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps
from tqdm import tqdm

from takedown.core.errors import TakedownError
from takedown.signals.imaging import decode_rgb
from takedown.signals.pdq import (
    PDQ_MATCH_THRESHOLD,
    hamming,
    pdq_hash,
    pdq_query_hashes,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "images"
MAX_PIXELS = 2_000_000
MIN_SIDE = 64
"""Pictures smaller than this, or with PDQ quality < 50, are reported apart as "degenerate"."""
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
ALIASES = {
    "immunohistochemistry": "ihc",
    "clock_motion": "clock",
    "chessboard_gray": "checkerboard",
    "chessboard_rgb": "checkerboard",
    "motorcycle_left": "motorcycle",
    "motorcycle_right": "motorcycle",
}


def image_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def group_of(path: Path) -> str:
    """Which picture a file shows: the shared set holds several edits of the same photos."""
    text = path.as_posix()
    if any(part in text for part in ("bridge-mods", "/dih/", "misc-images/modes")):
        return "bridge"
    if "exif-rotn" in text:
        return "exif-rotn"
    stem = path.stem.lower()
    return ALIASES.get(stem, stem)


def distinct_images(root: Path) -> Iterator[tuple[str, Path, bytes]]:
    """One readable file per distinct picture, as PNG-or-JPEG bytes capped at MAX_PIXELS."""
    seen: set[str] = set()
    for path in image_files(root):
        group = group_of(path)
        if group in seen:
            continue
        data = path.read_bytes()
        try:
            pixels = decode_rgb(data)
        except TakedownError:
            continue
        seen.add(group)
        image = Image.fromarray(pixels)
        if image.width * image.height > MAX_PIXELS:
            scale = (MAX_PIXELS / (image.width * image.height)) ** 0.5
            image = image.resize((int(image.width * scale), int(image.height * scale)))
            data = encode(image, "PNG")
        yield group, path, data


def encode(image: Image.Image, fmt: str, **options: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _png(image: Image.Image) -> bytes:
    return encode(image, "PNG", compress_level=1)


def jpeg_q30(image: Image.Image) -> bytes:
    return encode(image, "JPEG", quality=30)


def resize_half(image: Image.Image) -> bytes:
    return _png(image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.LANCZOS))


def crop_5(image: Image.Image) -> bytes:
    """5% of each dimension removed, split between opposite sides."""
    dx, dy = round(image.width * 0.025), round(image.height * 0.025)
    return _png(image.crop((dx, dy, image.width - dx, image.height - dy)))


def crop_5_corner(image: Image.Image) -> bytes:
    """5% of each dimension removed from the top and left only (off-centre)."""
    dx, dy = round(image.width * 0.05), round(image.height * 0.05)
    return _png(image.crop((dx, dy, image.width, image.height)))


def border_10(image: Image.Image) -> bytes:
    """A black frame 10% of the width/height on every side."""
    return _png(ImageOps.expand(image, border=(
        round(image.width * 0.1), round(image.height * 0.1)), fill=(0, 0, 0)))


def mirror(image: Image.Image) -> bytes:
    return _png(ImageOps.mirror(image))


def rotate_90(image: Image.Image) -> bytes:
    return _png(image.transpose(Image.Transpose.ROTATE_90))


def grayscale(image: Image.Image) -> bytes:
    return _png(image.convert("L"))


def caption(image: Image.Image) -> bytes:
    """Meme-style caption: white text with a black outline across the top tenth."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    size = max(8, image.height // 12)
    font = ImageFont.load_default(size=size)
    text = "SHARE THIS BEFORE IT IS DELETED"
    width = draw.textlength(text, font=font)
    if width > image.width * 0.9:
        font = ImageFont.load_default(size=max(6, int(size * image.width * 0.9 / width)))
        width = draw.textlength(text, font=font)
    x = (image.width - width) / 2
    draw.text((x, image.height * 0.03), text, font=font, fill="white",
              stroke_width=max(1, size // 12), stroke_fill="black")
    return _png(out)


EDITS: dict[str, Callable[[Image.Image], bytes]] = {
    "jpeg_q30": jpeg_q30,
    "resize_50": resize_half,
    "crop_5": crop_5,
    "border_10": border_10,
    "mirror": mirror,
    "rotate_90": rotate_90,
    "grayscale": grayscale,
    "caption": caption,
}
EXTRA_EDITS: dict[str, Callable[[Image.Image], bytes]] = {"crop_5_corner": crop_5_corner}


def hma_hash(data: bytes) -> list[str]:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    return [pdq_from_bytes(data)[0]]


METHODS: dict[str, Callable[[bytes], list[str]]] = {
    "hma": hma_hash,
    "takedown_plain": lambda data: [pdq_hash(data).hash],
    "takedown": lambda data: pdq_query_hashes(data, fast=False),
    "takedown_fast": lambda data: pdq_query_hashes(data, fast=True),
}


def best_distance(queries: list[str], bank_hash: str) -> int:
    return min(hamming(q, bank_hash) for q in queries)


def run(root: Path, limit: int | None) -> dict[str, object]:
    images = list(distinct_images(root))[:limit]
    all_edits = {**EDITS, **EXTRA_EDITS}
    bank: dict[str, dict[str, str]] = {"hma": {}, "takedown": {}}
    queries: dict[str, dict[tuple[str, str], list[str]]] = {m: {} for m in METHODS}
    qualities: dict[str, int] = {}
    small: set[str] = set()
    for group, _path, data in tqdm(images, desc="hashing edits", file=sys.stderr):
        reference = pdq_hash(data)
        qualities[group] = reference.quality
        bank["takedown"][group] = reference.hash
        bank["hma"][group] = hma_hash(data)[0]
        original = Image.fromarray(decode_rgb(data))
        if min(original.size) < MIN_SIDE:
            small.add(group)
        variants = {"original": data} | {name: edit(original) for name, edit in all_edits.items()}
        for edit_name, edited in variants.items():
            for method, hasher in METHODS.items():
                queries[method][(group, edit_name)] = hasher(edited)

    groups = [g for g, _, _ in images]
    usable = [g for g in groups if g not in small and qualities[g] >= 50]
    rates: dict[str, dict[str, float]] = {m: {} for m in METHODS}
    usable_rates: dict[str, dict[str, float]] = {m: {} for m in METHODS}
    misses: dict[str, list[str]] = {}
    distances: dict[str, dict[str, float]] = {m: {} for m in METHODS}
    decisions: dict[str, dict[tuple[str, str, str], bool]] = {m: {} for m in METHODS}
    for method in METHODS:
        side = "hma" if method == "hma" else "takedown"
        for edit_name in ["original", *all_edits]:
            found = []
            for group in groups:
                d = best_distance(queries[method][(group, edit_name)], bank[side][group])
                found.append(d)
                decisions[method][(group, edit_name, group)] = d <= PDQ_MATCH_THRESHOLD
                if method == "takedown" and d > PDQ_MATCH_THRESHOLD:
                    misses.setdefault(edit_name, []).append(f"{group}:{d}")
            rates[method][edit_name] = round(
                100.0 * sum(d <= PDQ_MATCH_THRESHOLD for d in found) / len(found), 1)
            kept = [d for g, d in zip(groups, found, strict=True) if g in usable]
            usable_rates[method][edit_name] = round(
                100.0 * sum(d <= PDQ_MATCH_THRESHOLD for d in kept) / max(1, len(kept)), 1)
            distances[method][edit_name] = statistics.median(found)

    false_matches: dict[str, int] = {}
    false_pairs: dict[str, list[str]] = {}
    for method in METHODS:
        side = "hma" if method == "hma" else "takedown"
        pairs = set()
        for (group, edit_name), hashes in queries[method].items():
            for other in groups:
                if other == group:
                    continue
                hit = best_distance(hashes, bank[side][other]) <= PDQ_MATCH_THRESHOLD
                decisions[method][(group, edit_name, other)] = hit
                if hit:
                    pairs.add(tuple(sorted((group, other))))
        false_matches[method] = len(pairs)
        false_pairs[method] = [" vs ".join(p) for p in sorted(pairs)]

    ref, fast = decisions["takedown"], decisions["takedown_fast"]
    disagreements = [k for k in ref if ref[k] != fast[k]]
    core = list(EDITS)
    return {
        "images": len(groups),
        "threshold": PDQ_MATCH_THRESHOLD,
        "degenerate_images": sorted(set(groups) - set(usable)),
        "match_rate_percent": rates,
        "match_rate_percent_without_degenerate": usable_rates,
        "median_best_distance": distances,
        "min_rate_core_edits": {m: min(rates[m][e] for e in core) for m in METHODS},
        "min_rate_core_edits_without_degenerate": {
            m: min(usable_rates[m][e] for e in core) for m in METHODS},
        "takedown_misses": misses,
        "false_matches": false_matches,
        "false_match_pairs": false_pairs,
        "fast_vs_reference_decisions": {
            "compared": len(ref),
            "same": len(ref) - len(disagreements),
            "different": [" / ".join(k) for k in disagreements[:20]],
        },
        "ratio_min_rate_vs_hma": round(
            min(rates["takedown"][e] for e in core)
            / max(1e-9, min(rates["hma"][e] for e in core)), 2),
    }


BANK_CROPS = [(0.02, 0.02, 0.02, 0.02), (0.04, 0.04, 0.04, 0.04), (0.05, 0.05, 0, 0),
              (0, 0, 0.05, 0.05), (0.05, 0, 0, 0.05), (0, 0.05, 0.05, 0)]
"""(left, top, right, bottom) fractions of the extra bank-side hashes in --bank-crops."""
CROP_QUERIES = {"crop_5": (0.025, 0.025, 0.025, 0.025), "crop_6": (0.03, 0.03, 0.03, 0.03),
                "crop_4_corner": (0, 0, 0.04, 0.04), "crop_10": (0.05, 0.05, 0.05, 0.05)}
"""Crops of the query, none equal to a bank-side crop (that would test nothing)."""


def _crop(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    left, top, right, bottom = box
    w, h = image.size
    return image.crop((round(w * left), round(h * top), w - round(w * right),
                       h - round(h * bottom)))


def bank_crop_experiment(root: Path, limit: int | None) -> dict[str, object]:
    """What indexing 6 extra reference hashes of crops per bank entry would buy (not built)."""
    import numpy as np

    from takedown.signals.pdq import pdq_from_pixels, query_hashes_from_pixels

    images = list(distinct_images(root))[:limit]
    bank: dict[str, list[str]] = {}
    queries: dict[tuple[str, str], list[str]] = {}
    for group, _path, data in tqdm(images, desc="bank crops", file=sys.stderr):
        image = Image.fromarray(decode_rgb(data))
        bank[group] = [pdq_hash(data).hash] + [
            pdq_from_pixels(np.asarray(_crop(image, box))).hash for box in BANK_CROPS]
        for name, box in CROP_QUERIES.items():
            queries[(group, name)] = query_hashes_from_pixels(np.asarray(_crop(image, box)))
    groups = list(bank)
    rates = {}
    for name in CROP_QUERIES:
        with_crops = sum(min(hamming(q, b) for q in queries[(g, name)] for b in bank[g])
                         <= PDQ_MATCH_THRESHOLD for g in groups)
        plain = sum(min(hamming(q, bank[g][0]) for q in queries[(g, name)])
                    <= PDQ_MATCH_THRESHOLD for g in groups)
        rates[name] = {"bank_crops": round(100.0 * with_crops / len(groups), 1),
                       "plain": round(100.0 * plain / len(groups), 1)}
    false = sum(
        1 for (g, _name), qs in queries.items() for other in groups
        if other != g and min(hamming(q, b) for q in qs for b in bank[other])
        <= PDQ_MATCH_THRESHOLD)
    return {"images": len(groups), "bank_hashes_per_entry": 1 + len(BANK_CROPS),
            "match_rate_percent": rates, "false_matches": false}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N images")
    parser.add_argument("--json", action="store_true", help="print JSON (the only output)")
    parser.add_argument("--bank-crops", action="store_true",
                        help="only run the bank-side crop augmentation experiment")
    parser.add_argument("--local", action="store_true",
                        help="PDQ alone vs PDQ + local features, every edit (bench/media_edits.py)")
    parser.add_argument("--distractors", type=int, default=0,
                        help="with --local: bank this many synthetic pictures first (the "
                             "index's words form, as at scale)")
    parser.add_argument("--heldout", action="store_true",
                        help="with --local: the held-out set instead of --data")
    args = parser.parse_args(argv)
    if not args.heldout and not args.data.is_dir():
        print(f"no image directory at {args.data}", file=sys.stderr)
        return 2
    if args.local or args.heldout:
        from local_robustness import run_local

        result = run_local(args.data, args.limit, heldout=args.heldout,
                           distractors=args.distractors)
    elif args.bank_crops:
        result = bank_crop_experiment(args.data, args.limit)
    else:
        result = run(args.data, args.limit)
    print(json.dumps(result, indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
