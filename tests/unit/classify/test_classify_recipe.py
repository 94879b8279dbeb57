"""The optional training switches (#10 leave-one-source-out experiments) and the LOSO harness's
fold logic, on small synthetic data (no ../shared)."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from takedown.classify.datasets import Example
from takedown.classify.encoder import EmbeddingCache
from takedown.classify.linear import fit_linear, fit_mlp
from takedown.classify.model import TieredClassifier
from takedown.classify.recipe import (
    Recipe,
    fast_text,
    row_weights,
    source_label_weights,
    source_weights,
)
from takedown.classify.text import mask_fingerprints
from takedown.classify.training import fit_model


def _loso():
    path = Path(__file__).parents[3] / "bench" / "loso.py"
    spec = importlib.util.spec_from_file_location("bench_loso", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_loso"] = module
    spec.loader.exec_module(module)
    return module


def test_source_weights_follow_inverse_square_root_and_average_one() -> None:
    sources = ["big"] * 100 + ["small"] * 4
    w = source_weights(sources)
    assert w.mean() == pytest.approx(1.0)
    # per row: (100 / 4) ** -0.5 = 1/5 of a small source's row
    assert w[0] / w[-1] == pytest.approx(0.2)
    # in total the big source still weighs more, but 5x, not 25x
    assert w[:100].sum() / w[100:].sum() == pytest.approx(5.0)
    assert source_weights([]).shape == (0,)


def test_source_label_weights_even_out_labels_within_a_source() -> None:
    sources = ["milieu"] * 8 + ["suite"] * 2
    labels = ["tvec"] * 2 + ["other"] * 6 + ["tvec"] * 2
    w = source_label_weights(sources, labels)
    assert w.mean() == pytest.approx(1.0)
    # milieu: tvec (8 / (2 * 2)) ** 0.5 = sqrt(2), other (8 / 12) ** 0.5: a ratio of sqrt(3)
    assert w[0] / w[2] == pytest.approx(3**0.5)
    # a source with one label keeps its rows as they were relative to each other
    assert w[8] == pytest.approx(w[9])
    assert row_weights(sources, labels, Recipe()) is None
    both = row_weights(sources, labels, Recipe(source_balanced=True, source_label_balanced=True))
    assert both is not None and both.mean() == pytest.approx(1.0)


def test_recipe_round_trips_and_names_itself() -> None:
    both = Recipe(source_balanced=True, mask_fingerprints=True)
    assert Recipe.from_json(json.loads(json.dumps(both.to_json()))) == both
    assert Recipe.from_json(None) == Recipe()
    assert Recipe().name == "baseline"
    assert both.name == "source_balanced+mask_fingerprints"


def test_mask_drops_hashtags_and_a_trailing_signoff_only() -> None:
    post = (
        "Gedenktag: Friedhelm Busse lebt weiter. #DerIIIWeg Zum Artikel: https://x.info/a "
        "DER III. WEG: Folgt uns bei Telegram! t.me/DerDritteWeg"
    )
    assert mask_fingerprints(post) == "Gedenktag: Friedhelm Busse lebt weiter."
    early = "Telegram deleted our channel again. " + "They fear the truth of our people. " * 12
    assert mask_fingerprints(early).startswith("Telegram deleted")
    assert mask_fingerprints("no #tags here, but C# and a#b stay") == "no here, but C# and a#b stay"
    assert fast_text("Join the #caliphate now", Recipe()) == "join the caliphate now"
    assert fast_text("Join the #caliphate now", Recipe(mask_fingerprints=True)) == "join the now"


def _two_rules(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half the rows say "x0 > 0 is class 1", the other half the opposite; weights favour
    the first half."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    first = np.arange(n) < n // 2
    y = np.where(first, x[:, 0] > 0, x[:, 0] < 0).astype(np.int64)
    return x, y, np.where(first, 1.0, 1e-3)


PROBE = np.array([[2.0, 0, 0, 0], [-2.0, 0, 0, 0]], dtype=np.float32)


def test_fit_linear_sample_weight_changes_which_rows_decide() -> None:
    x, y, w = _two_rules(600)
    plain = fit_linear(x, y, c=10.0, n_classes=2, seed=0).dense_logits(PROBE)
    first = fit_linear(x, y, c=10.0, n_classes=2, seed=0, sample_weight=w).dense_logits(PROBE)
    second = fit_linear(x, y, c=10.0, n_classes=2, seed=0, sample_weight=w[::-1].copy())
    assert np.abs(plain).max() < 1.0
    assert first[0].argmax() == 1 and first[1].argmax() == 0
    assert second.dense_logits(PROBE)[0].argmax() == 0


def test_fit_mlp_sample_weight_changes_which_rows_decide() -> None:
    x, y, w = _two_rules(4000)
    first = fit_mlp(x, y, hidden=8, seed=0, sample_weight=w).dense_logits(PROBE)[:, 0]
    second = fit_mlp(x, y, hidden=8, seed=0, sample_weight=w[::-1].copy()).dense_logits(PROBE)
    # two classes: one output, the logit of class 1
    assert first[0] > 0 > first[1]
    assert second[0, 0] < 0 < second[1, 0]


def _tagged(parts: dict[str, list[Example]]) -> dict[str, list[Example]]:
    return {
        name: [Example(f"{e.text} #{e.label}tag", *_rest(e)) for e in rows]
        for name, rows in parts.items()
    }


def _rest(e: Example) -> tuple[str, str, str, str, str]:
    return e.label, e.lang, e.source, e.group, e.category


def test_masked_recipe_is_recorded_and_read_back(tmp_path, tiny_parts) -> None:
    cache = EmbeddingCache(tmp_path / "cache" / "emb.npz")
    parts = _tagged(tiny_parts)
    recipe = Recipe(source_balanced=True, mask_fingerprints=True)
    log = io.StringIO()
    fit_model(parts, tmp_path / "m", cache=cache, version="r", log=log, min_df=1, recipe=recipe)
    fit_model(parts, tmp_path / "plain", cache=cache, version="r", log=log, min_df=1)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["recipe"] == recipe.to_json()
    assert "recipe" not in json.loads((tmp_path / "plain" / "config.json").read_text())
    clf = TieredClassifier.load(tmp_path / "m")
    assert clf.recipe == recipe
    assert clf.fast_inputs(["coffee #tvectag weekend"], ["x"]) == ["coffee weekend"]
    # the masked model never saw the tag, so its vocabulary has no such word
    assert "tvectag" not in clf.vocab.word
    assert "tvectag" in TieredClassifier.load(tmp_path / "plain").vocab.word
    test = parts["test"]
    results = clf.classify([e.text for e in test])
    assert np.mean([r.label == e.label for r, e in zip(results, test, strict=True)]) >= 0.9


def _row(source: str, lang: str, label: str, i: int) -> Example:
    return Example(f"{source} {label} text {i}", label, lang, source, f"{source}:{lang}:{i}")


def test_loso_folds_hold_out_one_source_or_one_language_of_it() -> None:
    loso = _loso()
    rows = [
        _row(src, lang, label, i)
        for src, lang in (("a", "en"), ("a", "de"), ("b", "en"))
        for label in ("tvec", "other")
        for i in range(40)
    ]
    (fold,) = loso.make_folds(rows, ["a:de"])
    assert {e.lang for e in fold.held} == {"de"} and len(fold.held) == 80
    for part in (fold.train, fold.cal, fold.test):
        assert part and not any(e.source == "a" and e.lang == "de" for e in part)
    (whole,) = loso.make_folds(rows, ["a"], max_train=10)
    assert len(whole.train) == 10 and {e.source for e in whole.train} == {"b"}
    assert loso.subsample(rows, 10) == loso.subsample(rows, 10)
    with pytest.raises(SystemExit):
        loso.make_folds(rows, ["nosuch"])


def test_loso_table_prints_the_ratio_to_the_baseline() -> None:
    loso = _loso()
    cell = {"test": {"news": {"n": 10, "tvec": 0.01}}, "test_macro_f1": 0.8, "fit_s": 1.0}
    table = loso.render(
        {
            "gab": {
                "baseline": {"held": {"tvec": {"n": 50, "tvec": 0.10}}, **cell},
                "balanced": {"held": {"tvec": {"n": 50, "tvec": 0.15}}, **cell},
            }
        }
    )
    assert "| gab | balanced | 15.0% (n=50) | 1.50 | – | – |" in table[-1]
    assert "| 1.00 |" in table[-2]


def test_loso_auc_ranks_positives_and_counts_ties_half() -> None:
    loso = _loso()
    pos = np.array([True, True, False, False])
    assert loso.auc(np.array([0.9, 0.8, 0.1, 0.2]), pos) == 1.0
    assert loso.auc(np.array([0.1, 0.2, 0.9, 0.8]), pos) == 0.0
    assert loso.auc(np.full(4, 0.5), pos) == 0.5
    assert loso.auc(np.array([0.9, 0.1]), np.array([True, True])) is None
