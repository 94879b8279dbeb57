"""PDQ, Meta's 256-bit perceptual image hash, computed by Meta's own C++ (`pdqhash`).

The default API is the *reference* path: `pdq_hash(data)` decodes at full resolution and returns
exactly what Meta's reference and HMA compute for the same RGB pixels, so hashes can go into
banks and to other companies. `pdq_hash_fast` is a separate, named function for matching only:
it decodes JPEGs at a reduced DCT scale and hashes luma directly, which is many times faster and
drifts by a few bits at most (bench/hashing.py measures it); its hashes must not be shared.

Matching looks up several hashes per query (`pdq_query_hashes`): the eight rotations/mirrors,
a 2x upscale of small pictures, the picture with meme-style caption text painted out and, when
it sits inside a uniform frame, the eight of the trimmed picture, so rotated, mirrored, shrunk,
captioned and padded copies still match. PDQ can compute eight dihedral hashes in one pass
(`pdq_dihedral`), but its box filter is asymmetric, so those drift ~10 bits from the hash of
truly rotated pixels; the query variants are hashed from transformed pixels instead.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image

from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.errors import InvalidInput
from takedown.core.signals import Signal
from takedown.signals.imaging import (
    REFERENCE_MAX_PIXELS,
    decode_luma_fast,
    decode_luma_fast_sized,
    decode_rgb,
    decode_rgb_bounded,
    open_image,
    remove_caption,
    trim_uniform_border,
)

PDQ_HEX_LENGTH = 64
PDQ_MATCH_THRESHOLD = 31
"""Meta's recommended Hamming distance for a PDQ match (of 256 bits)."""
UPSCALE_BELOW = 512
"""Query pictures with a shorter side below this also try a 2x upscaled hash: PDQ's box filter
shrinks with the picture, so a half-size copy of a small picture drifts 30-90 bits, ~5 after."""
PDQ_QUALITY_THRESHOLD = 50
"""Below this quality Meta advises against trusting a hash (flat or tiny images)."""

DEGENERATE_BITS = (104, 152)
"""Set-bit counts outside this range mark a hash of a flat picture (`is_degenerate_pdq`)."""

DIHEDRAL_NAMES: tuple[str, ...] = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flipx",
    "flipy",
    "flip_plus1",
    "flip_minus1",
)


@dataclass(frozen=True)
class PdqHash:
    """A hash as 64 lowercase hex digits (HMA/ThreatExchange format) and its 0–100 quality."""

    hash: str
    quality: int

    @property
    def low_quality(self) -> bool:
        return self.quality < PDQ_QUALITY_THRESHOLD


def bits_to_hex(bits: np.ndarray) -> str:
    """pdqhash's 256 0/1 values (most significant first) → the canonical hex string."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def validate_pdq_hex(value: str) -> str:
    """Lowercased hash, or InvalidInput if it is not 64 hex digits."""
    text = value.strip().lower()
    if len(text) != PDQ_HEX_LENGTH:
        raise InvalidInput(f"a PDQ hash has {PDQ_HEX_LENGTH} hex digits, got {len(text)}")
    try:
        int(text, 16)
    except ValueError:
        raise InvalidInput("a PDQ hash must be hexadecimal", hint=text[:70]) from None
    return text


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex PDQ hashes."""
    return (int(validate_pdq_hex(a), 16) ^ int(validate_pdq_hex(b), 16)).bit_count()


def is_degenerate_pdq(value: str) -> bool:
    """Whether a hash, seen without its quality, comes from a flat picture.

    PDQ sets each bit by comparing a DCT coefficient with the median, so a hash of any
    textured picture has ~128 bits set (every shared test image: exactly 128). A flat picture
    has no signal to threshold and its hash is rounding noise with far fewer or more set bits
    (all zeros for black, 51-103 bits for other flat colours, measured); such a hash in a
    bank would match every flat upload, so the matcher skips it on both sides.
    """
    try:
        bits = int(value.strip(), 16).bit_count()
    except ValueError:
        return False
    return not DEGENERATE_BITS[0] <= bits <= DEGENERATE_BITS[1]


def _as_three_channels(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, np.newaxis], 3, axis=2)
    return np.ascontiguousarray(pixels, dtype=np.uint8)


def pdq_from_pixels(pixels: np.ndarray) -> PdqHash:
    """PDQ of an HxWx3 RGB (or HxW luma) uint8 array."""
    bits, quality = pdqhash.compute(_as_three_channels(pixels))
    return PdqHash(bits_to_hex(bits), int(quality))


def dihedral_from_pixels(pixels: np.ndarray) -> list[PdqHash]:
    """The eight hashes in DIHEDRAL_NAMES order; the first equals `pdq_from_pixels`."""
    vectors, quality = pdqhash.compute_dihedral(_as_three_channels(pixels))
    return [PdqHash(bits_to_hex(bits), int(quality)) for bits in vectors]


def pdq_hash(data: bytes) -> PdqHash:
    """Reference PDQ of an image file: the hash to store in banks and share with others."""
    return pdq_from_pixels(decode_rgb(data))


def pdq_hash_fast(data: bytes) -> PdqHash:
    """Fast, matching-only PDQ (reduced decode). Never store or share its output."""
    return pdq_from_pixels(decode_luma_fast(data))


def pdq_dihedral(data: bytes, *, fast: bool = False) -> list[PdqHash]:
    """The hashes of the image's 4 rotations and 4 mirrors, computed in one pass."""
    pixels = decode_luma_fast(data) if fast else decode_rgb(data)
    return dihedral_from_pixels(pixels)


