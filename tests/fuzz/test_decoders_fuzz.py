"""Property and fuzz tests on every decoder that reads untrusted bytes: image and video signal
extraction and the bounded JSON decoder. Each input either decodes or raises InvalidInput (a
clear, recorded error), never anything else, and each stays within a time and memory bound."""

from __future__ import annotations

import contextlib
import io
import json
import resource
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from takedown.core import jsonsafe
from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import InvalidInput
from takedown.signals.registry import default_registry
from takedown_testing import need_module

REGISTRY = default_registry()
SECONDS_PER_INPUT = 30.0
"""Generous on purpose (a loaded CI machine): the bound catches hangs, not slowness. One byte
flipped in a 96x64 JPEG's header makes it 96x20800 pixels, which full-resolution PDQ took ~6 s
to hash on a loaded 2-core machine; decoding at a bounded size makes that milliseconds."""
MAX_RSS_GROWTH_MB = 400

MAGIC = {
    "png": b"\x89PNG\r\n\x1a\n",
    "jpeg": b"\xff\xd8\xff\xe0",
    "gif": b"GIF89a",
    "webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "bmp": b"BM",
    "tiff": b"II*\x00",
    "mp4": b"\x00\x00\x00\x18ftypmp42",
}

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _picture(fmt: str) -> bytes:
    image = Image.new("RGB", (96, 64), (10, 120, 200))
    for x in range(0, 96, 8):
        image.paste((x * 2, 255 - x, 40), (x, 0, x + 4, 64))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


PNG = _picture("PNG")
JPEG = _picture("JPEG")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _extract_all(kind: ContentKind, data: bytes) -> None:
    """Run every signal type that reads `kind`; each may succeed or refuse with InvalidInput."""
    submission = make_submission(item_id="fuzz", kind=kind, content=data)
    for signal_type in REGISTRY:
        if kind not in signal_type.kinds:
            continue
        with contextlib.suppress(InvalidInput):
            signal_type.extract(submission)


def _bounded(run: Callable[[], Any]) -> None:
    start, rss = time.monotonic(), _rss_mb()
    run()
    assert time.monotonic() - start < SECONDS_PER_INPUT
    assert _rss_mb() - rss < MAX_RSS_GROWTH_MB


@FUZZ
@given(magic=st.sampled_from(sorted(MAGIC)), tail=st.binary(min_size=0, max_size=2048))
def test_random_bytes_behind_any_magic_number_are_refused_cleanly(magic: str, tail: bytes) -> None:
    _bounded(lambda: _extract_all(ContentKind.IMAGE, MAGIC[magic] + tail))


@FUZZ
@given(source=st.sampled_from(["png", "jpeg"]), cut=st.floats(min_value=0.0, max_value=0.999))
def test_truncated_images_are_refused_cleanly(source: str, cut: float) -> None:
    data = PNG if source == "png" else JPEG
    _bounded(lambda: _extract_all(ContentKind.IMAGE, data[: max(1, int(len(data) * cut))]))


@FUZZ
@given(
    source=st.sampled_from(["png", "jpeg"]),
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=8
    ),
)
def test_corrupted_images_are_refused_or_hashed(
    source: str, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(PNG if source == "png" else JPEG)
    for position, mask in flips:
        data[position % len(data)] ^= mask
    _bounded(lambda: _extract_all(ContentKind.IMAGE, bytes(data)))


def _png_header_only(width: int, height: int) -> bytes:
    """A pixel bomb: a valid PNG header declaring a huge image, with one tiny compressed row."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        MAGIC["png"]
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (1, 2**31 - 1), (65_535, 65_535)])
def test_pixel_bombs_over_the_cap_are_refused_from_the_header(width: int, height: int) -> None:
    bomb = _png_header_only(width, height)
    start = time.monotonic()
    with pytest.raises(InvalidInput, match="pixels"):
        submission = make_submission(item_id="bomb", kind=ContentKind.IMAGE, content=bomb)
        REGISTRY.get("pdq").extract(submission)
    assert time.monotonic() - start < 1.0


def test_a_truncated_bomb_under_the_cap_is_refused_not_decoded_forever() -> None:
    _bounded(lambda: _extract_all(ContentKind.IMAGE, _png_header_only(4_000, 4_000)))


@pytest.mark.parametrize(
    "data",
    [PNG, MAGIC["mp4"] + b"\0" * 512, b"\x1aE\xdf\xa3" + bytes(range(256)) * 4, b"not a video"],
    ids=["image bytes as video", "truncated mp4", "corrupt matroska", "text"],
)
def test_corrupt_video_is_refused_or_hashed_cleanly(data: bytes) -> None:
    """FFmpeg reads a still image as a one-frame video, so that one may hash; none may crash."""
    need_module("vpdq", "pip install '.[video]'")
    _bounded(lambda: _extract_all(ContentKind.VIDEO, data))


@FUZZ
@given(tail=st.binary(max_size=1024))
def test_random_bytes_as_video_are_refused_cleanly(tail: bytes) -> None:
    need_module("vpdq", "pip install '.[video]'")
    _bounded(lambda: _extract_all(ContentKind.VIDEO, MAGIC["mp4"] + tail))


@FUZZ
@given(raw=st.binary(max_size=512))
def test_the_json_decoder_either_decodes_or_says_why(raw: bytes) -> None:
    try:
        jsonsafe.loads(raw)
    except InvalidInput as error:
        assert error.message


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(codec=None), max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@FUZZ
@given(value=JSON_VALUES)
def test_valid_json_round_trips_unless_it_holds_what_a_database_cannot_store(value: Any) -> None:
    raw = json.dumps(value)
    try:
        assert jsonsafe.loads(raw) == value
    except InvalidInput as error:
        assert any(word in error.message for word in ("NUL", "surrogate", "64-bit", "nested"))


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_deep_json_is_refused_in_bounded_time(depth: int) -> None:
    start = time.monotonic()
    with pytest.raises(InvalidInput, match="nested"):
        jsonsafe.loads("[" * depth + "]" * depth)
    assert time.monotonic() - start < 1.0
