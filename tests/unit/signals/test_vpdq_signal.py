"""vPDQ: Meta's reference hash files as vectors for the matcher, and hashing a sample clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import InvalidInput
from takedown.signals.vpdq import (
    FrameHash,
    VpdqSignal,
    features_to_value,
    hash_video_bytes,
    hash_video_file,
    match_videos,
    read_reference_file,
    value_to_features,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "signals" / "vpdq"


def reference(name: str) -> list[FrameHash]:
    return read_reference_file((FIXTURES / f"{name}.txt").read_text())


@pytest.mark.parametrize(
    ("variant", "original"),
    [
        ("chair-19-sd-bar", "chair-orig-22-sd-bar"),
        ("chair-22-sd-grey-bar", "chair-orig-22-sd-bar"),
        ("pattern-longer-no-bar", "pattern-hd-no-bar"),
    ],
)
def test_variants_match_their_original_on_reference_hashes(variant: str, original: str) -> None:
    result = match_videos(reference(variant), reference(original))
    assert result.is_match()
    assert match_videos(reference(original), reference(variant)).is_match()


def test_longer_video_reports_both_directions() -> None:
    result = match_videos(reference("pattern-longer-no-bar"), reference("pattern-hd-no-bar"))
    assert result.compared_percent == 100.0
    assert 80.0 < result.query_percent < 100.0


def test_unrelated_videos_do_not_match() -> None:
    result = match_videos(reference("doorknob-hd-no-bar"), reference("chair-orig-22-sd-bar"))
    assert not result.is_match()
    assert result.query_percent < 5 and result.compared_percent < 5


@pytest.mark.usefixtures("vpdq_lib")
def test_same_percentages_as_threatexchange_brute_matcher() -> None:
    from threatexchange.extensions.vpdq.vpdq_brute_matcher import match_VPDQ_hash_brute
    from threatexchange.extensions.vpdq.vpdq_util import VpdqCompactFeature

    a = reference("pattern-longer-no-bar")[::3]
    b = reference("pattern-hd-no-bar")[::2]
    theirs = match_VPDQ_hash_brute(
        [VpdqCompactFeature(f.pdq_hex, f.quality, f.timestamp) for f in a],
        [VpdqCompactFeature(f.pdq_hex, f.quality, f.timestamp) for f in b], 50, 31)
    ours = match_videos(a, b)
    assert ours.query_percent == pytest.approx(theirs.query_match_percent)
    assert ours.compared_percent == pytest.approx(theirs.compared_match_percent)


@pytest.mark.usefixtures("vpdq_lib")
def test_hashing_the_sample_clip_agrees_with_meta_reference() -> None:
    ours = hash_video_file(str(FIXTURES / "doorknob-hd-no-bar.mp4"), seconds_per_hash=0)
    theirs = reference("doorknob-hd-no-bar")
    assert len(ours) == len(theirs)
    assert [round(f.timestamp, 2) for f in ours] == [round(f.timestamp, 2) for f in theirs]
    result = match_videos(ours, theirs)
    assert result.query_percent == 100.0 and result.compared_percent == 100.0


@pytest.mark.usefixtures("vpdq_lib")
def test_signal_value_round_trips_in_hma_format() -> None:
    data = (FIXTURES / "doorknob-hd-no-bar.mp4").read_bytes()
    signal = VpdqSignal().extract(make_submission(item_id="v", kind=ContentKind.VIDEO,
                                                  content=data))[0]
    frames = value_to_features(signal.value)
    assert features_to_value(frames) == signal.value
    assert signal.meta["frames"] == len(frames) >= 3
    assert all(t.startswith(f.pdq_hex) for t, f in zip(eval_list(signal.value), frames,
                                                         strict=True))
    assert VpdqSignal().compare(signal.value, signal.value) == 0


def eval_list(value: str) -> list[str]:
    import json

    return json.loads(value)


@pytest.mark.parametrize("bad", ["{}", "not json", '["abc,1,0.0"]', '["' + "0" * 64 + ',101,0"]'])
def test_malformed_values_are_invalid_input(bad: str) -> None:
    with pytest.raises(InvalidInput):
        value_to_features(bad)


@pytest.mark.usefixtures("vpdq_lib")
def test_undecodable_bytes_are_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        hash_video_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
