"""A multinomial linear model stored as plain arrays, with prediction reimplemented in numpy.

Training uses scikit-learn; what ships is only its coefficients (npz, no pickle) plus a
temperature fitted on a held-out calibration split, so probabilities mean what they say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from takedown.classify.features import Batch
from takedown.core.errors import InvalidInput


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    out: np.ndarray = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return out


def fit_temperature(logits: np.ndarray, y: np.ndarray, collapse: np.ndarray | None = None) -> float:
    """Temperature minimising log loss on held-out rows (a 1-D grid: robust and reproducible).

    With `collapse` (facets x classes, 0/1), the logits are per facet and `y` holds classes:
    the loss is that of the summed class probabilities, the ones the classifier reports.
    """
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 241))
    rows = np.arange(len(y))
    if collapse is None:
        losses = [-log_softmax(logits / t)[rows, y].mean() for t in grid]
    else:
        losses = [
            -np.log(np.clip((softmax(logits / t) @ collapse)[rows, y], 1e-12, 1.0)).mean()
            for t in grid
        ]
    return float(grid[int(np.argmin(losses))])


@dataclass
class LinearModel:
    """Weights are (n_features, n_classes); `temperature` divides logits before the softmax."""

    weights: np.ndarray
    bias: np.ndarray
    temperature: float = 1.0

    def logits(self, batch: Batch) -> np.ndarray:
        """Raw (uncalibrated) logits of a sparse batch, without scipy."""
        contrib = self.weights[batch.cols].astype(np.float64)
        contrib *= np.repeat(batch.scale, np.diff(batch.starts))[:, None]
        cum = np.vstack([np.zeros((1, contrib.shape[1])), np.cumsum(contrib, axis=0)])
        out: np.ndarray = cum[batch.starts[1:]] - cum[batch.starts[:-1]] + self.bias
        return out

    def dense_logits(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = x @ self.weights + self.bias
        return out

    def proba(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits / self.temperature)

    def contributions(
        self, cols: np.ndarray, scale: float, cls: int, rivals: np.ndarray | None = None
    ) -> np.ndarray:
        """How much each present feature pushed output `cls` up relative to its rivals
        (default: every other output)."""
        w = self.weights[cols].astype(np.float64)
        others = np.delete(w, cls, axis=1) if rivals is None else w[:, rivals]
        out: np.ndarray = scale * (w[:, cls] - others.mean(axis=1))
        return out

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float64),
            temperature=np.array([self.temperature]),
        )

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls(
                    weights=np.asarray(data["weights"], dtype=np.float32),
                    bias=np.asarray(data["bias"], dtype=np.float64),
                    temperature=float(data["temperature"][0]),
                )
        except (OSError, KeyError, ValueError) as error:
            raise InvalidInput(
                f"cannot read model weights {path}: {error}",
                hint="rebuild them with `takedown model train`",
            ) from None


@dataclass
class MlpModel:
    """One hidden ReLU layer over sentence embeddings; same `dense_logits`/`temperature` API."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    temperature: float = 1.0

    def dense_logits(self, x: np.ndarray) -> np.ndarray:
        hidden = np.maximum(x.astype(np.float32) @ self.w1 + self.b1, 0.0)
        out: np.ndarray = (hidden @ self.w2 + self.b2).astype(np.float64)
        return out

    @classmethod
    def averaged(cls, members: Sequence[MlpModel]) -> MlpModel:
        """One MLP whose logits are the mean of the members' logits: their hidden units side
        by side, each member's output weights divided by the count.

        Averaging logits is the same as averaging the members' log-probabilities before the
        softmax (the two differ by a per-row constant), so this *is* the seed ensemble, at
        the cost of one wider matrix product. Heads fitted from different seeds disagree most
        on texts unlike their training data, which is where a single head is overconfident.
        """
        if not members:
            raise ValueError("an average needs at least one member")
        n = len(members)
        return cls(
            np.concatenate([m.w1 for m in members], axis=1),
            np.concatenate([m.b1 for m in members]),
            (np.concatenate([m.w2 for m in members], axis=0) / n).astype(np.float32),
            (np.mean([m.b2 for m in members], axis=0)).astype(np.float32),
            temperature=members[0].temperature,
        )

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path, w1=self.w1, b1=self.b1, w2=self.w2, b2=self.b2,
            temperature=np.array([self.temperature]),
        )  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> MlpModel:
        try:
            with np.load(path, allow_pickle=False) as data:
                w1, b1, w2, b2 = (
                    np.asarray(data[k], dtype=np.float32) for k in ("w1", "b1", "w2", "b2")
                )
                return cls(w1, b1, w2, b2, temperature=float(data["temperature"][0]))
        except (OSError, KeyError, ValueError) as error:
            raise InvalidInput(
                f"cannot read model weights {path}: {error}",
                hint="rebuild them with `takedown model train`",
            ) from None


def fit_mlp(
    x: np.ndarray,
    y: np.ndarray,
    *,
    hidden: int,
    seed: int,
    sample_weight: np.ndarray | None = None,
) -> MlpModel:
    """Small MLP head (training-time only: scikit-learn); early stopping on a seeded 10%.

    `sample_weight` (None: every row alike) reweights rows, e.g. by source
    (`recipe.source_weights`)."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(hidden,), alpha=1e-3, early_stopping=True, random_state=seed,
        max_iter=200,
    )  # fmt: skip
    clf.fit(x, y, sample_weight=sample_weight)
    w1, w2 = (np.asarray(w, dtype=np.float32) for w in clf.coefs_)
    b1, b2 = (np.asarray(b, dtype=np.float32) for b in clf.intercepts_)
    return MlpModel(w1, b1, w2, b2)


def fit_linear(
    x: Any,
    y: np.ndarray,
    *,
    c: float,
    n_classes: int,
    seed: int,
    sample_weight: np.ndarray | None = None,
) -> LinearModel:
    """Balanced multinomial logistic regression (training-time only: imports scikit-learn).

    `sample_weight` multiplies the class balancing row by row (None: the plain recipe)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
    clf.fit(x, y, sample_weight=sample_weight)
    if list(clf.classes_) != list(range(n_classes)):
        raise InvalidInput("training data lacks a class", hint="every label needs examples")
    coef, bias = clf.coef_, clf.intercept_.copy()
    if n_classes == 2 and coef.shape[0] == 1:
        # scikit-learn fits one logit z for two classes; [-z/2, z/2] gives the same softmax.
        coef, bias = np.vstack([-coef / 2, coef / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    return LinearModel(weights=coef.T.astype(np.float32), bias=bias)
