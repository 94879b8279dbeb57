"""Training-recipe switches that the leave-one-source-out harness (`bench/loso.py`) compares.

Both are off by default, so `takedown model train` builds the shipped recipe unchanged:

- `source_balanced`: each training row weighs `n_source ** -SOURCE_POWER` (normalised to a
  mean of 1), in both tiers. A few large sources (Fifth Tribe, the news corpora, Gab-sized
  chatter sets) otherwise decide what each class looks like, and the model learns those
  sources' habits rather than what the class has in common across them.
- `source_label_balanced`: each training row weighs `(n_source / (k * n_source_label)) **
  SOURCE_POWER` (k: the labels the source has; normalised to a mean of 1), in both tiers.
  Within a source, each label then counts more alike: a milieu whose posts are mostly
  harmless (GermEval: one call to violence per seven others) otherwise teaches that the
  milieu's words mean `other`, and its calls to violence are read as chatter. Measured on
  the shipped split (December 2026): macro-F1 0.812 -> 0.821 and `tvec` precision 0.629 ->
  0.682, but recall 0.743 -> 0.712, far-right German 59.3 -> 54.0% and the held-out Gab
  45.2 -> 33.5%: off, since unseen propaganda is what the model misses most.
- `mask_fingerprints`: the fast tier reads the text with its *source fingerprints* removed
  (`text.mask_fingerprints`: hashtags dropped whole, channel sign-offs cut; URLs and
  @mentions are already gone in `clean_text`). Its character n-grams can otherwise learn
  a channel's footer or a campaign tag instead of the message. The semantic tier is left as
  is (its embeddings are cached by text, and the masked text would need new ones).

The model's `config.json` records both (`extra.recipe`), so a model trained with the mask
also reads with it (`TieredClassifier.fast_inputs`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from takedown.classify.text import clean_text, mask_fingerprints

SOURCE_POWER = 0.5
"""Weight exponent: 0 is the plain recipe, 1 makes every source count alike in total."""


@dataclass(frozen=True)
class Recipe:
    """Which optional training switches are on (see the module docstring)."""

    source_balanced: bool = False
    mask_fingerprints: bool = False
    source_label_balanced: bool = False

    def to_json(self) -> dict[str, bool]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any] | None) -> Recipe:
        obj = obj or {}
        return cls(
            source_balanced=bool(obj.get("source_balanced", False)),
            mask_fingerprints=bool(obj.get("mask_fingerprints", False)),
            source_label_balanced=bool(obj.get("source_label_balanced", False)),
        )

    @property
    def name(self) -> str:
        on = [k for k, v in asdict(self).items() if v]
        return "+".join(on) or "baseline"


def source_weights(sources: Sequence[str], power: float = SOURCE_POWER) -> np.ndarray:
    """Per-row weight `n_source ** -power`, scaled to a mean of 1 (so the fitted models'
    regularisation strength means what it means in the plain recipe)."""
    if not sources:
        return np.zeros(0, dtype=np.float64)
    counts = Counter(sources)
    raw = np.array([counts[s] ** -power for s in sources], dtype=np.float64)
    out: np.ndarray = raw * (len(raw) / raw.sum())
    return out


def source_label_weights(
    sources: Sequence[str], labels: Sequence[str], power: float = SOURCE_POWER
) -> np.ndarray:
    """Per-row weight `(n_source / (k_source * n_source_label)) ** power`, mean 1."""
    if not sources:
        return np.zeros(0, dtype=np.float64)
    per_source = Counter(sources)
    per_cell = Counter(zip(sources, labels, strict=True))
    kinds = Counter(source for source, _ in per_cell)
    raw = np.array(
        [(per_source[s] / (kinds[s] * per_cell[(s, y)])) ** power
         for s, y in zip(sources, labels, strict=True)],
        dtype=np.float64,
    )
    out: np.ndarray = raw * (len(raw) / raw.sum())
    return out


def row_weights(sources: Sequence[str], labels: Sequence[str], recipe: Recipe) -> np.ndarray | None:
    """The training rows' weights under `recipe` (None: unweighted, the plain recipe)."""
    weight = None
    if recipe.source_balanced:
        weight = source_weights(sources)
    if recipe.source_label_balanced:
        extra = source_label_weights(sources, labels)
        weight = extra if weight is None else weight * extra * (len(extra) / (weight * extra).sum())
    return weight


def fast_text(raw: str, recipe: Recipe) -> str:
    """What the fast tier reads of one raw text under `recipe`."""
    return clean_text(mask_fingerprints(raw)) if recipe.mask_fingerprints else clean_text(raw)
