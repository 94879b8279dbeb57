"""`takedown model train`: rebuild the shipped classifier from the shared corpora, reproducibly.

Steps: weak-label every corpus (`weak_labels`), split by group (`datasets.split_of`), fit the
fast tier on sparse features, fit the semantic tier on sentence embeddings, then fit on the
calibration split (never on test) the temperatures, the blend of the two tiers and the
confidence threshold above which the fast tier decides alone. Seeds are fixed and every
sampling step is sorted first, so the same data gives the same files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from takedown.classify import FACET_KINDS, LABELS, facet_label, facet_of
from takedown.classify.datasets import SEED, Example, load_all, split
from takedown.classify.encoder import ENCODER_NAME, EmbeddingCache, SentenceEncoder
from takedown.classify.features import build_vocabulary, to_scipy, vectorize, words
from takedown.classify.linear import (
    LinearModel,
    MlpModel,
    fit_linear,
    fit_mlp,
    fit_temperature,
    log_softmax,
    softmax,
)
from takedown.classify.model import (
    CATEGORY,
    CONFIG,
    FAST,
    SEMANTIC,
    VOCAB,
    TierConfig,
    collapse_matrix,
)
from takedown.classify.perturb import PERTURBATIONS
from takedown.classify.recipe import Recipe, fast_text, row_weights
from takedown.classify.text import clean_text
from takedown.core.errors import InvalidInput

FAST_C = 2.0
SEMANTIC_HIDDEN = 256
SEMANTIC_MEMBERS = 1
"""How many MLPs, fitted from seeds SEED, SEED+1, ..., the semantic head averages
(`MlpModel.averaged`). Measured with five on the December 2026 split (`takedown model
evaluate --json`, the same test rows): at every `tvec` threshold from 0.26 to 0.38 five heads
rank better than one head (threshold 0.32: recall 0.743 -> 0.754 with news flagged 1.03 ->
0.89%, counter-speech 0.61 -> 0.65%, chatter 9.7 -> 9.2%, the held-out Gab 45.2% both). But
the calibration rule below then picked 0.36 instead of 0.32, and at its own threshold the
model found less: recall 0.743 -> 0.731, Gab 45.2 -> 40.0%, far-right English 73.0 -> 70.8%
(macro-F1 0.812 -> 0.823, precision 0.629 -> 0.676). Unseen propaganda is what the model
misses most, so one head ships; five cost twice the training time."""
MAX_FLAG_RATE = 0.015
"""tvec threshold: the lowest at which news and counter-speech flagged on calibration stay under.

The issue's ceiling is 2%; 1.5% on calibration leaves half a point for drift to unseen posts."""
TVEC_THRESHOLDS = tuple(np.round(np.arange(0.20, 0.51, 0.02), 2))
TARGET_FAST_ACCURACY = 0.98
"""The fast tier decides alone only where, on the calibration split, it is this accurate."""
THRESHOLDS = tuple(np.round(np.arange(0.50, 0.995, 0.01), 2))
BLEND_GRID = tuple(np.round(np.arange(0.0, 1.51, 0.125), 3))
EVASION_SHARE = 0.25
"""Share of training rows (every class alike) that also train as an evasion-perturbed copy."""
MIN_FACET_ROWS = 200
"""A facet with fewer training rows is folded into its class's `corpora` facet."""
COMMON_DF = 0.03
"""Words in more than this share of training texts are never shown as evidence."""
CATEGORY_C = 1.0
MIN_CATEGORY_ROWS = 10
"""A TVEC category needs this many `tvec` training rows to get an output in the category head."""


@dataclass
class TrainingResult:
    model_dir: Path
    config: TierConfig
    counts: dict[str, dict[str, int]]


def labels_of(examples: Sequence[Example]) -> np.ndarray:
    return np.array([LABELS.index(e.label) for e in examples], dtype=np.int64)


TRAINING_PERTURBATIONS = ("homoglyphs", "leetspeak", "mixed", "spacing", "zero_width")
"""The families evasion copies are drawn from. Elongation is left out: `clean_text` cuts the
repeats back before either tier reads the text, so its copies would teach little, and a new
family changes every row's seeded draw (the whole model moves for that little)."""


def evasion_copies(rows: Sequence[Example], share: float = EVASION_SHARE) -> list[Example]:
    """Perturbed copies of a seeded share of rows, kept where the normaliser leaves a trace.

    The normaliser undoes most evasion, but not all: a lone "70" for "to" is also a number, so
    "death 70 all X" reads differently from "death to all X". Copies of every class (not only
    `tvec`) teach the model the residue without teaching it that digits mean propaganda.
    """
    rng = random.Random(SEED)
    names = sorted(TRAINING_PERTURBATIONS)
    out = []
    for ex in rows:
        if rng.random() >= share:
            continue
        text = PERTURBATIONS[names[rng.randrange(len(names))]](ex.text, rng)
        if clean_text(text) != clean_text(ex.text):
            out.append(dataclasses.replace(ex, text=text))
    return out


