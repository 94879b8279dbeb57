"""Decoding untrusted image bytes into the pixel arrays that perceptual hashes read.

Two decoders, on purpose:

* `decode_rgb` is the *reference* decoder: full resolution, EXIF orientation applied, every
  Pillow mode mapped to 8-bit RGB. PDQ of its output is what banks store and what other
  companies receive, so it must never change silently.
* `decode_luma_fast` is the *matching* decoder: JPEGs are decoded straight to greyscale at a
  reduced DCT scale (Pillow's `draft`), other formats are box-reduced after decoding. PDQ reads
  only luma through a 64x64 Jarosz filter, so the drift is small (measured in bench/hashing.py),
  but it is not bit-identical, so its hashes are only ever used to query, never to share.

* `decode_rgb_bounded` is the *bounded* decoder for the pipeline's big images: at most
  `BOUNDED_SIDE` pixels on the longer side (JPEG scaled inside the decoder with `draft`, other
  formats reduced right after decoding with `thumbnail(reducing_gap=...)`), so a 100-megapixel
  upload costs one decode and then only a 512-px picture's work.

`trim_uniform_border` removes solid frames (padding, letterbox bars) that shift PDQ's grid.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from takedown.core.errors import InvalidInput, PayloadTooLarge

MAX_PIXELS = 120_000_000
"""Our decompression-bomb limit (Pillow warns from 89 MP and refuses from 179 MP), so 100 MP
camera images still hash; checked from the header before any pixel is decoded."""

FAST_MIN_SIDE = 256
"""Fast JPEG decodes keep the shorter side at least this long (PDQ filters down to 64)."""
FAST_REDUCE_SIDE = 512
"""Other formats are box-reduced only above twice this; reducing further drifts more."""

BOUNDED_SIDE = 512
"""Longer side of the bounded decode: PDQ filters down to 64x64, so 512 px is plenty."""
REFERENCE_MAX_PIXELS = 4_000_000
"""Images up to this many pixels are hashed from the full-resolution reference decode (the
hash banks and partners use, bit-exact); larger ones from the bounded decode."""

_SIXTEEN_BIT = {"I;16", "I;16B", "I;16L", "I;16N"}
_WIDE = {"I", "F"}


def open_image(data: bytes) -> Image.Image:
    """Open (lazily) and sanity-check untrusted bytes; bad input raises InvalidInput."""
    if not data:
        raise InvalidInput("empty image", hint="send the image file's bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
    except Image.DecompressionBombError as error:
        raise PayloadTooLarge("image has too many pixels", hint=str(error)[:200]) from None
    except UnidentifiedImageError:
        raise InvalidInput(
            "not a readable image", hint="supported: JPEG, PNG, GIF, WebP, BMP, TIFF"
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise InvalidInput("corrupt image", hint=str(error)[:200]) from None
    if width <= 0 or height <= 0:
        raise InvalidInput("image has no pixels")
    if width * height > MAX_PIXELS:
        raise PayloadTooLarge(
            f"image is {width}x{height} pixels", hint=f"at most {MAX_PIXELS} pixels"
        )
    return image


def _load(image: Image.Image) -> Image.Image:
    """Decode pixels and apply EXIF orientation; truncated files raise InvalidInput."""
    try:
        image.load()
        return ImageOps.exif_transpose(image) or image
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise InvalidInput("corrupt or truncated image", hint=str(error)[:200]) from None


def _wide_to_l(image: Image.Image) -> Image.Image:
    """16/32-bit grey and float images → 8 bits. Pillow clips at 255; we scale 16-bit ranges
    (÷257), keep data that already fits in 0–255, and stretch anything else to 0–255."""
    array = np.asarray(image, dtype=np.float64)
    top = float(np.nanmax(array)) if array.size else 0.0
    low = min(0.0, float(np.nanmin(array))) if array.size else 0.0
    if image.mode == "F" and top <= 1.0 and low >= 0.0:
        scaled = array * 255.0
    elif top <= 255.0 and low >= 0.0:
        scaled = array
    elif image.mode in _SIXTEEN_BIT or (low >= 0.0 and top <= 65535.0):
        scaled = array / 257.0
    else:
        span = (top - low) or 1.0
        scaled = (array - low) * (255.0 / span)
    clean = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(np.rint(clean), 0, 255).astype(np.uint8), mode="L")


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode → 8-bit RGB. Alpha is dropped (as HMA does), palettes are expanded."""
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT or image.mode in _WIDE:
        return _wide_to_l(image).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("La", "RGBa"):
        image = image.convert("RGBA" if image.mode == "RGBa" else "LA")
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as error:
        raise InvalidInput(f"unsupported image mode {image.mode}", hint=str(error)) from None


