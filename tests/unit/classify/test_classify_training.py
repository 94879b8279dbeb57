"""Training on a tiny synthetic corpus: files are plain arrays, reproducible, and they work."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest

from takedown.classify import LABELS
from takedown.classify.datasets import Example, split, split_groups
from takedown.classify.encoder import EmbeddingCache
from takedown.classify.linear import LinearModel, MlpModel
from takedown.classify.model import TierConfig, TieredClassifier, collapse_matrix
from takedown.classify.text import clean_text
from takedown.classify.training import (
    MIN_FACET_ROWS,
    choose_facets,
    choose_threshold,
    choose_tvec_threshold,
    data_fingerprint,
    evasion_copies,
    facets_of,
    fit_model,
    weights_digest,
)
from takedown.classify.weak_labels import (
    fifth_tribe_label,
    hatecheck_label,
    is_dropped_tweet,
)
from takedown.core.errors import InvalidInput


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_parts):
    root = tmp_path_factory.mktemp("clf")
    cache = EmbeddingCache(root / "cache" / "emb.npz")
    out = root / "model"
    fit_model(tiny_parts, out, cache=cache, version="tiny", log=io.StringIO(), min_df=1)
    return out, cache


def test_model_files_hold_no_pickle(trained) -> None:
    out, _ = trained
    for path in out.glob("*.npz"):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                assert name.endswith(".npy")
        with np.load(path, allow_pickle=False) as data:
            assert all(data[k].dtype != object for k in data.files)
    config = json.loads((out / "config.json").read_text())
    assert config["labels"] == list(LABELS)
    assert re.fullmatch(r"tvec-clf-tiny-[0-9a-f]{8}", config["version"])  # data + weights


def test_tiny_model_separates_synthetic_classes(trained, tiny_parts) -> None:
    out, _ = trained
    clf = TieredClassifier.load(out)
    test = tiny_parts["test"]
    results = clf.classify([e.text for e in test])
    accuracy = np.mean([r.label == e.label for r, e in zip(results, test, strict=True)])
    assert accuracy >= 0.9


def test_training_is_reproducible(trained, tiny_parts, tmp_path) -> None:
    out, cache = trained
    again = tmp_path / "again"
    fit_model(tiny_parts, again, cache=cache, version="tiny", log=io.StringIO(), min_df=1)
    assert (again / "vocab.json").read_text() == (out / "vocab.json").read_text()
    assert (again / "config.json").read_text() == (out / "config.json").read_text()
    for name in ("fast.npz", "semantic.npz"):
        with np.load(out / name) as a, np.load(again / name) as b:
            for key in a.files:
                np.testing.assert_array_equal(a[key], b[key])


def test_split_keeps_groups_whole_and_is_deterministic(tiny_parts) -> None:
    rows = [e for part in tiny_parts.values() for e in part]
    first, second = split_groups(rows), split_groups(list(reversed(rows)))
    assert first == second
    parts = split(rows)
    seen = {name: {e.group for e in part} for name, part in parts.items()}
    assert not (seen["train"] & seen["test"]) and not (seen["train"] & seen["cal"])
    assert parts["test"] and parts["cal"] and parts["train"]


def test_weak_label_rules() -> None:
    assert fifth_tribe_label("WarReporter1") == "news"
    assert fifth_tribe_label("RamiAlLolah") is None
    assert fifth_tribe_label("Uncle_SamCoco") == "other"
    assert fifth_tribe_label("mobi_ayubi") is None
    assert fifth_tribe_label("some_supporter") == "tvec"
    assert is_dropped_tweet("@someone thanks akhi")
    assert is_dropped_tweet("RT @warrnews: breaking news")
    assert not is_dropped_tweet("RT @other: text")
    assert hatecheck_label("threat_dir_h") == "tvec"
    assert hatecheck_label("spell_leet_h", threat_variant=True) == "tvec"
    assert hatecheck_label("spell_leet_h") == "other"
    assert hatecheck_label("counter_quote_nh", threat_variant=True) == "counter"
    assert hatecheck_label("negate_neg_nh", threat_variant=True) == "other"


def test_threshold_choices_follow_their_rules() -> None:
    y = np.array([0, 1, 2, 3] * 25)
    proba = np.full((100, 4), 0.05)
    proba[np.arange(100), y] = 0.85
    assert choose_threshold(proba, y) == 0.5  # all correct: the lowest threshold suffices
    proba[y == 1, 0] = 0.4  # news rows with P(tvec) 0.4 must not be flagged
    t = choose_tvec_threshold(proba, y)
    assert t > 0.4


def test_example_is_hashable_and_frozen() -> None:
    ex = Example("t", "tvec", "en", "s", "g")
    with pytest.raises(AttributeError):
        ex.text = "x"  # type: ignore[misc]


def test_small_facets_fold_into_their_class() -> None:
    def rows(label: str, source: str, n: int) -> list[Example]:
        return [Example(f"{label} {i}", label, "en", source, f"g{i}") for i in range(n)]

    train = rows("tvec", "fifthtribe", MIN_FACET_ROWS) + rows("counter", "fifthtribe", 3)
    for label in LABELS:
        train += rows(label, "agnews", 5)
    facets = choose_facets(train)
    assert facets[:2] == ["tvec/posts", "tvec/corpora"]
    assert "counter/posts" not in facets
    index = facets_of(train, facets)
    assert facets[index[0]] == "tvec/posts"
    assert facets[index[MIN_FACET_ROWS]] == "counter/corpora"
    suites = train + rows("tvec", "mhc", MIN_FACET_ROWS) + rows("other", "hatecheck", 4)
    with_suites = choose_facets(suites)
    assert "tvec/suites" in with_suites and "other/suites" not in with_suites
    assert with_suites[facets_of(suites, with_suites)[-1]] == "other/corpora"
    with pytest.raises(InvalidInput, match="counter"):
        choose_facets([e for e in train if e.label != "counter"])
    collapse = collapse_matrix(facets)
    assert collapse.shape == (len(facets), len(LABELS))
    np.testing.assert_array_equal(collapse.sum(axis=1), 1.0)
    assert collapse[:, 0].sum() == 2


def test_config_without_facets_reads_as_one_facet_per_class() -> None:
    config = TierConfig.from_json(
        {"version": "v", "labels": list(LABELS), "fast_threshold": 0.9, "blend_fast": 1.0,
         "blend_semantic": 1.0}
    )  # fmt: skip
    assert config.facets == LABELS
    np.testing.assert_array_equal(collapse_matrix(config.facets), np.eye(len(LABELS)))
    with pytest.raises(Exception, match="facets"):
        TierConfig.from_json({**config.to_json(), "facets": ["nonsense/posts"]})


def test_model_with_post_facets_reports_class_probabilities(tiny_parts, tmp_path) -> None:
    posts = [
        Example(e.text + " akhi", e.label, e.lang, "fifthtribe", "tw:" + e.group)
        for e in tiny_parts["train"]
        if e.label == "tvec"
    ]
    posts = (posts * (MIN_FACET_ROWS // len(posts) + 1))[:MIN_FACET_ROWS]
    parts = {**tiny_parts, "train": tiny_parts["train"] + posts}
    cache = EmbeddingCache(tmp_path / "cache.npz")
    fit_model(parts, tmp_path / "m", cache=cache, version="facets", log=io.StringIO(), min_df=1)
    clf = TieredClassifier.load(tmp_path / "m")
    assert clf.config.facets[:2] == ("tvec/posts", "tvec/corpora")
    for tiers in ("fast", "semantic"):
        results = clf.classify([e.text for e in tiny_parts["test"]], tiers=tiers)
        for r in results:
            assert set(r.scores) == set(LABELS)
            assert abs(sum(r.scores.values()) - 1.0) < 1e-3
        test = tiny_parts["test"]
        accuracy = np.mean([r.label == e.label for r, e in zip(results, test, strict=True)])
        assert accuracy >= 0.9


def test_evasion_copies_are_seeded_traced_and_cover_every_class(tiny_parts) -> None:
    rows = tiny_parts["train"]
    copies = evasion_copies(rows, share=1.0)
    assert copies == evasion_copies(rows, share=1.0)
    assert 0 < len(copies) <= len(rows)
    originals = {(e.group, e.label) for e in rows}
    for copy in copies:
        assert (copy.group, copy.label) in originals  # same group: never crosses the split
        assert clean_text(copy.text) not in {clean_text(e.text) for e in rows}
    assert {c.label for c in copies} == set(LABELS)
    assert evasion_copies(rows, share=0.0) == []


def test_final_fit_learns_calibration_rows(tiny_parts, tmp_path) -> None:
    """A word seen only in calibration rows trains the shipped weights (refit), not the
    train-only ones, and the config says which rows the weights were fitted on."""
    cal = [
        Example(e.text + " nafir", e.label, e.lang, e.source, e.group) if e.label == "tvec" else e
        for e in tiny_parts["cal"]
    ]
    parts = {**tiny_parts, "cal": cal}
    cache = EmbeddingCache(tmp_path / "cache.npz")
    log = io.StringIO()
    fit_model(parts, tmp_path / "refit", cache=cache, version="r", log=log, min_df=1)
    fit_model(parts, tmp_path / "train", cache=cache, version="r", log=log, min_df=1, refit=False)
    refit, train_only = (TieredClassifier.load(tmp_path / n) for n in ("refit", "train"))
    assert refit.config.extra["weights_fitted_on"] == "train+cal"
    assert train_only.config.extra["weights_fitted_on"] == "train"
    probe = [clean_text("nafir")]
    assert refit.fast_proba(probe)[0, 0] > train_only.fast_proba(probe)[0, 0] + 0.05
    assert "calibration 60, final fit" in log.getvalue()


def test_model_version_names_the_category_head_too() -> None:
    rng = np.random.default_rng(3)
    fast = LinearModel(rng.normal(size=(20, 4)), rng.normal(size=4))
    semantic = MlpModel(*(rng.normal(size=s).astype(np.float32) for s in ((8, 5), 5, (5, 4), 4)))
    head = LinearModel(rng.normal(size=(20, 3)), rng.normal(size=3))
    other_head = LinearModel(head.weights.copy(), head.bias + 1.0)
    facets = ["tvec", "news", "counter", "other"]
    digests = {
        weights_digest(fast, semantic, facets),
        weights_digest(fast, semantic, facets, head),
        weights_digest(fast, semantic, facets, other_head),
    }
    assert len(digests) == 3
    assert weights_digest(fast, semantic, facets, head) == weights_digest(
        fast, semantic, facets, LinearModel(head.weights.copy(), head.bias.copy())
    )


def test_data_fingerprint_follows_the_categories() -> None:
    rows = [Example("strike them", "tvec", "en", "s", "g", "TVEC7")]
    relabelled = [Example("strike them", "tvec", "en", "s", "g", "TVEC8")]
    assert data_fingerprint(rows) != data_fingerprint(relabelled)
    assert data_fingerprint(rows) == data_fingerprint(list(rows))