def choose_facets(train_rows: Sequence[Example]) -> list[str]:
    """Facets in class order: `corpora` wherever it has rows, other kinds with enough rows.

    A smaller facet folds into its class's `corpora` facet (see `facets_of`).
    """
    counts = Counter(facet_of(e.label, e.source) for e in train_rows)
    facets = [
        f"{label}/{kind}"
        for label in LABELS
        for kind in FACET_KINDS
        if counts[f"{label}/{kind}"] >= (1 if kind == "corpora" else MIN_FACET_ROWS)
    ]
    missing = [label for label in LABELS if not any(facet_label(f) == label for f in facets)]
    if missing:
        raise InvalidInput(
            f"training data lacks enough rows of {', '.join(missing)}",
            hint=f"every class needs rows from a corpus or {MIN_FACET_ROWS} from one kind",
        )
    return facets


def facets_of(examples: Sequence[Example], facets: Sequence[str]) -> np.ndarray:
    """Facet index per row; a row whose facet was folded goes to its class's `corpora` facet
    (or, where the class has none, to the class's first facet)."""
    index = {name: i for i, name in enumerate(facets)}
    fold = {}
    for label in LABELS:
        own = [name for name in facets if facet_label(name) == label]
        fold[label] = index.get(f"{label}/corpora", index[own[0]] if own else -1)
    return np.array(
        [index.get(facet_of(e.label, e.source), fold[e.label]) for e in examples],
        dtype=np.int64,
    )


def choose_threshold(proba: np.ndarray, y: np.ndarray) -> float:
    """Lowest confidence at which the fast tier's own decisions reach the target accuracy."""
    top = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    for t in THRESHOLDS:
        kept = top >= t
        if kept.sum() and correct[kept].mean() >= TARGET_FAST_ACCURACY:
            return float(t)
    return float(THRESHOLDS[-1])


def choose_blend(
    fast_p: np.ndarray, sem_logp: np.ndarray, y: np.ndarray, collapse: np.ndarray
) -> tuple[float, float]:
    """Weights of the two tiers' facet log-probabilities minimising held-out class log loss."""
    log_fast = np.log(np.clip(fast_p, 1e-12, 1.0))
    best = (np.inf, 0.0, 1.0)
    for a in BLEND_GRID:
        for b in BLEND_GRID:
            if a == 0 and b == 0:
                continue
            p = softmax(a * log_fast + b * sem_logp) @ collapse
            loss = -np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1.0)).mean()
            if loss < best[0] - 1e-9:
                best = (loss, float(a), float(b))
    return best[1], best[2]


def choose_tvec_threshold(proba: np.ndarray, y: np.ndarray) -> float:
    """Lowest P(tvec) at which news and counter-speech flagged on calibration stay under target.

    The scores stay calibrated; only the decision moves, trading a little precision on chatter
    for recall on propaganda while protecting journalism and counter-speech first.
    """
    tvec = LABELS.index("tvec")
    protected = [LABELS.index("news"), LABELS.index("counter")]
    for t in TVEC_THRESHOLDS:
        flagged = proba[:, tvec] >= t
        rates = [flagged[y == k].mean() for k in protected if (y == k).any()]
        if all(rate <= MAX_FLAG_RATE for rate in rates):
            return float(t)
    return 0.5


