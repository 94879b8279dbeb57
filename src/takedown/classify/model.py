"""The shipped, tiered classifier: load `src/takedown/models/classifier/`, classify texts.

Tier 1 (fast) is a sparse linear model; if its top calibrated probability reaches
`fast_threshold` its answer stands. Otherwise tier 2 (semantic) embeds the text with the
multilingual sentence encoder and blends both tiers' log-probabilities with weights fitted on
a calibration split. Every answer records which tier produced it, so reports can show the
share each tier takes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from takedown.classify import LABELS, facet_label
from takedown.classify.encoder import PAIR_NAME, SentenceEncoder
from takedown.classify.features import Vocabulary, vectorize
from takedown.classify.langid_fast import LanguageIdentifier
from takedown.classify.linear import LinearModel, MlpModel, log_softmax, softmax
from takedown.classify.recipe import Recipe, fast_text
from takedown.classify.stopwords import is_content_term
from takedown.classify.text import clean_text
from takedown.core.errors import InvalidInput, NotFound

CONFIG = "config.json"
VOCAB = "vocab.json"
FAST = "fast.npz"
SEMANTIC = "semantic.npz"
CATEGORY = "category.npz"
MAX_TERMS = 6
DEFAULT_CATEGORY = "TVEC7"
"""The category of a `tvec` answer from a model without a category head."""


def default_model_dir() -> Path:
    """`takedown/models/classifier` inside the package, so `pip install .` ships the model
    (and `takedown model train` rewrites it in a source checkout)."""
    return Path(__file__).resolve().parents[1] / "models" / "classifier"


@dataclass(frozen=True)
class Classification:
    label: str
    scores: dict[str, float]
    lang: str
    tier: str
    evidence: dict[str, Any] = field(default_factory=dict)
    rule: str = ""
    """Which decision rule picked `label` (see `TierConfig.rule`)."""
    category: str | None = None
    """The TVEC category (TVEC2/6/7/8) of a `tvec` answer; None for every other class."""

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "category": self.category,
            "rule": self.rule,
            "scores": self.scores,
            "lang": self.lang,
            "evidence": {"tier": self.tier, **self.evidence},
        }


def collapse_matrix(facets: Sequence[str]) -> np.ndarray:
    """(facets x classes) 0/1: a class's probability is the sum of its facets'."""
    out = np.zeros((len(facets), len(LABELS)))
    for i, name in enumerate(facets):
        out[i, LABELS.index(facet_label(name))] = 1.0
    return out


@dataclass
class TierConfig:
    version: str
    fast_threshold: float
    blend_fast: float
    blend_semantic: float
    tvec_threshold: float = 0.5
    facets: tuple[str, ...] = LABELS
    """The weight matrices' outputs: facets of the classes (`tvec/posts`...), or the classes."""
    extra: dict[str, Any] = field(default_factory=dict)

    def decide(self, proba: np.ndarray) -> np.ndarray:
        """Class index per row: `tvec` at or above its threshold, else the most likely other."""
        tvec = LABELS.index("tvec")
        rest = proba.copy()
        rest[:, tvec] = -1.0
        return np.where(proba[:, tvec] >= self.tvec_threshold, tvec, rest.argmax(axis=1))

    def rule(self, p_tvec: float) -> str:
        """The rule `decide` applied to a text with this P(tvec), in words for the output."""
        if p_tvec >= self.tvec_threshold:
            return f"tvec: P(tvec) {p_tvec:.2f} >= threshold {self.tvec_threshold:.2f}"
        return (
            f"most likely of news/counter/other: P(tvec) {p_tvec:.2f} < threshold "
            f"{self.tvec_threshold:.2f}"
        )
    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "labels": list(LABELS),
            "fast_threshold": self.fast_threshold,
            "blend_fast": self.blend_fast,
            "blend_semantic": self.blend_semantic,
            "tvec_threshold": self.tvec_threshold,
            "facets": list(self.facets),
            **self.extra,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> TierConfig:
        if list(obj.get("labels", [])) != list(LABELS):
            raise InvalidInput("model labels do not match this code", hint="retrain the model")
        known = {
            "version", "labels", "fast_threshold", "blend_fast", "blend_semantic",
            "tvec_threshold", "facets",
        }  # fmt: skip
        facets = tuple(str(f) for f in obj.get("facets", LABELS))
        if any(facet_label(f) not in LABELS for f in facets):
            raise InvalidInput("model facets do not match this code", hint="retrain the model")
        return cls(
            version=str(obj["version"]),
            fast_threshold=float(obj["fast_threshold"]),
            blend_fast=float(obj["blend_fast"]),
            blend_semantic=float(obj["blend_semantic"]),
            tvec_threshold=float(obj.get("tvec_threshold", 0.5)),
            facets=facets,
            extra={k: v for k, v in obj.items() if k not in known},
        )


