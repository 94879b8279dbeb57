"""Frames of a video decoded by Takedown itself: bar-trimmed frame hashes and key frames.

Meta's `vpdq` decodes and hashes frames inside its C++ and cannot crop them, so a letterboxed
SD copy of an HD clip changes every frame's PDQ by far more than 31 bits (0% matched, on Meta's
own sample clips too). This module decodes frames itself (OpenCV's FFmpeg reader, one per
`seconds_per_hash`), finds bars that stay put across the sampled frames, crops them and hashes
the rest with the same PDQ. The reference vPDQ value (what banks store and hubs exchange) is
left untouched: these hashes are extra *query* forms, offered only when bars were found, so
everything Meta's reference matches still matches bit-for-bit the same way.

Logos and overlays defeat every frame's PDQ; for those, `key_frames` gives a few frames spread
over the clip (bars cropped) for the local-feature signal (`orb`) to verify one by one.

Memory stays bounded whatever the clip: frames are streamed, never all held. A 16 MB file can
hold an hour of static 4K frames (3,600 × 24 MB decoded), so bars are found in one pass that
keeps only each frame's box, and the cropped frames are hashed in a second pass.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import TypeVar

import cv2
import numpy as np

from takedown.signals.imaging import border_box
from takedown.signals.local_features import QUERY_FEATURES, FeatureSet, features_from_luma
from takedown.signals.pdq import pdq_from_pixels
from takedown.signals.vpdq import FrameHash

MAX_FRAMES = 3600
"""An hour at one frame per second: longer videos are hashed over their first hour only."""
MIN_BAR_SHARE = 0.6
"""The same bar box must be found on at least this share of sampled frames."""
BAR_JITTER_PX = 4
KEY_FRAMES = 8
"""Key frames per clip for `orb`: enough to survive cuts and overlays on some of them, few
enough that banking costs ~75 KB and a query ~0.4 s of feature extraction."""

Box = tuple[int, int, int, int]
T = TypeVar("T")


def iter_frames(path: str, seconds_per_hash: float = 1.0) -> Iterator[tuple[float, np.ndarray]]:
    """(timestamp, RGB frame), one every `seconds_per_hash` (every frame if 0), streamed."""
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            return
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, round(fps * seconds_per_hash)) if seconds_per_hash > 0 else 1
        index = sent = 0
        while sent < MAX_FRAMES and capture.grab():
            if index % step == 0:
                ok, frame = capture.retrieve()
                if ok:
                    sent += 1
                    yield index / fps, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        capture.release()


def sampled_frames(path: str, seconds_per_hash: float = 1.0) -> list[tuple[float, np.ndarray]]:
    """Every sampled frame in a list: for short clips (tests, benchmarks) only."""
    return list(iter_frames(path, seconds_per_hash))


def common_box(boxes: list[Box | None]) -> Box | None:
    """The content box inside bars common to most frames (bars do not move), or None.

    Compression blurs a bar's inner edge by a pixel or two from frame to frame, so the boxes
    must agree within `BAR_JITTER_PX`, and the innermost of them is kept (no bar left in).
    """
    found = np.array([box for box in boxes if box is not None])
    if len(found) == 0 or len(found) < MIN_BAR_SHARE * len(boxes):
        return None
    median = np.median(found, axis=0)
    agree = found[np.all(np.abs(found - median) <= BAR_JITTER_PX, axis=1)]
    if len(agree) < MIN_BAR_SHARE * len(boxes):
        return None
    top, left = int(agree[:, 0].max()), int(agree[:, 2].max())
    bottom, right = int(agree[:, 1].min()), int(agree[:, 3].min())
    return top, bottom, left, right


def bar_box(frames: list[np.ndarray]) -> Box | None:
    return common_box([border_box(frame) for frame in frames])


def _crop(frame: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None:
        return frame
    top, bottom, left, right = box
    return np.ascontiguousarray(frame[top:bottom, left:right])


def trimmed_frame_hashes(path: str, seconds_per_hash: float = 1.0) -> list[FrameHash] | None:
    """Frame hashes with the bars cropped, or None when the video has no stable bars."""
    boxes = [border_box(frame) for _t, frame in iter_frames(path, seconds_per_hash)]
    box = common_box(boxes) if boxes else None
    if box is None:
        return None
    hashes = []
    for timestamp, frame in iter_frames(path, seconds_per_hash):
        result = pdq_from_pixels(_crop(frame, box))
        hashes.append(FrameHash(result.hash, result.quality, round(timestamp, 3)))
    return hashes


def key_frames(
    path: str, count: int = KEY_FRAMES, seconds_per_hash: float = 1.0
) -> list[tuple[float, np.ndarray]]:
    """Up to `count` greyscale frames spread evenly over the clip, stable bars cropped.

    One pass: the frames kept are thinned by doubling their spacing whenever more than
    2 × `count` are held, so memory stays at a few frames however long the clip is.
    """
    boxes: list[Box | None] = []
    kept: list[tuple[int, float, np.ndarray]] = []
    stride = 1
    for n, (timestamp, frame) in enumerate(iter_frames(path, seconds_per_hash)):
        boxes.append(border_box(frame))
        if n % stride == 0:
            kept.append((n, timestamp, cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)))
        if len(kept) > 2 * count:
            stride *= 2
            kept = [k for k in kept if k[0] % stride == 0]
    if not kept:
        return []
    box = common_box(boxes)
    picks = np.unique(np.linspace(0, len(kept) - 1, min(count, len(kept))).round().astype(int))
    return [(kept[i][1], _crop(kept[i][2], box)) for i in picks]


def from_bytes(data: bytes, read: Callable[[str], T]) -> T:
    """Run a path-reading function on bytes (OpenCV reads files only: a private temp file)."""
    handle, path = tempfile.mkstemp(prefix="takedown-frames-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return read(path)
    finally:
        os.unlink(path)


def trimmed_frame_hashes_bytes(
    data: bytes, seconds_per_hash: float = 1.0
) -> list[FrameHash] | None:
    return from_bytes(data, lambda path: trimmed_frame_hashes(path, seconds_per_hash))


def key_frame_features(
    data: bytes, limit: int = QUERY_FEATURES, count: int = KEY_FRAMES
) -> list[tuple[float, FeatureSet]]:
    """(timestamp, ORB feature set) of a clip's key frames, flat ones (too few keypoints to
    verify anything) left out."""
    frames = from_bytes(data, lambda path: key_frames(path, count))
    sets = [(at, features_from_luma(luma, limit)) for at, luma in frames]
    return [(at, features) for at, features in sets if not features.degenerate]
