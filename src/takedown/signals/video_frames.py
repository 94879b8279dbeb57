"""Frame hashes of a video with its letterbox/pillarbox bars trimmed, for matching only.

Meta's `vpdq` decodes and hashes frames inside its C++ and cannot crop them, so a letterboxed
SD copy of an HD clip changes every frame's PDQ by far more than 31 bits (0% matched, on Meta's
own sample clips too). This module decodes frames itself (OpenCV's FFmpeg reader, one per
`seconds_per_hash`), finds bars that stay put across the sampled frames, crops them and hashes
the rest with the same PDQ. The reference vPDQ value (what banks store and hubs exchange) is
left untouched: these hashes are extra *query* forms, offered only when bars were found, so
everything Meta's reference matches still matches bit-for-bit the same way.
"""

from __future__ import annotations

import os
import tempfile

import cv2
import numpy as np

from takedown.signals.imaging import border_box
from takedown.signals.pdq import pdq_from_pixels
from takedown.signals.vpdq import FrameHash

MAX_FRAMES = 3600
"""An hour at one frame per second: longer videos are hashed over their first hour only."""
MIN_BAR_SHARE = 0.6
"""The same bar box must be found on at least this share of sampled frames."""
BAR_JITTER_PX = 4


def sampled_frames(path: str, seconds_per_hash: float = 1.0) -> list[tuple[float, np.ndarray]]:
    """(timestamp, RGB frame) pairs, one every `seconds_per_hash` (every frame if 0)."""
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            return []
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, round(fps * seconds_per_hash)) if seconds_per_hash > 0 else 1
        frames: list[tuple[float, np.ndarray]] = []
        index = 0
        while len(frames) < MAX_FRAMES:
            if not capture.grab():
                break
            if index % step == 0:
                ok, frame = capture.retrieve()
                if ok:
                    frames.append((index / fps, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
            index += 1
        return frames
    finally:
        capture.release()


def bar_box(frames: list[np.ndarray]) -> tuple[int, int, int, int] | None:
    """The content box inside bars common to most frames (bars do not move), or None.

    Compression blurs a bar's inner edge by a pixel or two from frame to frame, so the boxes
    must agree within `BAR_JITTER_PX`, and the innermost of them is kept (no bar left in).
    """
    boxes = np.array([box for box in map(border_box, frames) if box is not None])
    if len(boxes) < MIN_BAR_SHARE * len(frames) or len(boxes) == 0:
        return None
    median = np.median(boxes, axis=0)
    agree = boxes[np.all(np.abs(boxes - median) <= BAR_JITTER_PX, axis=1)]
    if len(agree) < MIN_BAR_SHARE * len(frames):
        return None
    top, left = int(agree[:, 0].max()), int(agree[:, 2].max())
    bottom, right = int(agree[:, 1].min()), int(agree[:, 3].min())
    return top, bottom, left, right


def trimmed_frame_hashes(path: str, seconds_per_hash: float = 1.0) -> list[FrameHash] | None:
    """Frame hashes with the bars cropped, or None when the video has no stable bars."""
    frames = sampled_frames(path, seconds_per_hash)
    if not frames:
        return None
    box = bar_box([frame for _t, frame in frames])
    if box is None:
        return None
    top, bottom, left, right = box
    hashes = []
    for timestamp, frame in frames:
        result = pdq_from_pixels(np.ascontiguousarray(frame[top:bottom, left:right]))
        hashes.append(FrameHash(result.hash, result.quality, round(timestamp, 3)))
    return hashes


def trimmed_frame_hashes_bytes(
    data: bytes, seconds_per_hash: float = 1.0
) -> list[FrameHash] | None:
    """`trimmed_frame_hashes` for bytes (OpenCV reads files only: a private temporary file)."""
    handle, path = tempfile.mkstemp(prefix="takedown-frames-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        return trimmed_frame_hashes(path, seconds_per_hash)
    finally:
        os.unlink(path)