class TieredClassifier:
    """Fast sparse tier for clear cases, sentence-encoder tier for the uncertain ones."""

    def __init__(
        self,
        vocab: Vocabulary,
        fast: LinearModel,
        semantic: MlpModel,
        config: TierConfig,
        *,
        encoder: SentenceEncoder | None = None,
        languages: LanguageIdentifier | None = None,
        category: LinearModel | None = None,
    ) -> None:
        self.vocab = vocab
        self.fast = fast
        self.semantic = semantic
        self.config = config
        self.encoder = encoder or SentenceEncoder(name=str(config.extra.get("encoder", PAIR_NAME)))
        self.languages = languages or LanguageIdentifier()
        self.category = category
        self.categories: tuple[str, ...] = tuple(config.extra.get("categories", ()))
        self._common = frozenset(config.extra.get("common_terms", ()))
        self._terms: list[str] | None = None
        self._collapse = collapse_matrix(config.facets)
        self.recipe = Recipe.from_json(config.extra.get("recipe"))

    @property
    def version(self) -> str:
        return self.config.version

    @classmethod
    def load(cls, model_dir: Path | None = None) -> TieredClassifier:
        folder = model_dir or default_model_dir()
        if not (folder / CONFIG).is_file():
            raise NotFound(
                f"no trained classifier in {folder}",
                hint="run `takedown model train` or pass the model directory",
            )
        try:
            config = TierConfig.from_json(json.loads((folder / CONFIG).read_text("utf-8")))
            vocab = Vocabulary.from_json(json.loads((folder / VOCAB).read_text("utf-8")))
        except (OSError, ValueError, KeyError) as error:
            raise InvalidInput(f"cannot read classifier files in {folder}: {error}") from None
        category = LinearModel.load(folder / CATEGORY) if (folder / CATEGORY).is_file() else None
        return cls(
            vocab,
            LinearModel.load(folder / FAST),
            MlpModel.load(folder / SEMANTIC),
            config,
            category=category,
        )

    @classmethod
    def shared(cls, model_dir: Path | None = None) -> TieredClassifier:
        """One classifier per model folder per process: detectors, API and workers share its
        ~60 MB of weights and its encoder instead of loading their own."""
        key = (model_dir or default_model_dir()).resolve()
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = cls.load(key)
            return _SHARED[key]

    def categories_of(self, batch: Any, rows: np.ndarray) -> list[str]:
        """The TVEC category of each row in `rows` of a vectorised batch (the category head's
        argmax over the categories it was trained on; TVEC7 without a head)."""
        if self.category is None or not self.categories or not len(rows):
            return [DEFAULT_CATEGORY] * len(rows)
        logits = self.category.logits(batch)[rows]
        return [self.categories[int(k)] for k in logits.argmax(axis=1)]

    def fast_inputs(self, raw: Sequence[str], cleaned: Sequence[str]) -> list[str]:
        """What the fast tier reads: the cleaned texts, or (a model trained with
        `Recipe.mask_fingerprints`) the texts with their source fingerprints removed."""
        if not self.recipe.mask_fingerprints:
            return list(cleaned)
        return [fast_text(t, self.recipe) for t in raw]

    def fast_facets(self, cleaned: Sequence[str]) -> np.ndarray:
        """Fast-tier probabilities per facet (sum them per class with `collapse`)."""
        return self.fast.proba(self.fast.logits(vectorize(self.vocab, cleaned)))

    def collapse(self, facet_proba: np.ndarray) -> np.ndarray:
        out: np.ndarray = facet_proba @ self._collapse
        return out

    def fast_proba(self, cleaned: Sequence[str]) -> np.ndarray:
        return self.collapse(self.fast_facets(cleaned))

    def semantic_proba(self, embeddings: np.ndarray, fast_facets: np.ndarray) -> np.ndarray:
        """Class probabilities from the blend of both tiers' facet log-probabilities (weights
        and temperatures fitted on the calibration split)."""
        sem = log_softmax(self.semantic.dense_logits(embeddings) / self.semantic.temperature)
        fast = np.log(np.clip(fast_facets, 1e-12, 1.0))
        return self.collapse(
            softmax(self.config.blend_fast * fast + self.config.blend_semantic * sem)
        )

    def warm(self) -> None:
        """Load the lazily loaded parts (language id, the sentence encoders) now: a worker calls
        this before its first claim, so no batch under load pays seconds of model loading.
        Language ID loads on a second thread meanwhile (`LanguageIdentifier.prefetch`)."""
        self.languages.prefetch()
        self.encoder.warm()
        self.languages.warm()

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """The batch entry point for workers: one call for many items, so the encoder sees one
        batch (same answers as `classify`, in order)."""
        return self.classify(texts)

    def classify(self, texts: Sequence[str], *, tiers: str = "auto") -> list[Classification]:
        """Classify raw texts. `tiers`: "auto" (default), "fast" only, or "semantic" for all."""
        if tiers not in ("auto", "fast", "semantic"):
            raise InvalidInput(f"unknown tiers mode {tiers!r}", hint="auto, fast or semantic")
        self.languages.prefetch()
        cleaned = [clean_text(t) for t in texts]
        batch = vectorize(self.vocab, self.fast_inputs(texts, cleaned))
        facets = self.fast.proba(self.fast.logits(batch))
        proba = self.collapse(facets)
        tier = np.array(["fast"] * len(texts), dtype=object)
        if tiers != "fast":
            if tiers == "semantic":
                unsure = np.arange(len(texts))
            else:
                unsure = np.flatnonzero(proba.max(axis=1) < self.config.fast_threshold)
            if len(unsure):
                emb = self.encoder.encode([cleaned[i] for i in unsure])
                proba[unsure] = self.semantic_proba(emb, facets[unsure])
                tier[unsure] = "semantic"
        decided = self.config.decide(proba)
        hits = np.flatnonzero(decided == LABELS.index("tvec"))
        category = dict(zip(hits.tolist(), self.categories_of(batch, hits), strict=True))
        out = []
        for i, text in enumerate(texts):
            scores = {label: round(float(p), 4) for label, p in zip(LABELS, proba[i], strict=True)}
            label = LABELS[int(decided[i])]
            present = batch.cols[batch.starts[i] : batch.starts[i + 1]]
            evidence = self.evidence(text, present, label, facets[i])
            out.append(
                Classification(
                    label,
                    scores,
                    self.languages.identify(text),
                    tier[i],
                    evidence,
                    rule=self.config.rule(float(proba[i, LABELS.index("tvec")])),
                    category=category.get(i),
                )
            )
        return out

    def evidence(
        self, raw: str, present: np.ndarray, label: str, facet_proba: np.ndarray
    ) -> dict[str, Any]:
        """The terms that pushed the chosen class (and, if different, `tvec`) up, with spans.

        `present` are the text's feature columns; only words and bigrams with a content word
        (`stopwords.is_content_term`) are shown. A class is explained through its most likely
        facet for this text, against the other classes' facets.
        """
        if self._terms is None:
            self._terms = self.vocab.terms()
        terms = self._terms
        cols = np.array(
            [c for c in present[present < self.vocab.n_terms]
             if is_content_term(terms[c], self._common)],
            dtype=np.int64,
        )  # fmt: skip
        if not len(cols):
            return {"terms": [], "spans": []}
        scale = 1.0 / np.sqrt(len(present))
        out: dict[str, Any] = {}
        for name, cls_label in (("terms", label), ("tvec_terms", "tvec")):
            if name == "tvec_terms" and label == "tvec":
                continue
            facet, rivals = self._facet_and_rivals(cls_label, facet_proba)
            contrib = self.fast.contributions(cols, scale, facet, rivals)
            order = np.argsort(-contrib)[:MAX_TERMS]
            out[name] = [
                {"term": terms[cols[j]], "weight": round(float(contrib[j]), 4)}
                for j in order
                if contrib[j] > 0
            ]
        out["spans"] = find_spans(raw, [t["term"] for t in out["terms"]])
        return out

    def _facet_and_rivals(self, label: str, facet_proba: np.ndarray) -> tuple[int, np.ndarray]:
        mine = self._collapse[:, LABELS.index(label)] > 0
        own = np.flatnonzero(mine)
        return int(own[np.argmax(facet_proba[own])]), np.flatnonzero(~mine)


_SHARED: dict[Path, TieredClassifier] = {}
_SHARED_LOCK = threading.Lock()


def find_spans(raw: str, terms: Sequence[str]) -> list[dict[str, Any]]:
    """Character offsets of the evidence terms in the original text, where they occur verbatim.

    Terms come from the normalised text; a term hidden by evasion (homoglyphs, leetspeak) has no
    verbatim span in the original, and then only the term itself is reported. A plain
    case-insensitive scan (no regex compiled per term) keeps this off the fast tier's hot path.
    """
    lowered = raw.lower()
    if len(lowered) != len(raw):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in raw)
    spans = []
    for term in terms:
        start = _find_word(lowered, term)
        if start >= 0:
            end = start + len(term)
            spans.append({"start": start, "end": end, "text": raw[start:end]})
    return spans


def _find_word(haystack: str, needle: str) -> int:
    """First occurrence of `needle` not inside a longer word, or -1."""
    start = haystack.find(needle)
    while start >= 0:
        end = start + len(needle)
        before = haystack[start - 1] if start else " "
        after = haystack[end] if end < len(haystack) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return start
        start = haystack.find(needle, start + 1)
    return -1
