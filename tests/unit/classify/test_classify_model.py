"""The shipped model on small hand-written examples, plus invariants that hold for any input."""

from __future__ import annotations

import numpy as np
import pytest

from takedown.classify import LABELS
from takedown.classify.model import find_spans
from takedown.core.errors import InvalidInput, NotFound

NEWS = [
    "Police said three people were killed when a car bomb exploded near the ministry in Baghdad "
    "on Tuesday, officials told reporters.",
    "Die Polizei hat nach dem Anschlag in Wien zwei Verdächtige festgenommen, teilte das "
    "Innenministerium am Dienstag mit.",
    "قالت وزارة الداخلية إن قوات الأمن اعتقلت خمسة أشخاص يشتبه في تورطهم في الهجوم على المسجد",
]
COUNTER = [
    "Terrorists do not speak for Islam. Killing innocent people is a crime and every Muslim I "
    "know condemns it.",
    "Ceux qui disent que tous les musulmans sont des terroristes se trompent, la violence n'a "
    "pas de religion.",
]
TVEC = [
    "O muwahhidin, make hijrah to the lands of the Khilafah and join the soldiers of the Islamic "
    "State, the kuffar will taste our swords",
]


def test_scores_are_probabilities_and_label_is_consistent(shipped) -> None:
    results = shipped.classify(NEWS + COUNTER + TVEC + ["", "hello", "🙂🙂"])
    for r in results:
        assert set(r.scores) == set(LABELS)
        assert sum(r.scores.values()) == pytest.approx(1.0, abs=2e-3)
        assert all(0.0 <= v <= 1.0 for v in r.scores.values())
        assert r.label in LABELS and r.tier in ("fast", "semantic")
        if r.label != "tvec":
            assert r.scores["tvec"] < shipped.config.tvec_threshold
        else:
            assert r.scores["tvec"] >= shipped.config.tvec_threshold


def test_hand_written_examples(shipped) -> None:
    results = shipped.classify(NEWS + COUNTER + TVEC)
    labels = [r.label for r in results]
    assert labels[: len(NEWS)] == ["news"] * len(NEWS)
    assert all(label != "tvec" for label in labels[len(NEWS) : len(NEWS) + len(COUNTER)])
    assert labels[-1] == "tvec"


def test_language_identified(shipped) -> None:
    langs = [r.lang for r in shipped.classify(NEWS)]
    assert langs == ["en", "de", "ar"]


def test_deterministic_and_batch_independent(shipped) -> None:
    texts = NEWS + TVEC
    batch = shipped.classify(texts)
    single = [shipped.classify([t])[0] for t in texts]
    assert [r.scores for r in batch] == [r.scores for r in single]


def test_tier_modes(shipped) -> None:
    fast = shipped.classify(TVEC, tiers="fast")[0]
    sem = shipped.classify(TVEC, tiers="semantic")[0]
    assert fast.tier == "fast" and sem.tier == "semantic"
    with pytest.raises(InvalidInput):
        shipped.classify(TVEC, tiers="gpu")


def test_evidence_terms_and_spans_point_into_the_text(shipped) -> None:
    text = TVEC[0]
    result = shipped.classify([text])[0]
    terms = result.evidence["terms"]
    assert terms and all(t["weight"] > 0 for t in terms)
    for span in result.evidence["spans"]:
        assert text[span["start"] : span["end"]] == span["text"]


def test_fullwidth_evasion_gives_same_scores(shipped) -> None:
    text = TVEC[0]
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    a, b = shipped.classify([text, fullwidth])
    assert a.label == b.label
    assert np.allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-3)


def test_find_spans_ignores_case_and_word_boundaries() -> None:
    spans = find_spans("The Caliphate's soldiers", ["caliphate", "soldiers", "absent"])
    assert [s["text"] for s in spans] == ["Caliphate", "soldiers"]


def test_missing_model_is_not_found(tmp_path) -> None:
    from takedown.classify.model import TieredClassifier

    with pytest.raises(NotFound):
        TieredClassifier.load(tmp_path)
