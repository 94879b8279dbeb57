"""PDQ: bit-identical to Meta's C++ (pdqhash) and HMA's hasher, modes, EXIF, variants, errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import InvalidInput, PayloadTooLarge
from takedown.signals.imaging import remove_caption, to_rgb
from takedown.signals.pdq import (
    PDQ_MATCH_THRESHOLD,
    PdqSignal,
    bits_to_hex,
    hamming,
    pdq_dihedral,
    pdq_from_pixels,
    pdq_hash,
    pdq_hash_fast,
    pdq_query_hashes,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signals"
PHOTOS = ["bridge-512.jpg", "bridge-128.jpg", "q0746.jpg", "q1050.jpg", "coins.png"]


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def meta_reference(image: Image.Image) -> str:
    bits, _ = pdqhash.compute(np.asarray(image.convert("RGB")))
    return bits_to_hex(bits)


@pytest.mark.parametrize("name", PHOTOS)
def test_identical_to_meta_cpp_and_hma(name: str) -> None:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

    data = read(name)
    ours = pdq_hash(data)
    assert ours.hash == meta_reference(Image.open(io.BytesIO(data)))
    assert (ours.hash, ours.quality) == pdq_from_bytes(data)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "PA", "RGBA", "CMYK", "YCbCr", "HSV",
                                  "I", "F", "I;16"])
def test_every_pillow_mode_hashes_like_its_rgb_rendering(mode: str) -> None:
    photo = Image.open(FIXTURES / "bridge-512.jpg")
    converted = photo.convert("L").convert(mode) if mode == "I;16" else photo.convert(mode)
    rgb_hash = pdq_hash(encode(photo)).hash
    stored = storable(converted)
    if stored is not None:
        item = make_submission(item_id="m", kind=ContentKind.IMAGE, content=stored)
        value = PdqSignal().extract(item)[0].value
    else:
        value = pdq_from_pixels(np.asarray(to_rgb(converted))).hash
    if mode in ("I", "F", "I;16"):
        assert hamming(value, pdq_hash(encode(photo.convert("L"))).hash) <= 4
    else:
        assert value == meta_reference(converted)
    if mode not in ("1", "HSV"):
        assert hamming(value, rgb_hash) <= 20


def storable(image: Image.Image) -> bytes | None:
    for fmt in ("TIFF", "PNG"):
        try:
            return encode(image, fmt)
        except (OSError, ValueError, KeyError):
            continue
    return None


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    grey = np.asarray(Image.open(FIXTURES / "coins.png").convert("L"), dtype=np.uint16)
    wide = Image.fromarray((grey * 257).astype("<u2"))
    assert wide.mode.startswith("I;16")
    assert pdq_hash(encode(wide)).hash == pdq_hash(encode(Image.fromarray(grey.astype(np.uint8))))\
        .hash


def test_exif_orientation_is_applied() -> None:
    photo = Image.open(FIXTURES / "bridge-512.jpg").convert("RGB").crop((0, 0, 512, 300))
    stored = photo.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated_file = encode(stored, "PNG", exif=exif.tobytes())
    assert ImageOps.exif_transpose(Image.open(io.BytesIO(rotated_file))).size == photo.size
    assert pdq_hash(rotated_file).hash == pdq_hash(encode(photo)).hash


def test_low_quality_is_flagged_not_dropped() -> None:
    flat = encode(Image.new("RGB", (200, 200), (120, 120, 120)))
    signals = PdqSignal().extract(make_submission(item_id="f", kind=ContentKind.IMAGE,
                                                  content=flat))
    assert len(signals) == 1
    assert signals[0].meta["quality"] < 50 and signals[0].meta["low_quality"] is True
    photo = PdqSignal().extract(make_submission(item_id="p", kind=ContentKind.IMAGE,
                                                content=read("bridge-512.jpg")))[0]
    assert photo.meta["low_quality"] is False and photo.meta["quality"] >= 50


@pytest.mark.parametrize("transpose", list(Image.Transpose))
def test_rotated_and_mirrored_copies_match_through_query_hashes(transpose: Image.Transpose) \
        -> None:
    photo = Image.open(FIXTURES / "bridge-512.jpg").convert("RGB")
    bank_hash = pdq_hash(encode(photo)).hash
    copy = encode(photo.transpose(transpose))
    assert min(hamming(q, bank_hash) for q in pdq_query_hashes(copy, fast=False)) == 0
    assert min(hamming(q, bank_hash) for q in pdq_query_hashes(copy, fast=True)) <= 16


def test_dihedral_one_pass_matches_plain_hash_first() -> None:
    data = read("q1050.jpg")
    variants = pdq_dihedral(data)
    assert len(variants) == 8 and variants[0] == pdq_hash(data)
    assert len({v.hash for v in variants}) == 8


def test_uniform_border_is_trimmed_for_matching() -> None:
    photo = Image.open(FIXTURES / "bridge-512.jpg").convert("RGB")
    bank_hash = pdq_hash(encode(photo)).hash
    framed = encode(ImageOps.expand(photo, border=60, fill=(255, 255, 255)))
    assert hamming(pdq_hash(framed).hash, bank_hash) > PDQ_MATCH_THRESHOLD
    assert min(hamming(q, bank_hash) for q in pdq_query_hashes(framed)) <= PDQ_MATCH_THRESHOLD


def meme_caption(photo: Image.Image, text: str = "SHARE THIS BEFORE IT IS DELETED") -> bytes:
    """White text with a black outline across the top, 90% of the width (a meme caption)."""
    out = photo.copy()
    draw = ImageDraw.Draw(out)
    size = photo.height // 12
    font = ImageFont.load_default(size=size)
    font = ImageFont.load_default(size=int(size * photo.width * 0.9 / draw.textlength(text,
                                                                                       font=font)))
    x = (photo.width - draw.textlength(text, font=font)) / 2
    draw.text((x, photo.height * 0.03), text, font=font, fill="white", stroke_width=1,
              stroke_fill="black")
    return encode(out)


def test_caption_text_is_painted_out_for_matching() -> None:
    photo = Image.open(FIXTURES / "q0746.jpg").convert("RGB")
    bank_hash = pdq_hash(encode(photo)).hash
    data = meme_caption(photo)
    assert hamming(pdq_hash(data).hash, bank_hash) > PDQ_MATCH_THRESHOLD
    for fast in (False, True):
        queries = pdq_query_hashes(data, fast=fast)
        assert min(hamming(q, bank_hash) for q in queries) <= PDQ_MATCH_THRESHOLD
    assert remove_caption(np.asarray(photo)) is None


def test_unrelated_photos_do_not_match() -> None:
    a = pdq_query_hashes(read("q0746.jpg"), fast=False)
    b = pdq_hash(read("bridge-512.jpg")).hash
    assert min(hamming(q, b) for q in a) > PDQ_MATCH_THRESHOLD


@pytest.mark.parametrize("name", PHOTOS)
def test_fast_path_drifts_little_and_is_not_the_default(name: str) -> None:
    data = read(name)
    assert hamming(pdq_hash_fast(data).hash, pdq_hash(data).hash) <= PDQ_MATCH_THRESHOLD // 2
    value = PdqSignal().extract(make_submission(item_id="x", kind=ContentKind.IMAGE,
                                                content=data))[0].value
    assert value == pdq_hash(data).hash


def test_large_jpeg_fast_path_stays_within_threshold() -> None:
    photo = Image.open(FIXTURES / "bridge-512.jpg").convert("RGB").resize((2000, 1500))
    data = encode(photo, "JPEG", quality=90)
    assert hamming(pdq_hash_fast(data).hash, pdq_hash(data).hash) <= PDQ_MATCH_THRESHOLD


@pytest.mark.parametrize("blob", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_bad_input_is_invalid_input(blob: bytes) -> None:
    with pytest.raises(InvalidInput):
        pdq_hash(blob)


def test_truncated_jpeg_is_invalid_input() -> None:
    data = read("bridge-512.jpg")
    with pytest.raises(InvalidInput):
        pdq_hash(data[: len(data) // 3])


@pytest.mark.parametrize("bad", ["", "xyz", "0" * 63, "g" * 64])
def test_hamming_rejects_malformed_hashes(bad: str) -> None:
    with pytest.raises(InvalidInput):
        hamming(bad, "0" * 64)


def test_hamming_counts_bits() -> None:
    assert hamming("0" * 64, "f" + "0" * 63) == 4
    assert hamming("F" * 64, "f" * 64) == 0


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims the given size (pixels are never decoded in these tests)."""
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    data = zlib.compress(b"\x00" * 2)
    idat = struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(
        b"IDAT" + data))
    end = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + end


@pytest.mark.parametrize("side", [11_000, 20_000])
def test_decompression_bombs_are_refused_before_decoding(side: int) -> None:
    with pytest.raises(PayloadTooLarge):
        pdq_hash(png_claiming(side, side))
