"""Letterbox/pillarbox bars are trimmed before frame hashing (query forms only)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from media_pictures import scene
from takedown.core.content import ContentKind, make_submission
from takedown.signals.pdq import pdq_from_pixels
from takedown.signals.video_frames import bar_box, trimmed_frame_hashes
from takedown.signals.vpdq import FrameHash, match_videos, value_to_features
from takedown_testing import need_module

FPS = 5


def _write(path: Path, frames: list[np.ndarray]) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (width, height))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _clip(seconds: int = 4) -> list[np.ndarray]:
    """A panning view over a textured scene: every second looks different."""
    world = np.asarray(scene(5, (900, 360)))
    return [np.ascontiguousarray(world[:, i * 12: i * 12 + 480]) for i in range(seconds * FPS)]


def _letterboxed(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Shrunk to 75% and centred between black bars on a 480x360 canvas (an SD re-encode)."""
    out = []
    for frame in frames:
        small = cv2.resize(frame, (360, 270), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((360, 480, 3), np.uint8)
        canvas[45:315, 60:420] = small
        out.append(canvas)
    return out


def _hashes(path: Path) -> list[FrameHash]:
    from takedown.signals.video_frames import sampled_frames

    return [FrameHash(pdq_from_pixels(f).hash, pdq_from_pixels(f).quality, round(t, 3))
            for t, f in sampled_frames(str(path))]


def test_bars_are_found_and_trimmed_and_then_the_clips_match(tmp_path: Path) -> None:
    original = _write(tmp_path / "original.mp4", _clip())
    barred = _write(tmp_path / "barred.mp4", _letterboxed(_clip()))
    assert trimmed_frame_hashes(str(original)) is None  # no bars: nothing extra to look up
    trimmed = trimmed_frame_hashes(str(barred))
    assert trimmed is not None and len(trimmed) == 4
    reference = _hashes(original)
    assert not match_videos(_hashes(barred), reference).is_match()
    assert match_videos(trimmed, reference).is_match()


def test_a_bar_must_be_stable_across_frames() -> None:
    frames = _letterboxed(_clip(2))
    assert bar_box(frames) == (45, 315, 60, 420)
    assert bar_box([np.asarray(scene(n, (320, 240))) for n in range(4)]) is None


def test_the_vpdq_signal_keeps_the_reference_value_and_adds_the_trimmed_query(
    tmp_path: Path,
) -> None:
    need_module("vpdq", "pip install '.[video]'")
    from takedown.signals.vpdq import VpdqSignal

    data = _write(tmp_path / "barred.mp4", _letterboxed(_clip())).read_bytes()
    item = make_submission(item_id="v", kind=ContentKind.VIDEO, content=data)
    [signal] = VpdqSignal().extract(item)
    assert signal.meta["bars_trimmed"] is True
    reference, trimmed = signal.meta["query_hashes"]
    assert reference == signal.value
    assert value_to_features(trimmed) != value_to_features(reference)
