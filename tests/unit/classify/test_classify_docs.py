"""The evaluation page renders every section from a figures dict, and the plot is a PNG."""

from __future__ import annotations

from takedown.classify.datasets import Example
from takedown.classify.docs import IMG, write_docs
from takedown.classify.metrics import report
from takedown.classify.slices import slices

SLICE_ROWS = [
    Example("propaganda post", "tvec", "en", "farright_telegram", "g1", "TVEC7"),
    Example("x" * 1200, "tvec", "de", "farright_telegram", "g2", "TVEC6"),
    Example("kill them", "tvec", "en", "gab", "g3", "TVEC8"),
    Example("a report", "news", "en", "agnews", "g4"),
    Example("a chat", "other", "ar", "alfifi", "g5"),
]
SLICE_CATEGORIES: list[str | None] = ["TVEC7", None, "TVEC2", None, None]


def _figures() -> dict:
    import numpy as np

    y = np.array([0, 0, 1, 1, 2, 3, 3, 1])
    p = np.array([0, 1, 1, 0, 2, 3, 2, 1])
    rep = report(y, p).to_json()
    lang = {**rep, "fast_share": 0.5, "composition": {"src/tvec": 2}}
    return {
        "model_version": "tvec-clf-test",
        "test_rows": 8,
        "overall": rep,
        "fast_only": rep,
        "per_language": {"en": lang},
        "per_language_parallel": {"en": rep, "ar": {**rep, "macro_f1": rep["macro_f1"] - 0.1}},
        "per_source": {"src": rep, "fifthtribe": rep},
        "tier_share": {"fast": 0.5, "semantic": 0.5},
        "fast_threshold": 0.9,
        "calibration": {
            "bins": [{"lo": 0.5, "hi": 0.6, "n": 4, "confidence": 0.55, "accuracy": 0.5}],
            "ece": 0.05,
            "ece_fast_tier": 0.06,
        },
        "tvec_reliability": [{"lo": 0, "hi": 0.1, "n": 3, "predicted": 0.05, "observed": 0.0}],
        "langid_agreement": {"en": 1.0},
        "errors": {
            "news_as_tvec": [{"source": "s", "lang": "en", "p_tvec": 0.9, "text": "a | b"}],
            "counter_as_tvec": [],
        },
        "robustness": {
            "n": 2,
            "original_recall": 0.5,
            "perturbed": {"leetspeak": {"recall": 0.5, "drop_points": 0.0}},
        },
        "throughput": {"fast_tier": 2500.0, "langid": 4000.0, "encoder": 400.0},
        "slices": slices(SLICE_ROWS, np.array([0, 3, 0, 0, 0]), SLICE_CATEGORIES),
    }


def test_slices_count_recall_and_flags_per_movement_language_and_length() -> None:
    import numpy as np

    s = slices(SLICE_ROWS, np.array([0, 3, 0, 0, 0]), SLICE_CATEGORIES)
    by_key = {(r["movement"], r["lang"]): r for r in s["movement_language"]}
    assert by_key[("far-right", "en")]["recall"] == {"n": 2, "rate": 1.0}
    assert by_key[("far-right", "de")]["recall"] == {"n": 1, "rate": 0.0}
    assert by_key[("jihadist", "ar")]["other_flagged"] == {"n": 1, "rate": 1.0}
    long = next(r for r in s["length"] if r["length"].startswith("long"))
    assert long["recall"] == {"n": 1, "rate": 0.0}
    cats = {r["category"]: r for r in s["categories"]}
    assert cats["TVEC8"]["recall"] == 1.0 and cats["TVEC8"]["category_accuracy"] == 0.0
    assert s["holdout"]["gab"]["recall"] == {"n": 1, "rate": 1.0}


def test_write_docs(tmp_path) -> None:
    page = write_docs(_figures(), tmp_path)
    text = page.read_text()
    for heading in (
        "## Overall",
        "## Per language",
        "## Per movement and language",
        "## Short posts vs long texts",
        "## Per TVEC category",
        "## Held-out source",
        "## Calibration",
        "## Tiers",
        "## Robustness to evasion",
        "## Throughput",
        "## Errors that matter most",
        "## Leave one source out (`bench/loso.py`)",
    ):
        assert heading in text
    assert text.rstrip().endswith("not a reweighting of the rows there are.")
    assert "tvec-clf-test" in text and "a \\| b" in text
    assert "| ar | 8 |" in text and "-10.0 |" in text  # parallel suites, gap to English
    assert "| tvec | 2 | 50.0% | 50.0% |" in text  # Fifth Tribe tweets by annotated class
    assert (tmp_path / IMG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
