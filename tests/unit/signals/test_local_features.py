"""The `orb` local-feature signal: survives crops and captions, refuses flat pictures."""

from __future__ import annotations

import pytest

from media_pictures import caption_band, crop, flat, jpeg, png, scene
from takedown.core.content import ContentKind, make_submission
from takedown.core.errors import InvalidInput
from takedown.signals.local_features import (
    BANK_FEATURES,
    MIN_INLIERS,
    FeatureSet,
    LocalFeatureSignal,
    features_from_bytes,
    match_sets,
)

ORIGINAL = scene(1)
BANKED = features_from_bytes(png(ORIGINAL), BANK_FEATURES)


def test_feature_sets_round_trip_compactly() -> None:
    decoded = FeatureSet.from_value(BANKED.to_value())
    assert (decoded.descriptors == BANKED.descriptors).all()
    assert abs(decoded.points - BANKED.points).max() <= 1 / 16
    assert (decoded.width, decoded.height) == (BANKED.width, BANKED.height)
    assert len(BANKED.encode()) <= 10 + BANK_FEATURES * 36


@pytest.mark.parametrize("edit", [
    lambda i: crop(i, 0.10), lambda i: crop(i, 0.20, corner=True),
    lambda i: caption_band(i, top=True), lambda i: caption_band(i, top=False),
], ids=["crop10", "crop20_corner", "band_top", "band_bottom"])
def test_edited_copies_are_verified(edit) -> None:  # type: ignore[no-untyped-def]
    result = match_sets(features_from_bytes(png(edit(ORIGINAL))), BANKED)
    assert result is not None and result.inliers >= MIN_INLIERS
    assert 0.6 < result.scale < 1.7


def test_the_region_is_where_the_original_sits_in_the_copy() -> None:
    copy = caption_band(ORIGINAL, top=True)  # the picture fills the lower 1/1.2 of the copy
    result = match_sets(features_from_bytes(jpeg(copy)), BANKED)
    assert result is not None
    top_left, _, bottom_right, _ = result.region
    assert top_left[1] == pytest.approx(0.2 / 1.2, abs=0.03)
    assert bottom_right[0] == pytest.approx(1.0, abs=0.03)
    assert bottom_right[1] == pytest.approx(1.0, abs=0.03)


def test_distinct_pictures_do_not_match() -> None:
    for seed in range(2, 8):
        assert match_sets(features_from_bytes(png(crop(scene(seed), 0.1))), BANKED) is None


def test_flat_pictures_are_degenerate_and_give_no_signal() -> None:
    signal_type = LocalFeatureSignal()
    for colour in [(0, 0, 0), (128, 128, 128), (250, 20, 20)]:
        data = png(flat(colour))
        assert features_from_bytes(data).degenerate
        item = make_submission(item_id="flat", kind=ContentKind.IMAGE, content=data)
        assert signal_type.extract(item) == []
    black, grey = (features_from_bytes(png(flat(c))) for c in [(0, 0, 0), (90, 90, 90)])
    assert match_sets(black, grey) is None


def test_banked_values_are_validated() -> None:
    signal_type = LocalFeatureSignal()
    assert signal_type.canonicalize(BANKED.to_value()) == BANKED.to_value()
    with pytest.raises(InvalidInput, match="fewer than"):
        signal_type.canonicalize(features_from_bytes(png(flat((0, 0, 0)))).to_value())
    with pytest.raises(InvalidInput):
        signal_type.canonicalize("orb1:not-base64!")
    with pytest.raises(InvalidInput):
        FeatureSet.decode(BANKED.encode()[:-3])
    digest = BANKED.digest()
    assert signal_type.canonicalize(digest.upper()) == digest


def test_compare_is_a_symmetric_inlier_distance() -> None:
    signal_type = LocalFeatureSignal()
    copy = features_from_bytes(png(crop(ORIGINAL, 0.1)), BANK_FEATURES).to_value()
    other = features_from_bytes(png(scene(9)), BANK_FEATURES).to_value()
    near = signal_type.compare(BANKED.to_value(), copy)
    assert near == signal_type.compare(copy, BANKED.to_value()) <= signal_type.threshold
    assert signal_type.compare(BANKED.to_value(), other) > signal_type.threshold
