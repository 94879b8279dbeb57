"""Media matching in the detector: degenerate hashes never match; local features only as the
fallback for images PDQ did not match, with their evidence; and for videos, on key frames."""

from __future__ import annotations

from PIL import Image

from media_pictures import caption_band, clip, crop, flat, mp4, png, scene, with_logo
from takedown.core.banks import Bank, BankEntry
from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.taxonomy import TvecLabel
from takedown.detect.hashmatch import HashMatchDetector
from takedown.index.base import Index
from takedown.index.factory import make_index
from takedown.index.local_features import CANDIDATES, FeatureMatch, LocalFeatureIndex
from takedown.signals.local_features import BANK_FEATURES, FeatureSet, features_from_bytes
from takedown.signals.pdq import PdqSignal, is_degenerate_pdq, pdq_hash
from takedown.signals.video_frames import key_frame_features

PDQ = PdqSignal()
ORIGINAL = scene(40)


class CountingIndex(LocalFeatureIndex):
    """The real index, counting how often the detector falls back to it."""

    calls = 0

    def query_features(self, query: FeatureSet, limit: int = CANDIDATES) -> list[FeatureMatch]:
        CountingIndex.calls += 1
        return super().query_features(query, limit)


def _factory(signal_type: str) -> Index:
    return CountingIndex() if signal_type == "orb" else make_index(signal_type)


def _detector(*entries: tuple[str, str]) -> HashMatchDetector:
    detector = HashMatchDetector(_factory)
    detector.set_banks([Bank(name="tvec", label=TvecLabel.BRANDED)])
    detector.apply_changes(
        [BankEntry(n, "tvec", kind, value) for n, (kind, value) in enumerate(entries, 1)])
    return detector


def _item(data: bytes) -> Submission:
    return make_submission(item_id="q", kind=ContentKind.IMAGE, content=data)


def _detect(detector: HashMatchDetector, data: bytes) -> list:  # type: ignore[type-arg]
    item = _item(data)
    return detector.detect(item, PDQ.extract(item))


def test_two_flat_pictures_do_not_match_each_other() -> None:
    banked = pdq_hash(png(flat((200, 30, 30))))
    assert banked.low_quality and is_degenerate_pdq(banked.hash)
    detector = _detector(("pdq", banked.hash))
    for colour in [(200, 30, 30), (10, 200, 10), (0, 0, 0)]:
        assert _detect(detector, png(flat(colour))) == []


def test_a_flat_query_does_not_match_a_good_banked_hash() -> None:
    detector = _detector(("pdq", pdq_hash(png(ORIGINAL)).hash))
    item = _item(png(flat((128, 128, 128))))
    [signal] = PDQ.extract(item)
    assert signal.meta["low_quality"]
    forced = type(signal)(signal.type, pdq_hash(png(ORIGINAL)).hash, signal.meta)
    assert detector.detect(item, [forced]) == []


def test_degenerate_hashes_are_skipped_by_batch_lookup_too() -> None:
    flat_hash = pdq_hash(png(flat((0, 0, 0)))).hash
    good = pdq_hash(png(ORIGINAL)).hash
    detector = _detector(("pdq", flat_hash), ("pdq", good))
    assert [len(r) for r in detector.lookup("pdq", [flat_hash, good])] == [0, 1]


def test_pdq_matched_images_never_reach_the_local_features() -> None:
    features = features_from_bytes(png(ORIGINAL), BANK_FEATURES)
    detector = _detector(("pdq", pdq_hash(png(ORIGINAL)).hash), ("orb", features.to_value()))
    CountingIndex.calls = 0
    findings = _detect(detector, png(ORIGINAL))
    assert [f.signal_type for f in findings] == ["pdq"]
    assert CountingIndex.calls == 0


def test_a_cropped_captioned_copy_matches_on_local_features_with_evidence() -> None:
    features = features_from_bytes(png(ORIGINAL), BANK_FEATURES)
    detector = _detector(("pdq", pdq_hash(png(ORIGINAL)).hash), ("orb", features.to_value()))
    CountingIndex.calls = 0
    [finding] = _detect(detector, png(caption_band(crop(ORIGINAL, 0.1))))
    assert CountingIndex.calls == 1
    assert finding.signal_type == "orb" and finding.entry_id == 2 and finding.bank == "tvec"
    evidence = finding.evidence["local_match"]
    assert evidence["inliers"] >= 14 and len(evidence["region"]) == 4
    assert 0 < finding.score <= 1 and finding.distance <= 86


def test_an_unrelated_picture_matches_nothing() -> None:
    features = features_from_bytes(png(ORIGINAL), BANK_FEATURES)
    detector = _detector(("orb", features.to_value()))
    assert _detect(detector, png(crop(scene(41), 0.1))) == []


def _video_detector() -> HashMatchDetector:
    detector = HashMatchDetector()
    detector.set_banks([Bank(name="tvec", label=TvecLabel.BRANDED)])
    banked = key_frame_features(mp4(clip(61)), BANK_FEATURES)
    detector.apply_changes(
        [BankEntry(n, "tvec", "orb", f.to_value()) for n, (_at, f) in enumerate(banked, 1)])
    return detector


def _detect_video(detector: HashMatchDetector, data: bytes) -> list:  # type: ignore[type-arg]
    return detector.detect(make_submission(item_id="v", kind=ContentKind.VIDEO, content=data), [])


def test_a_clip_under_a_logo_matches_on_its_key_frames_and_another_clip_does_not() -> None:
    detector = _video_detector()
    found = _detect_video(detector, mp4(with_logo(clip(61))))
    assert found and {f.signal_type for f in found} == {"orb"}
    key_frames = found[0].evidence["key_frames"]
    assert key_frames["verified"] >= 4 and key_frames["of"] == 6
    assert found[0].evidence["local_match"]["inliers"] >= 14
    assert _detect_video(detector, mp4(clip(62))) == []


def test_one_shared_second_is_not_enough_for_a_video_but_a_still_matches_as_a_picture() -> None:
    detector = _video_detector()
    spliced = clip(61)[:5] + clip(63)[5:]  # one second of the banked footage, then another
    assert _detect_video(detector, mp4(spliced)) == []
    still = png(Image.fromarray(with_logo(clip(61))[12]))
    assert [f.signal_type for f in _detect(detector, still)][:1] == ["orb"]