def to_l(image: Image.Image) -> Image.Image:
    """Any Pillow mode → 8-bit luma (ITU-R 601 weights, the same PDQ uses)."""
    if image.mode == "L":
        return image
    if image.mode in _SIXTEEN_BIT or image.mode in _WIDE:
        return _wide_to_l(image)
    return to_rgb(image).convert("L")


def decode_rgb(data: bytes) -> np.ndarray:
    """Reference decode: full-resolution, oriented HxWx3 uint8 array."""
    image = to_rgb(_load(open_image(data)))
    return np.asarray(image, dtype=np.uint8)


def decode_rgb_bounded(
    data: bytes, max_side: int = BOUNDED_SIDE
) -> tuple[np.ndarray, tuple[int, int]]:
    """Bounded decode: oriented RGB with the longer side at most `max_side`, and the file's own
    (width, height). Reduction happens before orientation and mode conversion, so no
    full-size copy is made beyond the decoder's own buffer."""
    image = open_image(data)
    original_size = image.size
    if image.format == "JPEG":
        with contextlib.suppress(OSError, ValueError):
            image.draft("RGB", (max_side, max_side))
    try:
        image.load()
        if image.mode not in ("L", "RGB", "RGBA", "LA", "I", "F", "I;16"):
            image = to_rgb(image)
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
        image = ImageOps.exif_transpose(image) or image
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise InvalidInput("corrupt or truncated image", hint=str(error)[:200]) from None
    return np.asarray(to_rgb(image), dtype=np.uint8), original_size


def decode_luma_fast(data: bytes, min_side: int = FAST_MIN_SIDE) -> np.ndarray:
    """Matching-only decode: oriented HxW uint8 luma, shorter side ≥ `min_side` when possible."""
    return decode_luma_fast_sized(data, min_side)[0]


