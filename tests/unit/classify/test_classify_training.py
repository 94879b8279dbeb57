"""Training on a tiny synthetic corpus: files are plain arrays, reproducible, and they work."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from takedown.classify import LABELS
from takedown.classify.datasets import Example, split, split_groups
from takedown.classify.encoder import EmbeddingCache
from takedown.classify.model import TieredClassifier
from takedown.classify.training import choose_threshold, choose_tvec_threshold, fit_model
from takedown.classify.weak_labels import fifth_tribe_label, hatecheck_label, is_dropped_tweet


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
