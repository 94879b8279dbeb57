"""vPDQ: Meta's video hash, a PDQ hash per sampled frame, via the `vpdq` library (Meta's C++).

A video matches another when enough of its distinct, good-quality frames find a frame within
PDQ distance 31 in the other, measured both ways as the reference matcher does: the *query
match %* (share of the query's frames found in the other video) and the *compared match %*
(share of the other's frames found in the query). A longer upload that contains a banked clip
has a low query % and a high compared %; a short excerpt of a banked video the reverse.

Letterbox and pillarbox bars: when a video has stable bars, `extract` adds the frame hashes of
the bar-free picture as a second *query* form (`meta["query_hashes"]`, signals/video_frames.py);
the value itself stays the reference hash.

Signal values use HMA's serialisation (a JSON list of "pdq_hex,quality,timestamp"), so vPDQ
hashes import from and export to HMA / ThreatExchange unchanged.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.errors import InvalidInput, Unavailable
from takedown.core.signals import Signal
from takedown.signals.pdq import PDQ_MATCH_THRESHOLD, validate_pdq_hex

VPDQ_QUALITY_THRESHOLD = 50
VPDQ_DISTANCE_THRESHOLD = PDQ_MATCH_THRESHOLD
VPDQ_MATCH_PERCENT = 80.0
"""Default: a match when either direction reaches 80% (HMA requires query ≥ 80%, compared ≥ 0%;
taking the larger of the two also catches a banked clip inside a longer upload)."""
SECONDS_PER_HASH = 1.0
"""HMA's sampling rate: one frame hash per second of video."""

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass(frozen=True)
class FrameHash:
    """One sampled frame: its PDQ hash, quality (0–100) and time in seconds."""

    pdq_hex: str
    quality: int
    timestamp: float

    def __str__(self) -> str:
        return f"{self.pdq_hex},{self.quality},{self.timestamp:.3f}"


@dataclass(frozen=True)
class VideoMatch:
    """Percentages of distinct good frames matched, each way."""

    query_percent: float
    compared_percent: float

    def is_match(self, threshold: float = VPDQ_MATCH_PERCENT) -> bool:
        return max(self.query_percent, self.compared_percent) >= threshold

    @property
    def distance(self) -> int:
        """100 minus the better direction's percentage, rounded: 0 = every frame matched."""
        return round(100.0 - max(self.query_percent, self.compared_percent))


def hash_video_file(path: str, *, seconds_per_hash: float = SECONDS_PER_HASH) -> list[FrameHash]:
    """Frame hashes of a video file (`seconds_per_hash=0` hashes every frame)."""
    try:
        import vpdq
    except ImportError:  # pragma: no cover - the wheel needs ffmpeg's libraries
        raise Unavailable("vPDQ is not installed", hint="pip install vpdq (needs ffmpeg)") from None
    try:
        features = vpdq.computeHash(str(path), seconds_per_hash=seconds_per_hash)
    except Exception as error:  # vpdq raises bare Exception for undecodable input
        raise InvalidInput("not a readable video", hint=str(error)[:200]) from None
    if not features:
        raise InvalidInput("video has no decodable frames")
    return [FrameHash(f.hex, int(f.quality), round(float(f.timestamp), 3)) for f in features]


def hash_video_bytes(data: bytes, *, seconds_per_hash: float = SECONDS_PER_HASH) -> list[FrameHash]:
    """The library reads files only, so the bytes go through a private temporary file."""
    if not data:
        raise InvalidInput("empty video")
    handle, path = tempfile.mkstemp(prefix="takedown-vpdq-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return hash_video_file(path, seconds_per_hash=seconds_per_hash)
    finally:
        os.unlink(path)


def features_to_value(features: Iterable[FrameHash]) -> str:
    """HMA's vPDQ serialisation."""
    return json.dumps([str(f) for f in features], separators=(",", ":"))


def value_to_features(value: str) -> list[FrameHash]:
    """Parse HMA's serialisation; bad input raises InvalidInput."""
    try:
        items = json.loads(value or "[]")
    except json.JSONDecodeError:
        raise InvalidInput("a vPDQ value is a JSON list of 'hex,quality,timestamp'") from None
    if not isinstance(items, list):
        raise InvalidInput("a vPDQ value is a JSON list of 'hex,quality,timestamp'")
    return [_parse_frame(str(item)) for item in items]


def _parse_frame(text: str) -> FrameHash:
    parts = text.split(",")
    try:
        pdq_hex, quality, timestamp = parts
        frame = FrameHash(validate_pdq_hex(pdq_hex), int(quality), float(timestamp))
    except ValueError:
        raise InvalidInput(f"bad vPDQ frame {text[:90]!r}", hint="hex,quality,timestamp") from None
    if not 0 <= frame.quality <= 100 or frame.timestamp < 0:
        raise InvalidInput(f"bad vPDQ frame {text[:90]!r}", hint="quality 0–100, time ≥ 0")
    return frame


def read_reference_file(text: str) -> list[FrameHash]:
    """Meta's sample-hash format: one 'frame_number,quality,pdq_hex,timestamp' per line."""
    frames = []
    for line in text.splitlines():
        if line.strip():
            _number, quality, pdq_hex, timestamp = line.strip().split(",")
            frames.append(FrameHash(validate_pdq_hex(pdq_hex), int(quality), float(timestamp)))
    return frames


def _distinct_good(features: Sequence[FrameHash], quality: int) -> np.ndarray:
    """Deduplicated (by hash), quality-filtered frames as an N x 32 byte matrix."""
    keep = dict.fromkeys(f.pdq_hex for f in features if f.quality >= quality)
    if not keep:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(keep)), dtype=np.uint8).reshape(-1, 32)


