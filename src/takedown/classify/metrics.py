"""Plain metrics for a 4-class classifier: P/R/F1, confusion, flag rates, calibration.

Written out (not sklearn) so evaluation needs only numpy, and so the two rates the issue's
targets name — news and counter-speech flagged as `tvec` — are computed in one obvious place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from takedown.classify import LABELS


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int = len(LABELS)) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    out = np.zeros((n, n), dtype=np.int64)
    np.add.at(out, (y_true, y_pred), 1)
    return out


@dataclass
class Report:
    n: int
    per_class: dict[str, dict[str, float]]
    macro_f1: float
    accuracy: float
    confusion: list[list[int]]
    flagged_as_tvec: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def report(y_true: np.ndarray, y_pred: np.ndarray) -> Report:
    """Per-class P/R/F1 over the classes present in `y_true` (macro-F1 averages only those)."""
    cm = confusion(y_true, y_pred)
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for k, label in enumerate(LABELS):
        support = int(cm[k].sum())
        if support == 0:
            continue
        predicted = int(cm[:, k].sum())
        tp = int(cm[k, k])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
        f1s.append(f1)
    tvec = LABELS.index("tvec")
    flagged = {
        label: float(cm[k, tvec] / cm[k].sum())
        for k, label in enumerate(LABELS)
        if label != "tvec" and cm[k].sum()
    }
    return Report(
        n=int(len(y_true)),
        per_class=per_class,
        macro_f1=float(np.mean(f1s)) if f1s else 0.0,
        accuracy=float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        confusion=cm.tolist(),
        flagged_as_tvec=flagged,
    )


def calibration_bins(
    proba: np.ndarray, y_true: np.ndarray, bins: int = 10
) -> tuple[list[dict[str, float]], float]:
    """Reliability of the top-class probability: per-bin confidence vs accuracy, and the ECE."""
    conf = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (conf > lo) & (conf <= hi)
        if not mask.any():
            continue
        acc, mean_conf = float(correct[mask].mean()), float(conf[mask].mean())
        out.append(
            {"lo": lo, "hi": hi, "n": int(mask.sum()), "confidence": mean_conf, "accuracy": acc}
        )
        ece += mask.mean() * abs(acc - mean_conf)
    return out, float(ece)


def tvec_reliability(
    proba: np.ndarray, y_true: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Reliability of P(tvec) itself: what a policy threshold on the tvec score relies on."""
    p = proba[:, LABELS.index("tvec")]
    is_tvec = (y_true == LABELS.index("tvec")).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        mask = (p >= lo) & (p < hi) if hi < 1 else (p >= lo)
        if mask.any():
            out.append(
                {"lo": lo, "hi": hi, "n": int(mask.sum()), "predicted": float(p[mask].mean()),
                 "observed": float(is_tvec[mask].mean())}
            )  # fmt: skip
    return out


def annotator_agreement(first: list[str], second: list[str]) -> dict[str, Any]:
    """Raw agreement and Cohen's kappa of two annotation passes over the same items.

    Kappa discounts the agreement two annotators would reach by chance given how often each
    uses each label; it is the figure that says whether a codebook can be applied consistently.
    """
    if len(first) != len(second) or not first:
        raise ValueError("two non-empty passes of the same length are needed")
    labels = sorted(set(first) | set(second))
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    expected = sum((first.count(k) / n) * (second.count(k) / n) for k in labels)
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 1.0
    matrix = {a: {b: 0 for b in labels} for a in labels}
    for a, b in zip(first, second, strict=True):
        matrix[a][b] += 1
    return {"n": n, "agreement": observed, "kappa": kappa, "confusion": matrix}
