"""`takedown model evaluate`: figures on the held-out *test* split (groups never seen in training).

Everything in docs/evaluation.md comes from `evaluate`: per-class and per-language P/R/F1,
confusion matrix, calibration, the share each tier takes, robustness to evasion, throughput,
and the errors that matter most (news and counter-speech flagged as `tvec`). Per-language
figures use the *corpus* language of each row (langid is reported separately), and say which
corpora make up each language, since e.g. French `tvec` exists only as translated threats.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from takedown.classify import LABELS, LANGS, TEST_SUITES
from takedown.classify.datasets import Example, load_all, split
from takedown.classify.encoder import EmbeddingCache
from takedown.classify.features import vectorize
from takedown.classify.metrics import calibration_bins, report, tvec_reliability
from takedown.classify.model import TieredClassifier
from takedown.classify.perturb import PERTURBATIONS, perturb_all
from takedown.classify.slices import slices
from takedown.classify.text import clean_text

EXAMPLES_PER_ERROR = 8
PERTURB_SAMPLE = 600


class TieredScorer:
    """Runs the shipped tiers on many texts, reusing cached embeddings (same maths as classify)."""

    def __init__(self, classifier: TieredClassifier, cache: EmbeddingCache) -> None:
        self.classifier = classifier
        self.cache = cache

    def score(self, raw: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tiered proba, fast-only proba, fast-tier mask)."""
        cleaned = [clean_text(t) for t in raw]
        facets = self.classifier.fast_facets(self.classifier.fast_inputs(raw, cleaned))
        fast = self.classifier.collapse(facets)
        decided = fast.max(axis=1) >= self.classifier.config.fast_threshold
        proba = fast.copy()
        unsure = np.flatnonzero(~decided)
        if len(unsure):
            emb = self.cache.embed(self.classifier.encoder, [cleaned[i] for i in unsure])
            proba[unsure] = self.classifier.semantic_proba(emb, facets[unsure])
        return proba, fast, decided


def _labels(rows: list[Example]) -> np.ndarray:
    return np.array([LABELS.index(e.label) for e in rows], dtype=np.int64)


def _error_examples(
    rows: list[Example], y: np.ndarray, proba: np.ndarray, pred: np.ndarray, true: str
) -> list[dict[str, Any]]:
    """Rows of class `true` predicted `tvec`, most confident first."""
    tvec = LABELS.index("tvec")
    idx = np.flatnonzero((y == LABELS.index(true)) & (pred == tvec))
    idx = idx[np.argsort(-proba[idx, tvec])][:EXAMPLES_PER_ERROR]
    return [
        {"source": rows[i].source, "lang": rows[i].lang, "p_tvec": round(float(proba[i, tvec]), 3),
         "text": " ".join(rows[i].text.split())[:220]}
        for i in idx
    ]  # fmt: skip


def robustness(scorer: TieredScorer, rows: list[Example], y: np.ndarray) -> dict[str, Any]:
    """tvec recall on original vs perturbed copies of a fixed sample of tvec test rows."""
    tvec_idx = np.flatnonzero(y == LABELS.index("tvec"))
    rng = np.random.default_rng(11)
    sample = np.sort(rng.choice(tvec_idx, size=min(PERTURB_SAMPLE, len(tvec_idx)), replace=False))
    texts = [rows[i].text for i in sample]
    decide = scorer.classifier.config.decide
    base, _, _ = scorer.score(texts)
    base_recall = float((decide(base) == 0).mean())
    out: dict[str, Any] = {"n": len(sample), "original_recall": base_recall, "perturbed": {}}
    for name in PERTURBATIONS:
        proba, _, _ = scorer.score(perturb_all(texts, name))
        recall = float((decide(proba) == 0).mean())
        out["perturbed"][name] = {"recall": recall, "drop_points": 100 * (base_recall - recall)}
    return out


