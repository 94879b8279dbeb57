"""Artefact stripping, features and the numpy linear model against scikit-learn/scipy."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.classify.features import build_vocabulary, raw_features, to_scipy, vectorize
from takedown.classify.linear import LinearModel, MlpModel, fit_linear, fit_temperature, softmax
from takedown.classify.perturb import perturb_all
from takedown.classify.text import clean_text, collapse_elongation, strip_artefacts
from takedown.signals.normalize import normalize_text


def test_strip_artefacts_removes_collection_traces_but_keeps_words() -> None:
    raw = "RT @someone: Brothers, read this #Khilafah https://t.co/abc123 &amp; more…"
    out = strip_artefacts(raw)
    assert "http" not in out and "@" not in out and "&amp;" not in out
    assert not out.lower().startswith("rt")
    assert "Khilafah" in out and "Brothers" in out and "&" in out


def test_clean_text_is_idempotent_on_examples() -> None:
    for raw in [
        "RT @a: Hello WORLD http://x.co/1",
        "  مرحبا   بالعالم ",
        "Ｆｕｌｌｗｉｄｔｈ text",
    ]:
        once = clean_text(raw)
        assert clean_text(once) == once


def test_elongated_letters_are_cut_back_for_the_classifier_only() -> None:
    assert clean_text("KILLLLLL them allll") == "kill them all"
    assert collapse_elongation("sooooo") == "soo"
    assert collapse_elongation("هجررررررم") == "هجرم"  # Arabic script: one letter
    assert collapse_elongation("ممكن 10000 !!!!") == "ممكن 10000 !!!!"  # pairs, digits kept
    # Text hashes peers hold are computed on the shared normaliser, which must not change.
    assert normalize_text("killllll") == "killllll"


def test_elongation_perturbation_is_undone() -> None:
    arabic = ["سنذبح المرتدين غدا في كل مكان"] * 5
    latin = ["they must die by our hands tomorrow"] * 5
    perturbed_ar, perturbed_la = perturb_all(arabic, "elongation"), perturb_all(latin, "elongation")
    assert perturbed_ar != arabic and perturbed_la != latin
    # Arabic comes back exactly; Latin letters keep at most a pair.
    assert [clean_text(t) for t in perturbed_ar] == [clean_text(t) for t in arabic]
    assert not any(re.search(r"([a-z])\1\1", clean_text(t)) for t in perturbed_la)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_clean_text_is_idempotent_on_any_text(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_clean_text_never_fails_and_is_bounded(text: str) -> None:
    out = clean_text(text)
    assert isinstance(out, str)
    assert len(out) <= 3 * 2000


def test_raw_features_kinds() -> None:
    words, bigrams, chars = raw_features("ab cde")
    assert words == ["ab", "cde"]
    assert bigrams == ["ab cde"]
    assert " ab" in chars and "cde " in chars and " cde " in chars


def test_vocabulary_json_roundtrip_and_indices() -> None:
    texts = ["the cat sat", "the cat ran", "a dog ran", "the dog sat"]
    vocab = build_vocabulary(texts, min_df=2)
    again = type(vocab).from_json(vocab.to_json())
    assert again.size == vocab.size
    for t in texts:
        assert again.indices(t) == vocab.indices(t)
    assert all(vocab.is_term(c) for c in vocab.word.values())
    assert not any(vocab.is_term(c) for c in vocab.char.values())


def test_numpy_logits_match_scipy_and_sklearn(tmp_path) -> None:
    texts = ["good news today", "bad news today", "good day", "bad day", "news of the day", ""]
    y = np.array([0, 1, 0, 1, 2, 2])
    vocab = build_vocabulary(texts, min_df=1)
    batch = vectorize(vocab, texts)
    x = to_scipy(batch, vocab.size)
    model = fit_linear(x, y, c=1.0, n_classes=3, seed=0)
    expected = x @ model.weights.astype(np.float64) + model.bias
    np.testing.assert_allclose(model.logits(batch), expected, atol=1e-5)
    assert np.allclose(model.logits(batch)[-1], model.bias)  # empty text: bias only
    model.temperature = 1.7
    model.save(tmp_path / "m.npz")
    loaded = LinearModel.load(tmp_path / "m.npz")
    np.testing.assert_allclose(
        loaded.proba(loaded.logits(batch)), model.proba(model.logits(batch)), atol=1e-6
    )


def test_mlp_roundtrip(tmp_path) -> None:
    rng = np.random.default_rng(0)
    mlp = MlpModel(
        *(rng.normal(size=s).astype(np.float32) for s in [(5, 3), (3,), (3, 4), (4,)]),
        temperature=2.0,
    )
    mlp.save(tmp_path / "mlp.npz")
    x = rng.normal(size=(7, 5))
    np.testing.assert_allclose(
        MlpModel.load(tmp_path / "mlp.npz").dense_logits(x), mlp.dense_logits(x), atol=1e-5
    )


def test_averaged_mlp_is_the_seed_ensemble() -> None:
    rng = np.random.default_rng(3)
    members = [
        MlpModel(*(rng.normal(size=s).astype(np.float32) for s in [(5, 3), (3,), (3, 4), (4,)]))
        for _ in range(3)
    ]
    x = rng.normal(size=(9, 5))
    average = MlpModel.averaged(members)
    assert average.w1.shape == (5, 9)
    mean_logits = np.mean([m.dense_logits(x) for m in members], axis=0)
    np.testing.assert_allclose(average.dense_logits(x), mean_logits, atol=1e-5)
    # ... which is the softmax of the members' mean log-probabilities.
    mean_logp = np.mean([np.log(softmax(m.dense_logits(x))) for m in members], axis=0)
    np.testing.assert_allclose(softmax(average.dense_logits(x)), softmax(mean_logp), atol=1e-6)
    with pytest.raises(ValueError):
        MlpModel.averaged([])


def test_temperature_fit_prefers_softer_for_overconfident_logits() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=400)
    correct = rng.random(400) < 0.7
    pred = np.where(correct, y, 1 - y)
    logits = np.zeros((400, 2))
    logits[np.arange(400), pred] = 10.0  # says ~100% but is right 70% of the time
    t = fit_temperature(logits, y)
    assert t > 2.0
    top = softmax(logits / t).max(axis=1).mean()
    assert abs(top - 0.7) < 0.1