def count_table(parts: dict[str, list[Example]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for name, rows in parts.items():
        counts = Counter(f"{e.source}/{e.label}/{e.lang}" for e in rows)
        table[name] = dict(sorted(counts.items()))
    return table


def data_fingerprint(examples: Sequence[Example]) -> str:
    digest = hashlib.sha256()
    for ex in examples:
        digest.update(f"{ex.label}\t{ex.category}\t{ex.group}\t{ex.text}\n".encode())
    return digest.hexdigest()[:16]


def train(
    data_dir: Path,
    out_dir: Path,
    *,
    cache_dir: Path,
    log: Any = sys.stderr,
    extra: Path | None = None,
) -> TrainingResult:
    """Weak-label and split the shared corpora (and any extra folder), fit, write the model."""
    examples = load_all(data_dir, extra)
    parts = split(examples)
    cache = EmbeddingCache(cache_dir / f"{ENCODER_NAME}.npz")
    return fit_model(parts, out_dir, cache=cache, version=data_fingerprint(examples), log=log)


def fit_model(
    parts: dict[str, list[Example]],
    out_dir: Path,
    *,
    cache: EmbeddingCache,
    version: str,
    log: Any = sys.stderr,
    min_df: int = 2,
    refit: bool = True,
    recipe: Recipe = Recipe(),
    evasion: bool = True,
) -> TrainingResult:
    """Fit both tiers on `parts["train"]`, calibrate on `parts["cal"]`, write `out_dir`.

    With `refit` (the default), both tiers and the category head are then fitted again on
    train + calibration with the same settings, and keep the temperatures, blend and
    thresholds the calibration split chose for the train-only fit. The calibration split
    holds a fifth of all accounts and channels; propaganda from accounts the model never saw
    is what it misses most, so those accounts train the shipped weights too. Test is never
    touched, so its figures still measure texts from unseen accounts.
    `recipe`: optional variants (`recipe.Recipe`). `evasion=False` takes the rows as given,
    for a caller that added the evasion copies once for several fits (`bench/loso.py`).
    """
    train_rows = _with_copies(parts["train"], evasion)
    cal_rows = parts["cal"]
    final_rows = _with_copies([*parts["train"], *cal_rows], evasion) if refit else train_rows
    print(
        f"train {len(train_rows)} (with evasion copies), calibration {len(cal_rows)}, "
        f"final fit {len(final_rows)}",
        file=log,
    )
    x_cal = [clean_text(e.text) for e in cal_rows]
    f_cal = [fast_text(e.text, recipe) for e in cal_rows]
    x_final = [fast_text(e.text, recipe) for e in final_rows]
    facets = choose_facets(train_rows)
    collapse = collapse_matrix(facets)
    y_cal = labels_of(cal_rows)
    vocab = build_vocabulary(x_final, min_df=min_df)
    encoder = SentenceEncoder(threads=1, name=ENCODER_NAME)
    fast, semantic = fit_tiers(vocab, encoder, cache, train_rows, facets, recipe)

    cal_logits = fast.logits(vectorize(vocab, f_cal))
    fast.temperature = fit_temperature(cal_logits, y_cal, collapse)
    cal_fast_facets = fast.proba(cal_logits)
    cal_fast = cal_fast_facets @ collapse
    print(f"fast tier: {vocab.size} features, facets {facets}, T={fast.temperature:.2f}", file=log)
    e_cal = cache.embed(encoder, x_cal)
    semantic.temperature = fit_temperature(semantic.dense_logits(e_cal), y_cal, collapse)
    sem_logp = log_softmax(semantic.dense_logits(e_cal) / semantic.temperature)

    threshold = choose_threshold(cal_fast, y_cal)
    unsure = cal_fast.max(axis=1) < threshold
    if unsure.sum() < 50:
        unsure = np.ones(len(y_cal), dtype=bool)
    blend = choose_blend(cal_fast_facets[unsure], sem_logp[unsure], y_cal[unsure], collapse)
    final = cal_fast.copy()
    final[unsure] = (
        softmax(
            blend[0] * np.log(np.clip(cal_fast_facets[unsure], 1e-12, 1.0))
            + blend[1] * sem_logp[unsure]
        )
        @ collapse
    )
    tvec_threshold = choose_tvec_threshold(final, y_cal)
    print(
        f"threshold {threshold}, blend {blend}, unsure share {unsure.mean():.2f}, "
        f"tvec threshold {tvec_threshold}",
        file=log,
    )
    if refit:
        refit_fast, refit_semantic = fit_tiers(vocab, encoder, cache, final_rows, facets, recipe)
        refit_fast.temperature, refit_semantic.temperature = fast.temperature, semantic.temperature
        fast, semantic = refit_fast, refit_semantic

    category, categories = fit_categories(vocab, final_rows, x_final)
    counts = count_table(parts)
    config = TierConfig(
        version=f"tvec-clf-{version}-{weights_digest(fast, semantic, facets, category)}",
        fast_threshold=threshold,
        blend_fast=blend[0],
        blend_semantic=blend[1],
        tvec_threshold=tvec_threshold,
        facets=tuple(facets),
        extra={
            "encoder": ENCODER_NAME,
            "seed": SEED,
            "fast_c": FAST_C,
            "semantic_hidden": SEMANTIC_HIDDEN,
            "semantic_members": SEMANTIC_MEMBERS,
            "features": vocab.size,
            "categories": list(categories),
            "common_terms": common_terms(x_final),
            "split_counts": {k: sum(v.values()) for k, v in counts.items()},
            "weights_fitted_on": "train+cal" if refit else "train",
            **({"recipe": recipe.to_json()} if recipe != Recipe() else {}),
        },
    )
    write_model(out_dir, vocab.to_json(), fast, semantic, config, counts)
    if category is not None:
        category.save(out_dir / CATEGORY)
    return TrainingResult(out_dir, config, counts)


def _with_copies(rows: Sequence[Example], evasion: bool = True) -> list[Example]:
    return [*rows, *evasion_copies(rows)] if evasion else list(rows)


def fit_tiers(
    vocab: Any,
    encoder: SentenceEncoder,
    cache: EmbeddingCache,
    rows: Sequence[Example],
    facets: Sequence[str],
    recipe: Recipe = Recipe(),
) -> tuple[LinearModel, MlpModel]:
    """The fast tier on sparse features and the semantic tier on cached embeddings, both on
    `rows` (temperatures left at 1: the caller calibrates), weighted as `recipe` says; the
    semantic tier averages SEMANTIC_MEMBERS seeded heads."""
    cleaned = [clean_text(e.text) for e in rows]
    targets = facets_of(rows, facets)
    weight = row_weights([e.source for e in rows], [e.label for e in rows], recipe)
    fast = fit_linear(
        to_scipy(vectorize(vocab, [fast_text(e.text, recipe) for e in rows]), vocab.size),
        targets,
        c=FAST_C,
        n_classes=len(facets),
        seed=SEED,
        sample_weight=weight,
    )
    emb = cache.embed(encoder, cleaned)
    semantic = MlpModel.averaged(
        [
            fit_mlp(emb, targets, hidden=SEMANTIC_HIDDEN, seed=SEED + k, sample_weight=weight)
            for k in tqdm(range(SEMANTIC_MEMBERS), desc="semantic heads", unit="head")
        ]
    )
    return fast, semantic


def fit_categories(
    vocab: Any, rows: Sequence[Example], cleaned: Sequence[str]
) -> tuple[LinearModel | None, tuple[str, ...]]:
    """The category head: which TVEC category a `tvec` text is, from the fast tier's features.

    Trained on the `tvec` training rows with their category: the annotators' for the Fifth
    Tribe, far-right Telegram and Alfifi posts, else their source's (threat templates
    TVEC2/TVEC8, Latent Hatred's threatening TVEC2, recruitment calls TVEC6, the rest TVEC7);
    categories with fewer than MIN_CATEGORY_ROWS rows get no output, and with fewer than two
    categories there is no head (every `tvec` answer is then TVEC7).
    """
    counts = Counter(e.category for e in rows if e.label == "tvec" and e.category)
    categories = tuple(sorted(c for c, n in counts.items() if n >= MIN_CATEGORY_ROWS))
    if len(categories) < 2:
        return None, ()
    idx = [i for i, e in enumerate(rows) if e.label == "tvec" and e.category in categories]
    y = np.array([categories.index(rows[i].category) for i in idx], dtype=np.int64)
    x = to_scipy(vectorize(vocab, [cleaned[i] for i in idx]), vocab.size)
    model = fit_linear(x, y, c=CATEGORY_C, n_classes=len(categories), seed=SEED)
    return model, categories


def common_terms(cleaned: Sequence[str]) -> list[str]:
    """Words in more than COMMON_DF of the training texts (shown never as evidence)."""
    df: Counter[str] = Counter()
    for text in cleaned:
        df.update(set(words(text)))
    limit = COMMON_DF * len(cleaned)
    return sorted(w for w, n in df.items() if n > limit)


def weights_digest(
    fast: LinearModel,
    semantic: MlpModel,
    facets: Sequence[str],
    category: LinearModel | None = None,
) -> str:
    """Eight hex digits of the fitted weights: the version names the model, not only its data,
    so decisions made by two models trained on the same corpora stay distinguishable. The
    category head counts too: it sets the TVEC label a decision carries."""
    digest = hashlib.sha256()
    arrays = [fast.weights, fast.bias, semantic.w1, semantic.b1, semantic.w2, semantic.b2]
    if category is not None:
        arrays += [category.weights, category.bias]
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("|".join(facets).encode())
    return digest.hexdigest()[:8]


def write_model(
    out_dir: Path,
    vocab_json: dict[str, list[str]],
    fast: LinearModel,
    semantic: MlpModel,
    config: TierConfig,
    counts: dict[str, dict[str, int]],
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / VOCAB).write_text(json.dumps(vocab_json, ensure_ascii=False), encoding="utf-8")
    fast.save(out_dir / FAST)
    semantic.save(out_dir / SEMANTIC)
    (out_dir / CONFIG).write_text(json.dumps(config.to_json(), indent=2) + "\n", encoding="utf-8")
    (out_dir / "training_counts.json").write_text(
        json.dumps(counts, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