def throughput(classifier: TieredClassifier, texts: list[str]) -> dict[str, float]:
    """Texts per second on this process's core(s): fast tier, language ID, encoder."""
    sample = (texts * (2000 // max(len(texts), 1) + 1))[:2000]
    start = time.perf_counter()
    classifier.fast_proba([clean_text(t) for t in sample])
    fast = len(sample) / (time.perf_counter() - start)
    start = time.perf_counter()
    for t in sample[:1000]:
        classifier.languages.identify(t)
    langid = 1000 / (time.perf_counter() - start)
    cleaned = [clean_text(t) for t in sample[:200]]
    classifier.encoder.encode(cleaned[:8])
    start = time.perf_counter()
    classifier.encoder.encode(cleaned)
    encoder = len(cleaned) / (time.perf_counter() - start)
    return {"fast_tier": fast, "langid": langid, "encoder": encoder}


def evaluate(
    classifier: TieredClassifier, data_dir: Path, *, cache_dir: Path, extra: Path | None = None
) -> dict[str, Any]:
    rows = split(load_all(data_dir, extra))["test"]
    y = _labels(rows)
    cache = EmbeddingCache(cache_dir / f"{classifier.encoder.name}.npz")
    scorer = TieredScorer(classifier, cache)
    proba, fast, decided = scorer.score([e.text for e in rows])
    pred = classifier.config.decide(proba)
    hits = np.flatnonzero(pred == LABELS.index("tvec"))
    raw = [e.text for e in rows]
    batch = vectorize(classifier.vocab, classifier.fast_inputs(raw, [clean_text(t) for t in raw]))
    categories: list[str | None] = [None] * len(rows)
    for i, cat in zip(hits, classifier.categories_of(batch, hits), strict=True):
        categories[int(i)] = cat
    langs = np.array([e.lang for e in rows])
    sources = np.array([e.source for e in rows])
    bins, ece = calibration_bins(proba, y)
    _, ece_fast = calibration_bins(fast, y)
    per_lang = {}
    for lang in (*LANGS, "it"):
        mask = langs == lang
        if mask.any():
            per_lang[lang] = {
                **report(y[mask], pred[mask]).to_json(),
                "fast_share": float(decided[mask].mean()),
                "composition": dict(Counter(f"{e.source}/{e.label}" for e in np.array(rows)[mask])),
            }
    suites = np.isin(sources, sorted(TEST_SUITES))
    parallel = {
        lang: report(y[suites & (langs == lang)], pred[suites & (langs == lang)]).to_json()
        for lang in (*LANGS, "it")
        if (suites & (langs == lang)).any()
    }
    ident = [classifier.languages.identify(e.text) for e in rows]
    agreement = {
        lang: float(np.mean([ident[i] == lang for i in np.flatnonzero(langs == lang)]))
        for lang in LANGS
        if (langs == lang).any()
    }
    return {
        "model_version": classifier.version,
        "test_rows": len(rows),
        "overall": report(y, pred).to_json(),
        "fast_only": report(y, classifier.config.decide(fast)).to_json(),
        "argmax": report(y, proba.argmax(axis=1)).to_json(),
        "tvec_threshold": classifier.config.tvec_threshold,
        "per_language": per_lang,
        "per_language_parallel": parallel,
        "per_source": {
            s: report(y[sources == s], pred[sources == s]).to_json() for s in sorted(set(sources))
        },
        "tier_share": {"fast": float(decided.mean()), "semantic": float(1 - decided.mean())},
        "fast_threshold": classifier.config.fast_threshold,
        "calibration": {"bins": bins, "ece": ece, "ece_fast_tier": ece_fast},
        "tvec_reliability": tvec_reliability(proba, y),
        "langid_agreement": agreement,
        "errors": {
            "news_as_tvec": _error_examples(rows, y, proba, pred, "news"),
            "counter_as_tvec": _error_examples(rows, y, proba, pred, "counter"),
        },
        "slices": slices(rows, pred, categories),
        "robustness": robustness(scorer, rows, y),
        "throughput": throughput(classifier, [e.text for e in rows[:2000]]),
    }


def summary_lines(figures: dict[str, Any]) -> list[str]:
    overall = figures["overall"]
    lines = [
        f"model {figures['model_version']} on {figures['test_rows']} held-out test rows",
        f"macro-F1 {overall['macro_f1']:.3f}  accuracy {overall['accuracy']:.3f}",
    ]
    for label, m in overall["per_class"].items():
        lines.append(f"  {label:8s} P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f}")
    flagged = overall["flagged_as_tvec"]
    lines.append("flagged as tvec: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in flagged.items()))
    for src, m in figures["per_source"].items():
        rates = ", ".join(f"{k} {100 * v:.1f}%" for k, v in m["flagged_as_tvec"].items())
        lines.append(f"  <{src}> macro-F1 {m['macro_f1']:.3f}; flagged as tvec: {rates}")
    for lang, m in figures["per_language"].items():
        lines.append(f"  [{lang}] macro-F1 {m['macro_f1']:.3f} (n={m['n']})")
    share = figures["tier_share"]
    lines.append(f"tiers: fast {100 * share['fast']:.1f}%, semantic {100 * share['semantic']:.1f}%")
    rob = figures["robustness"]
    drops = ", ".join(f"{k} {v['drop_points']:+.1f}" for k, v in rob["perturbed"].items())
    lines.append(f"tvec recall {rob['original_recall']:.3f}; drop in points: {drops}")
    tp = figures["throughput"]
    lines.append(
        f"throughput texts/s: fast {tp['fast_tier']:.0f}, langid {tp['langid']:.0f}, "
        f"encoder {tp['encoder']:.0f}"
    )
    return lines
