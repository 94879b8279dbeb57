"""The `orb` index: verified matches only, additions and removals visible at once."""

from __future__ import annotations

from media_pictures import caption_band, crop, png, scene
from takedown.index.factory import make_index
from takedown.index.local_features import LocalFeatureIndex
from takedown.index.words_form import INDEXED
from takedown.signals.local_features import BANK_FEATURES, FeatureSet, features_from_bytes

PICTURES = [scene(seed) for seed in range(20, 26)]
BANKED = [features_from_bytes(png(p), BANK_FEATURES) for p in PICTURES]


def _filled(**kwargs: int) -> LocalFeatureIndex:
    index = LocalFeatureIndex(**kwargs)  # type: ignore[arg-type]
    for n, features in enumerate(BANKED):
        index.add(100 + n, features.to_value())
    return index


def test_each_edited_copy_finds_its_own_original_only() -> None:
    index = _filled()
    for n, picture in enumerate(PICTURES):
        found = index.query_content(png(caption_band(crop(picture, 0.1))))
        assert [m.entry_id for m in found] == [100 + n]
        assert found[0].verification.evidence()["inliers"] >= 14


def test_remove_and_add_are_visible_to_the_next_query() -> None:
    index = _filled()
    query = png(crop(PICTURES[2], 0.2, corner=True))
    assert [m.entry_id for m in index.query_content(query)] == [102]
    assert index.remove(102) and not index.remove(102)
    assert index.query_content(query) == [] and len(index) == 5
    index.add(7, BANKED[2].to_value())
    assert [m.entry_id for m in index.query_content(query)] == [7]


def test_an_entry_added_again_still_matches() -> None:
    """The bank follower re-reads a few seconds of the change feed on every poll, so the same
    entry arrives many times: tombstoned copies of its descriptors must never crowd the live
    ones out of the nearest neighbours (a CI failure: no match after four re-adds)."""
    index = _filled()
    query = png(caption_band(crop(PICTURES[3], 0.1), top=True))
    for _ in range(5):
        index.add(103, BANKED[3].to_value())
        assert [m.entry_id for m in index.query_content(query)] == [103]
    assert index.descriptor_count() == sum(len(f) for f in BANKED)
    index.remove(101)
    index.add(9, BANKED[1].to_value())
    assert [m.entry_id for m in index.query_content(png(crop(PICTURES[1], 0.1)))] == [9]


def test_the_words_form_answers_like_the_flat_one() -> None:
    index = _filled(words_from=6)
    assert index.form == "words" and index.descriptor_count() <= 6 * INDEXED
    for n, picture in enumerate(PICTURES):
        assert [m.entry_id for m in index.query_content(png(crop(picture, 0.1)))] == [100 + n]
    for n in range(4):
        index.remove(100 + n)
    index.compact()
    assert len(index) == 2
    assert index.query_content(png(crop(PICTURES[1], 0.1))) == []
    assert [m.entry_id for m in index.query_content(png(crop(PICTURES[5], 0.1)))] == [105]


def test_the_words_form_reads_full_sets_through_the_resolver_only_for_candidates() -> None:
    stored = {b.digest(): b for b in BANKED}
    asked: list[str] = []

    def resolve(digest: str) -> FeatureSet | None:
        asked.append(digest)
        return stored.get(digest)

    index = LocalFeatureIndex(resolve, words_from=2)
    for n, banked in enumerate(BANKED):
        index.add(100 + n, banked.digest())
    asked.clear()
    assert index.memory_bytes() < sum(len(b.encode()) for b in BANKED) / 2
    found = index.query_content(png(caption_band(crop(PICTURES[4], 0.1))))
    assert [m.entry_id for m in found] == [104]
    assert BANKED[4].digest() in asked
    index.remove(104)
    assert index.query_content(png(crop(PICTURES[4], 0.1))) == []
    index.add(9, BANKED[4].digest())
    assert [m.entry_id for m in index.query_content(png(crop(PICTURES[4], 0.1)))] == [9]