def _matched_rows(a: np.ndarray, b: np.ndarray, distance: int) -> int:
    """How many rows of `a` have some row of `b` within `distance` bits (chunked brute force)."""
    count = 0
    for start in range(0, len(a), 256):
        block = a[start : start + 256]
        bits = _POPCOUNT[block[:, np.newaxis, :] ^ b[np.newaxis, :, :]].sum(axis=2, dtype=np.int32)
        count += int((bits.min(axis=1) <= distance).sum())
    return count


def match_videos(
    query: Sequence[FrameHash],
    compared: Sequence[FrameHash],
    *,
    distance: int = VPDQ_DISTANCE_THRESHOLD,
    quality: int = VPDQ_QUALITY_THRESHOLD,
) -> VideoMatch:
    """Reference-equivalent brute-force match (threatexchange `match_VPDQ_hash_brute`)."""
    a, b = _distinct_good(query, quality), _distinct_good(compared, quality)
    if len(a) == 0 or len(b) == 0:
        return VideoMatch(0.0, 0.0)
    return VideoMatch(
        100.0 * _matched_rows(a, b, distance) / len(a),
        100.0 * _matched_rows(b, a, distance) / len(b),
    )


class VpdqSignal:
    """The `vpdq` signal type: value is HMA's frame-hash list; meta has counts and quality."""

    name = "vpdq"
    kinds = frozenset({ContentKind.VIDEO})
    threshold = 100 - round(VPDQ_MATCH_PERCENT)

    def extract(self, submission: Submission) -> Sequence[Signal]:
        if not submission.content:
            return []
        frames = hash_video_bytes(submission.content)
        good = [f for f in frames if f.quality >= VPDQ_QUALITY_THRESHOLD]
        value = features_to_value(frames)
        meta: dict[str, object] = {
            "frames": len(frames),
            "good_frames": len(good),
            "low_quality": not good,
            "seconds_per_hash": SECONDS_PER_HASH,
            "duration_s": frames[-1].timestamp if frames else 0.0,
        }
        trimmed = _trimmed(submission.content)
        if trimmed:
            # Letterboxed/pillarboxed: also look up the bar-free frames (query only; the value
            # stays Meta's reference hash). See signals/video_frames.py.
            meta["query_hashes"] = [value, features_to_value(trimmed)]
            meta["bars_trimmed"] = True
        return [Signal(self.name, value, meta)]

    def compare(self, a: str, b: str) -> int:
        return match_videos(value_to_features(a), value_to_features(b)).distance

    def examples(self) -> Sequence[tuple[Submission, str]]:
        item = make_submission(item_id="ex-vpdq", kind=ContentKind.VIDEO, content=example_video())
        return [(item, EXAMPLE_VPDQ)]


def _trimmed(data: bytes) -> list[FrameHash] | None:
    from takedown.signals.video_frames import trimmed_frame_hashes_bytes

    return trimmed_frame_hashes_bytes(data, SECONDS_PER_HASH)


def example_video() -> bytes:
    """A deterministic 4-second, 1 fps greyscale animated GIF (libav decodes GIF as video)."""
    y, x = np.mgrid[0:64, 0:96]
    patterns = [(x // (8 + 4 * k) + y // 16) % 2 * 180 + x * 60 // 95 + 10 for k in range(4)]
    frames = [Image.fromarray(p.astype(np.uint8)) for p in patterns]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=1000)
    return buffer.getvalue()


EXAMPLE_VPDQ = (
    '["a5658df75ae1275dbb52fa823261f228f54aa75d1a2b0f55f54a58a2854ef082,100,0.000","b565827f1aa'
    'a80552b75df0a3655df82f74d80df52aa007569157daa2545fd80,100,1.000","b5a3d4b709aaf635cac5a1ea'
    '72550bc2b591f6bf16aadc154a5421eac555a3c0,100,2.000","a5553d4f19c53d4fc3aac2b03243c2b0d5553'
    'd4fd7b83d4fadaac2b0454ec2b0,100,3.000"]'
)
"""vPDQ of `example_video()`, computed once with `vpdq.computeHash(seconds_per_hash=1)`."""
