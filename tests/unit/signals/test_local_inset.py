"""The picture inside a screenshot is found (light and dark layouts), a plain or flat picture has
none, and a match found in the cut-out is drawn where the picture is in the upload."""

from __future__ import annotations

import numpy as np
import pytest

from media_pictures import flat, jpeg, png, scene, screenshot
from takedown.index.local_features import LocalFeatureIndex
from takedown.signals.local_features import BANK_FEATURES, features_from_bytes
from takedown.signals.local_inset import Inset, find_inset


def _grey(image) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(image.convert("L"))


@pytest.mark.parametrize("dark", [False, True])
def test_the_picture_inside_a_screenshot_is_found(dark: bool) -> None:
    found = 0
    for seed in range(4):
        shot, (left, top, right, bottom) = screenshot(scene(seed), dark=dark)
        inset = find_inset(_grey(shot))
        assert inset is not None
        # Inside the post, not the whole screen: no status bar, no buttons, no next post.
        assert inset.top >= top - 0.03 and inset.bottom <= bottom + 0.03
        width, height = inset.right - inset.left, inset.bottom - inset.top
        found += width * height >= 0.8 * (right - left) * (bottom - top)
    assert found >= 3  # a smooth patch at a picture's edge may be left out, rarely


def test_a_plain_or_flat_picture_has_no_inset() -> None:
    for seed in range(4):
        assert find_inset(_grey(scene(seed, (800, 600)))) is None
    assert find_inset(_grey(flat((40, 40, 40)))) is None
    assert find_inset(np.zeros((10, 3000), np.uint8)) is None


def test_a_region_in_the_cut_out_maps_onto_the_upload() -> None:
    inset = Inset(0.1, 0.2, 0.6, 0.7)
    mapped = inset.to_image([(0, 0), (1, 1), (0.5, 0.5)])
    assert [v for point in mapped for v in point] == pytest.approx(
        [0.1, 0.2, 0.6, 0.7, 0.35, 0.45])
    assert inset.pixels(1000, 500) == (100, 100, 600, 350)


def test_a_screenshot_showing_a_banked_picture_small_is_found_by_its_inset() -> None:
    original = scene(11, (640, 480))
    index = LocalFeatureIndex()
    index.add_features(1, features_from_bytes(png(original), BANK_FEATURES))
    for seed in range(12, 20):  # other banked pictures compete for the vote
        index.add_features(seed, features_from_bytes(png(scene(seed, (640, 480))), BANK_FEATURES))
    shot, (left, top, right, bottom) = screenshot(original, canvas=(1080, 2400))
    matches = index.query_content(jpeg(shot, 85))
    assert [m.entry_id for m in matches] == [1]
    evidence = matches[0].verification.evidence()
    assert "inset" in evidence  # the whole screenshot did not match; its picture did
    xs = [x for x, _ in evidence["region"]]  # type: ignore[union-attr]
    ys = [y for _, y in evidence["region"]]  # type: ignore[union-attr]
    # Drawn on the upload where the picture is (within a few percent), not on the cut-out.
    assert min(xs) == pytest.approx(left, abs=0.04) and max(xs) == pytest.approx(right, abs=0.04)
    assert min(ys) == pytest.approx(top, abs=0.04) and max(ys) == pytest.approx(bottom, abs=0.04)