def test_query_protocol_and_resolved_digests() -> None:
    stored = {b.digest(): b for b in BANKED}
    index = make_index("orb", resolve=stored.get)
    assert isinstance(index, LocalFeatureIndex)
    index.add(1, BANKED[0].digest())
    index.add(2, "0" * 64)  # unknown digest: nothing to index, nothing invented
    assert len(index) == 1
    copy = features_from_bytes(png(crop(PICTURES[0], 0.05)))
    [(distance, entry_id)] = index.query(copy.to_value(), 86)
    assert entry_id == 1 and 0 <= distance <= 86
    assert index.query_many([copy.to_value()], distance - 1) == [[]] or distance == 0


def test_a_flat_query_finds_nothing() -> None:
    empty = FeatureSet(10, 10, BANKED[0].points[:3], BANKED[0].descriptors[:3])
    assert _filled().query_features(empty) == []


def test_a_growing_words_index_is_retrained_and_still_finds_its_pictures() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    index = LocalFeatureIndex(words_from=2)
    index.add_features(1, BANKED[1])
    trained = []
    for n in range(12):
        noise = FeatureSet(640, 480, rng.uniform(0, 600, (256, 2)).astype(np.float32),
                           rng.integers(0, 256, (256, 32), dtype=np.uint8))
        index.add_features(1000 + n, noise)
        assert index.wait_for_training(60)
        if index._words is not None:  # noqa: SLF001 - the retraining is the point
            trained.append(index._words.trained_at)  # noqa: SLF001
    assert len(set(trained)) >= 2  # trained at the switch, again after 4x growth
    assert [m.entry_id for m in index.query_content(png(crop(PICTURES[1], 0.1)))] == [1]


def test_a_bank_loaded_in_one_go_answers_like_one_added_picture_by_picture() -> None:
    import numpy as np

    from takedown.index.words_form import indexed_subset

    stored = {b.digest(): b for b in BANKED}
    index = LocalFeatureIndex(stored.get)
    subsets = np.stack([b.descriptors[indexed_subset(b)] for b in BANKED])
    index.load(np.arange(100, 106), subsets, [b.digest() for b in BANKED])
    assert index.form == "words" and len(index) == 6
    for n, picture in enumerate(PICTURES):
        assert [m.entry_id for m in index.query_content(png(crop(picture, 0.1)))] == [100 + n]


def test_the_words_form_keeps_matching_an_entry_added_again_and_drops_dead_rows() -> None:
    """Re-adding an entry under a changed set leaves a dead row in the words form: it must
    never take the live row's candidate slot, and a bank that churns at a constant size must
    not keep its dead rows forever (they are dropped at a retraining)."""
    import numpy as np

    index = _filled(words_from=6)
    query = png(caption_band(crop(PICTURES[3], 0.1), top=True))
    rng = np.random.default_rng(1)
    for _ in range(5):
        shuffled = rng.permutation(len(BANKED[3]))
        changed = FeatureSet(BANKED[3].width, BANKED[3].height, BANKED[3].points[shuffled],
                             BANKED[3].descriptors[shuffled])
        index.add_features(103, changed)
        assert [m.entry_id for m in index.query_content(query)] == [103]
    assert len(index) == 6
    words = index._words  # noqa: SLF001 - the dead rows are the point
    assert words is not None and 0 < words.dead() <= 5
    for n in range(1200):
        index.add_features(103, BANKED[3] if n % 2 else changed)
    assert index.wait_for_training(60)
    words = index._words  # noqa: SLF001
    assert words is not None and words.dead() <= max(1000, len(words)) + 1
    assert [m.entry_id for m in index.query_content(query)] == [103]


def test_the_vote_counts_like_a_full_tally_and_leaves_no_sum_behind() -> None:
    """The words form sums votes into a buffer kept between queries and zeroes only what the
    postings touched: a sum left behind would vote in the next query (a picture proposed for
    a query it is not in), and a wrong shared-word count would let one-word rows through."""
    import numpy as np

    from takedown.index.words_form import MIN_SHARED_WORDS

    index = _filled(words_from=6)
    words = index._words  # noqa: SLF001 - the vote's arithmetic is the point
    assert words is not None
    rng = np.random.default_rng(2)
    for count in (40, 2):
        rows = rng.integers(0, 6, 30).astype(np.int32)
        weight = rng.uniform(0.1, 14.0, 30)
        best, score = words._tally(rows, weight, count)  # noqa: SLF001
        shared = np.bincount(rows, minlength=6)
        votes = np.bincount(rows, weight, minlength=6) * words._norm[:6]  # noqa: SLF001
        expected = [int(r) for r in np.argsort(-votes, kind="stable")
                    if shared[r] >= MIN_SHARED_WORDS and votes[r] > 0][:count]
        assert best.tolist() == expected
        assert np.allclose(score, votes[expected])
        assert not words._tally_buffer.any()  # noqa: SLF001
    query = features_from_bytes(png(crop(PICTURES[4], 0.1)))
    assert words.candidates(query) == words.candidates(query)
    assert words.candidates(query)[0][0] == 104