def _transforms(pixels: np.ndarray) -> list[np.ndarray]:
    """The 7 non-identity rotations/mirrors, done on pixels (exact, unlike PDQ's DCT shortcut)."""
    flipped = pixels[:, ::-1]
    return [
        np.rot90(pixels, 1),
        np.rot90(pixels, 2),
        np.rot90(pixels, 3),
        flipped,
        np.rot90(flipped, 1),
        np.rot90(flipped, 2),
        np.rot90(flipped, 3),
    ]


def _for_variants(pixels: np.ndarray) -> np.ndarray:
    """Large pictures are box-reduced (shorter side ≥ 512) before hashing their 7 variants."""
    factor = min(pixels.shape[:2]) // 512
    if factor < 2:
        return pixels
    image = Image.fromarray(pixels)
    return np.asarray(image.reduce(factor), dtype=np.uint8)


def _upscaled(pixels: np.ndarray) -> np.ndarray:
    """2x bicubic: a downsized copy then meets PDQ's filter at about the original's scale."""
    image = Image.fromarray(pixels)
    return np.asarray(image.resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC))


def _variant_hashes(pixels: np.ndarray, identity: str) -> list[str]:
    base = _for_variants(pixels)
    return [identity] + [pdq_from_pixels(t).hash for t in _transforms(base)]


def query_hashes_from_pixels(
    pixels: np.ndarray,
    *,
    identity: str | None = None,
    trim: bool = True,
    uncaption: bool = True,
    shorter_side: int | None = None,
) -> list[str]:
    """Distinct hashes to look up for one picture: itself and its 7 rotations/mirrors, a 2x
    upscale of small pictures, the picture with caption text painted out, and the same 8 of
    its interior when it sits in a uniform frame.

    The variants are hashed from rotated/mirrored *pixels*: PDQ's one-pass dihedral hashes
    (`pdq_dihedral`) differ from those by ~10 bits because its box filter is not symmetric,
    which pushes textured pictures over the threshold.
    """
    first = identity or pdq_from_pixels(pixels).hash
    hashes = _variant_hashes(pixels, first)
    if (shorter_side or min(pixels.shape[:2])) < UPSCALE_BELOW:
        hashes.append(pdq_from_pixels(_upscaled(pixels)).hash)
    if uncaption:
        clean = remove_caption(_for_variants(pixels))
        if clean is not None:
            hashes.append(pdq_from_pixels(clean).hash)
    if trim:
        inner = trim_uniform_border(pixels)
        if inner is not None:
            hashes += _variant_hashes(inner, pdq_from_pixels(inner).hash)
    return list(dict.fromkeys(hashes))


def pdq_query_hashes(data: bytes, *, fast: bool = True, trim: bool = True) -> list[str]:
    """What a matcher should look up for an uploaded image (any hit within 31 is a match)."""
    if not fast:
        return query_hashes_from_pixels(decode_rgb(data), trim=trim)
    pixels, size = decode_luma_fast_sized(data)
    return query_hashes_from_pixels(pixels, trim=trim, shorter_side=min(size))


class PdqSignal:
    """The `pdq` signal type: reference hash as value; quality and query variants in meta.

    meta: `quality` (0–100), `low_quality` (quality < 50: flagged, still returned), `decode`
(`reference`, or `bounded` for pictures over 4 MP: see `extract`),
    `query_hashes` (the value itself, its 7 rotations/mirrors, a 2x upscale if small, a
    caption-free version if captioned, and 8 more of the border-trimmed picture if framed; at
    most 18) for the matcher to look up; only the value is stored or shared.
    """

    name = "pdq"
    kinds = frozenset({ContentKind.IMAGE})
    threshold = PDQ_MATCH_THRESHOLD

    def extract(self, submission: Submission) -> Sequence[Signal]:
        """Reference hash for pictures up to REFERENCE_MAX_PIXELS; above that the value comes
        from the bounded (≤ 512 px) decode and meta says `"decode": "bounded"`, so a huge
        upload cannot hold a worker for seconds or take gigabytes."""
        if not submission.content:
            return []
        width, height = open_image(submission.content).size
        decode = "reference"
        shorter: int | None = None
        if width * height <= REFERENCE_MAX_PIXELS:
            pixels = decode_rgb(submission.content)
        else:
            pixels, size = decode_rgb_bounded(submission.content)
            decode, shorter = "bounded", min(size)
        original = pdq_from_pixels(pixels)
        queries = query_hashes_from_pixels(pixels, identity=original.hash, shorter_side=shorter)
        meta = {
            "quality": original.quality,
            "low_quality": original.low_quality,
            "query_hashes": queries,
            "decode": decode,
        }
        return [Signal(self.name, original.hash, meta)]

    def compare(self, a: str, b: str) -> int:
        return hamming(a, b)


    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(item_id="ex-pdq", kind=ContentKind.IMAGE, content=example_png())
        return [(item, EXAMPLE_PDQ)]


def example_png() -> bytes:
    """A deterministic 96x64 RGB test card (checks, a gradient, a disc), encoded as PNG."""
    y, x = np.mgrid[0:64, 0:96]
    red = ((x // 12 + y // 16) % 2 * 200 + 20).astype(np.uint8)
    green = (x * 255 // 95).astype(np.uint8)
    blue = np.where((x - 60) ** 2 + (y - 30) ** 2 < 300, 230, 20).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.dstack([red, green, blue]), mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


EXAMPLE_PDQ = "5b6424dd256c80d7e492df0a989b6f207b67a4f5e46488df989c7722635bd5a0"
"""PDQ of `example_png()`, computed once with `pdqhash.compute` on Pillow's RGB decode."""
