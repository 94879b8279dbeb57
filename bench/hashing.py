"""PDQ hashing: correctness against Meta's reference and images/s against HMA's hasher.

1. Reference check, every shared image: Takedown's `pdq_hash` against `pdqhash.compute` on
   Pillow's oriented RGB decode (Meta's C++ on the same pixels), and against threatexchange's
   `pdq_from_bytes` (HMA) wherever HMA's own decode is valid (RGB/L/RGBA/LA files without an
   EXIF rotation; HMA ignores EXIF and feeds palette/CMYK/1-bit arrays to PDQ as they are).
2. Fast-path drift: Hamming distance between `pdq_hash_fast` and `pdq_hash` per image.
3. Throughput on ~3 MP JPEGs made in a temporary directory from the shared images: HMA's
   `pdq_from_bytes` (baseline), Takedown reference, Takedown fast, and the fast path with all
   query variants (`pdq_query_hashes(fast=True)`); median of --repeats interleaved runs.

    python bench/hashing.py --json [--count N] [--repeats R] [--data DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageOps
from tqdm import tqdm

from takedown.core.errors import TakedownError
from takedown.signals.imaging import decode_rgb
from takedown.signals.pdq import (
    bits_to_hex,
    hamming,
    pdq_hash,
    pdq_hash_fast,
    pdq_query_hashes,
)

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "images"
SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
TARGET_PIXELS = 3_000_000


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES)


def independent_reference(data: bytes) -> str:
    """Meta's C++ (pdqhash) on the plainest correct decode: oriented, Pillow's RGB."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    if image.mode.startswith("I;16"):
        array = (np.asarray(image, dtype=np.float64) / 257.0).round().astype(np.uint8)
        image = Image.fromarray(array, mode="L")
    bits, _quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return bits_to_hex(bits)


def hma_decode_valid(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    return image.mode in ("RGB", "L", "RGBA", "LA") and image.getexif().get(0x0112, 1) in (0, 1)


def reference_check(root: Path) -> dict[str, object]:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    same = checked = hma_same = hma_checked = 0
    unreadable: list[str] = []
    differs: list[str] = []
    hma_differs: list[str] = []
    drift: dict[str, int] = {}
    good: set[str] = set()
    for path in tqdm(files_under(root), desc="reference check", file=sys.stderr):
        data = path.read_bytes()
        name = path.relative_to(root).as_posix()
        try:
            ours = pdq_hash(data)
        except TakedownError:
            unreadable.append(name)
            continue
        checked += 1
        if not ours.low_quality:
            good.add(name)
        if ours.hash == independent_reference(data):
            same += 1
        else:
            differs.append(name)
        if hma_decode_valid(data):
            hma_checked += 1
            if pdq_from_bytes(data)[0] == ours.hash:
                hma_same += 1
            else:
                hma_differs.append(name)
        drift[name] = hamming(ours.hash, pdq_hash_fast(data).hash)
    worst = max(drift, key=drift.__getitem__)
    values = sorted(drift.values())
    return {
        "images": checked,
        "identical_to_pdqhash_reference": same,
        "differs": differs,
        "hma_comparable": hma_checked,
        "identical_to_hma": hma_same,
        "hma_differs": hma_differs,
        "unreadable": unreadable,
        "fast_drift_bits": {
            "median": statistics.median(values),
            "p90": values[int(0.9 * (len(values) - 1))],
            "max": drift[worst],
            "max_image": worst,
            "max_quality_ge_50": max((d for n, d in drift.items() if n in good), default=0),
        },
    }


def make_jpegs(root: Path, count: int, out_dir: Path) -> list[Path]:
    """~3 MP JPEGs (quality 90) resized from the shared images, one per distinct source."""
    made: list[Path] = []
    for path in files_under(root):
        if len(made) >= count:
            break
        try:
            image = Image.fromarray(decode_rgb(path.read_bytes()))
        except TakedownError:
            continue
        if min(image.size) < 100:
            continue
        scale = (TARGET_PIXELS / (image.width * image.height)) ** 0.5
        image = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.LANCZOS)
        target = out_dir / f"{len(made):03d}.jpg"
        image.save(target, format="JPEG", quality=90)
        made.append(target)
    return made


def throughput(
    blobs: list[bytes], hashers: dict[str, Callable[[bytes], object]], repeats: int
) -> dict[str, float]:
    """Median images/s per hasher; rounds are interleaved so machine load hits all alike."""
    rates: dict[str, list[float]] = {name: [] for name in hashers}
    for _ in range(repeats):
        for name, hasher in hashers.items():
            start = time.perf_counter()
            for blob in blobs:
                hasher(blob)
            rates[name].append(len(blobs) / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def speed(root: Path, count: int, repeats: int) -> dict[str, object]:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    with tempfile.TemporaryDirectory(prefix="takedown-bench-") as tmp:
        paths = make_jpegs(root, count, Path(tmp))
        blobs = [p.read_bytes() for p in paths]
    sizes = [Image.open(io.BytesIO(b)).size for b in blobs]
    hashers: dict[str, Callable[[bytes], object]] = {
        "hma": pdq_from_bytes,
        "reference": pdq_hash,
        "fast": pdq_hash_fast,
        "fast_queries": lambda data: pdq_query_hashes(data, fast=True),
    }
    rates = throughput(blobs, hashers, repeats)
    hma, reference, fast = rates["hma"], rates["reference"], rates["fast"]
    drift = [hamming(pdq_hash(b).hash, pdq_hash_fast(b).hash) for b in blobs]
    return {
        "jpegs": len(blobs),
        "median_megapixels": round(statistics.median(w * h for w, h in sizes) / 1e6, 2),
        "repeats": repeats,
        "images_per_s": {"hma": round(hma, 1), "takedown_reference": round(reference, 1),
                         "takedown_fast": round(fast, 1),
                         "takedown_fast_all_query_variants": round(rates["fast_queries"], 1)},
        "speedup_vs_hma": {"takedown_reference": round(reference / hma, 2),
                           "takedown_fast": round(fast / hma, 2)},
        "fast_drift_bits_3mp": {"median": statistics.median(drift), "max": max(drift)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--count", type=int, default=24, help="how many 3 MP JPEGs to time")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-check", action="store_true", help="only time the hashers")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no image directory at {args.data}", file=sys.stderr)
        return 2
    result: dict[str, object] = {}
    if not args.skip_check:
        result["reference_check"] = reference_check(args.data)
    result["throughput"] = speed(args.data, args.count, args.repeats)
    print(json.dumps(result, indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