def test_the_re_rank_counts_distinct_close_pairs_not_voters_near_one_descriptor() -> None:
    """A repetitive banked picture (a cradle's balls, a checkerboard) can have one descriptor
    close to dozens of a query's text strokes; counted by voters it outranked the picture
    really shown (two dev-set false pairs). Distinct pairs count it once."""
    import numpy as np

    rng = np.random.default_rng(5)
    index = _filled(words_from=6)
    words = index._words  # noqa: SLF001 - the re-rank's arithmetic is the point
    assert words is not None
    stroke = rng.integers(0, 256, 32, dtype=np.uint8)
    repetitive = rng.integers(0, 256, (INDEXED, 32), dtype=np.uint8)
    repetitive[0] = stroke
    shown = rng.integers(0, 256, (INDEXED, 32), dtype=np.uint8)
    words.add(900, repetitive)
    words.add(901, shown)
    near_stroke = np.repeat(stroke[None, :], 30, axis=0)
    near_stroke[np.arange(30), np.arange(30)] ^= 1  # 30 voters one bit from the stroke
    voters = np.vstack([near_stroke, shown[:10], rng.integers(0, 256, (40, 32), np.uint8)])
    rows = np.array([words._row_of[900], words._row_of[901]])  # noqa: SLF001
    ranked = words._rerank(voters, rows)  # noqa: SLF001
    assert [entry for entry, _ in ranked] == [901]
    assert ranked[0][1] == 10


def test_queries_and_changes_go_on_while_the_vocabulary_is_retrained() -> None:
    """A retraining at a million pictures takes minutes: it runs off the lock, the old form
    answers meanwhile, and changes made during it are in the form swapped in."""
    import threading

    import numpy as np

    import takedown.index.words_form as words_form

    rng = np.random.default_rng(3)

    def noise() -> FeatureSet:
        return FeatureSet(640, 480, rng.uniform(0, 600, (256, 2)).astype(np.float32),
                          rng.integers(0, 256, (256, 32), dtype=np.uint8))

    index = LocalFeatureIndex(words_from=2)
    index.add_features(1, BANKED[1])
    index.add_features(1000, noise())
    assert index.form == "words"
    gate, started = threading.Event(), threading.Event()
    real = words_form.WordsForm.from_rows.__func__  # type: ignore[attr-defined]

    def gated(cls, *args):  # type: ignore[no-untyped-def]
        started.set()
        assert gate.wait(60)
        return real(cls, *args)

    words_form.WordsForm.from_rows = classmethod(gated)  # type: ignore[method-assign,assignment]
    try:
        before = index._words  # noqa: SLF001 - which form answers is the point
        for n in range(1, 8):  # grown 4x since the switch: a retraining starts
            index.add_features(1000 + n, noise())
        assert started.wait(60)
        assert [m.entry_id for m in index.query_content(png(crop(PICTURES[1], 0.1)))] == [1]
        index.add_features(2, BANKED[2])
        index.remove(1)
        assert [m.entry_id for m in index.query_content(png(crop(PICTURES[2], 0.1)))] == [2]
        assert index._words is before  # noqa: SLF001
        gate.set()
        assert index.wait_for_training(60)
    finally:
        words_form.WordsForm.from_rows = classmethod(real)  # type: ignore[method-assign,assignment]
        gate.set()
    assert index._words is not before  # noqa: SLF001
    assert [m.entry_id for m in index.query_content(png(crop(PICTURES[2], 0.1)))] == [2]
    assert index.query_content(png(crop(PICTURES[1], 0.1))) == []
    assert len(index) == 1 + 8 + 1 - 1