def decode_luma_fast_sized(
    data: bytes, min_side: int = FAST_MIN_SIDE
) -> tuple[np.ndarray, tuple[int, int]]:
    """`decode_luma_fast` and the file's own (width, height) before any reduction.

    JPEGs are scaled inside the decoder (1/2, 1/4 or 1/8 of the DCT) and decoded as Y only,
    which skips most of the work; Y uses the same 601 weights as PDQ's luma.
    """
    image = open_image(data)
    original_size = image.size
    is_jpeg = image.format == "JPEG"
    if is_jpeg:
        draft_mode = "L" if image.mode in ("RGB", "YCbCr", "L") else image.mode
        scale = max(1, min(image.size) // min_side)
        target = (max(1, image.size[0] // scale), max(1, image.size[1] // scale))
        with contextlib.suppress(OSError, ValueError):
            image.draft(draft_mode, target)
    image = to_l(_load(image))
    factor = min(image.size) // (min_side if is_jpeg else max(min_side, FAST_REDUCE_SIDE))
    if factor >= 2:
        image = image.reduce(factor)
    return np.asarray(image, dtype=np.uint8), original_size


def luma_of(rgb: np.ndarray) -> np.ndarray:
    """Float luma with PDQ's weights, for border detection on RGB arrays."""
    if rgb.ndim == 2:
        return rgb.astype(np.float32)
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


def border_box(
    pixels: np.ndarray, *, tolerance: float = 12.0, max_fraction: float = 0.4
) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the content inside a uniform border, or None if none.

    A row or column belongs to the border while it stays within `tolerance` of the corner colour
    (per channel, 99% of its pixels, so JPEG noise does not stop the scan). At most
    `max_fraction` of each dimension is removed, so a mostly uniform picture is left alone.
    """
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    height, width = pixels.shape[:2]
    if height < 16 or width < 16:
        return None
    work = pixels.astype(np.int16)
    corners = np.stack([work[0, 0], work[0, -1], work[-1, 0], work[-1, -1]])
    colour = np.median(corners, axis=0)
    close = np.all(np.abs(work - colour) <= tolerance, axis=2)
    row_uniform = close.mean(axis=1) >= 0.99
    col_uniform = close.mean(axis=0) >= 0.99
    limit_r, limit_c = int(height * max_fraction), int(width * max_fraction)

    def run(flags: np.ndarray, limit: int) -> int:
        count = 0
        while count < limit and flags[count]:
            count += 1
        return count

    top = run(row_uniform, limit_r)
    bottom = run(row_uniform[::-1], limit_r)
    left = run(col_uniform, limit_c)
    right = run(col_uniform[::-1], limit_c)
    if max(top, bottom, left, right) < 2:
        return None
    box = (top, height - bottom, left, width - right)
    if box[1] - box[0] < 16 or box[3] - box[2] < 16:
        return None
    return box


def trim_uniform_border(pixels: np.ndarray, **kwargs: float) -> np.ndarray | None:
    """The array without its uniform border, or None when there is no border to remove."""
    box = border_box(pixels, **kwargs)
    if box is None:
        return None
    top, bottom, left, right = box
    return np.ascontiguousarray(pixels[top:bottom, left:right])


def _box_sum(values: np.ndarray, size: int) -> np.ndarray:
    """Sum over a size x size window centred on each pixel (zero outside), via integral image."""
    pad = size // 2
    padded = np.pad(values, ((pad + 1, pad), (pad + 1, pad)))
    integral = padded.cumsum(axis=0).cumsum(axis=1)
    total: np.ndarray = (integral[size:, size:] - integral[:-size, size:]
                         - integral[size:, :-size] + integral[:-size, :-size])
    return total


def remove_caption(
    pixels: np.ndarray, *, band: float = 0.3, light: int = 235, dark: int = 25
) -> np.ndarray | None:
    """The picture with meme-style caption text (white letters, black outline, in the top or
    bottom `band`) painted over from its surroundings, or None if no such text is found.

    Rows whose pixels are both ≥ 2% near-white and ≥ 2% near-black are text rows; their
    white/black pixels (slightly widened) are replaced by a normalised box blur of the rest,
    which brings PDQ back within ~20 bits of the uncaptioned original for most pictures.
    """
    work = pixels.astype(np.float32)
    if work.ndim == 2:
        work = work[..., np.newaxis]
    height, width = work.shape[:2]
    if height < 32 or width < 32:
        return None
    lows, highs = work.min(axis=2), work.max(axis=2)
    white, black = lows >= light, highs <= dark
    rows = (white.mean(axis=1) >= 0.02) & (black.mean(axis=1) >= 0.02)
    edge = np.zeros(height, dtype=bool)
    edge[: int(height * band)] = True
    edge[height - int(height * band) :] = True
    rows &= edge
    if rows.sum() < 3:
        return None
    grow = max(1, height // 100)
    rows = np.convolve(rows.astype(np.float32), np.ones(2 * grow + 1), mode="same") > 0
    mask = (white | black) & rows[:, np.newaxis]
    mask = _box_sum(mask.astype(np.float32), 5) > 0
    keep = (~mask).astype(np.float32)
    size = max(5, height // 8) | 1
    weight = np.maximum(_box_sum(keep, size), 1e-3)
    out = work.copy()
    for channel in range(work.shape[2]):
        filled = _box_sum(work[..., channel] * keep, size) / weight
        out[..., channel] = np.where(mask, filled, work[..., channel])
    result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return result[..., 0] if pixels.ndim == 2 else result
