"""Leave-one-source-out: how the training recipe reads a source it has never seen.

For each held-out source S (default: Latent Hatred, the German far-right Telegram posts and
the Gab Hate Corpus) the classifier is trained on the normal train split *without S*,
calibrated on the calibration split without S exactly as `takedown model train` does
(temperatures, blend, fast-tier threshold, `tvec` threshold; no final refit), and then read:

- on **every row of S** (all splits): propaganda (`tvec`) recall, and the share of each of
  S's other classes flagged as `tvec`;
- on the **normal test split** (S's rows removed): news and counter-speech flagged as
  `tvec`, `tvec` recall and macro-F1, the guard rails a variant must keep.

Gab is never trained on anyway, so its fold is the normal recipe on the normal split. The
baseline (today's recipe) and each `--variant` are fitted on the same rows in the same run and
printed side by side, with the variant / baseline ratio of held-out recall.

Evasion copies are drawn once from the whole train split and a fold drops S's copies with
its rows, so folds and variants share cached embeddings. The first run fills the embedding
cache (~110k texts: several minutes on 2 cores); run it under the shared bench lock:

    flock /work/coord/bench.lock python bench/loso.py --variant balanced [--variant mask]
        [--data ../shared/data (default: $TAKEDOWN_DATA_DIR or the checkout's ../shared/data)]
        [--holdout latent_hatred --holdout farright_telegram:de --holdout gab]
        [--max-train 20000] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from takedown.classify import LABELS
from takedown.classify.datasets import SEED, Example, load_all, split
from takedown.classify.encoder import ENCODER_NAME, EmbeddingCache, default_cache_dir
from takedown.classify.evaluation import TieredScorer
from takedown.classify.metrics import report
from takedown.classify.model import TieredClassifier
from takedown.classify.recipe import Recipe
from takedown.classify.training import evasion_copies, fit_model
from takedown.cli.model_commands import default_data_dir

HOLDOUTS = ("latent_hatred", "farright_telegram:de", "gab")
VARIANTS: dict[str, Recipe] = {
    "balanced": Recipe(source_balanced=True),
    "mask": Recipe(mask_fingerprints=True),
    "balanced+mask": Recipe(source_balanced=True, mask_fingerprints=True),
}
TVEC = LABELS.index("tvec")


@dataclass
class Fold:
    """One held-out source: what is fitted, calibrated and read."""

    spec: str
    train: list[Example]
    cal: list[Example]
    held: list[Example]
    test: list[Example]


def in_holdout(ex: Example, spec: str) -> bool:
    """`spec` is a source name, or `source:lang` for one language of a source."""
    source, _, lang = spec.partition(":")
    return ex.source == source and (not lang or ex.lang == lang)


def subsample(rows: list[Example], n: int | None) -> list[Example]:
    """At most `n` rows, a seeded sample in the original order (None or 0: all rows)."""
    if not n or len(rows) <= n:
        return rows
    keep = sorted(random.Random(SEED).sample(range(len(rows)), n))
    return [rows[i] for i in keep]


def make_folds(
    examples: list[Example], specs: list[str], max_train: int | None = None
) -> list[Fold]:
    """The folds of `specs` from the normal split (evasion copies drawn once, see above)."""
    parts = split(examples)
    train = [*parts["train"], *evasion_copies(parts["train"])]
    folds = []
    for spec in specs:
        held = [e for e in examples if in_holdout(e, spec)]
        if not held:
            raise SystemExit(f"no rows for held-out source {spec!r}")
        keep = [e for e in train if not in_holdout(e, spec)]
        folds.append(
            Fold(
                spec,
                subsample(keep, max_train),
                [e for e in parts["cal"] if not in_holdout(e, spec)],
                held,
                [e for e in parts["test"] if not in_holdout(e, spec)],
            )
        )
    return folds


def _flag_rates(rows: list[Example], pred: np.ndarray) -> dict[str, dict[str, Any]]:
    """Per true class of `rows`: n and the share predicted `tvec`."""
    labels = np.array([e.label for e in rows])
    out = {}
    for label in LABELS:
        mask = labels == label
        if mask.any():
            out[label] = {"n": int(mask.sum()), "tvec": float((pred[mask] == TVEC).mean())}
    return out


def auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """ROC-AUC of `scores` for `positive` rows against the rest (ties count half); None
    without both kinds. Tells a threshold problem (ranked right, cut too high) from a model
    that does not rank the held-out source's propaganda above its other posts at all."""
    from scipy.stats import rankdata

    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return None
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def measure(fold: Fold, recipe: Recipe, cache: EmbeddingCache, work: Path) -> dict[str, Any]:
    """Fit `recipe` on the fold, calibrate, and read the held-out source and the test split."""
    start = time.perf_counter()
    out_dir = work / f"{fold.spec.replace(':', '-')}-{recipe.name}"
    parts = {"train": fold.train, "cal": fold.cal, "test": []}
    fit_model(
        parts, out_dir, cache=cache, version="loso", log=io.StringIO(),
        refit=False, recipe=recipe, evasion=False,
    )  # fmt: skip
    clf = TieredClassifier.load(out_dir)
    scorer = TieredScorer(clf, cache)
    rows = [*fold.held, *fold.test]
    proba, _, _ = scorer.score([e.text for e in rows])
    pred = clf.config.decide(proba)
    held_pred, test_pred = pred[: len(fold.held)], pred[len(fold.held) :]
    y_test = np.array([LABELS.index(e.label) for e in fold.test], dtype=np.int64)
    test = report(y_test, test_pred).to_json()
    held_tvec = np.array([e.label == "tvec" for e in fold.held])
    return {
        "held": _flag_rates(fold.held, held_pred),
        "held_auc": auc(proba[: len(fold.held), TVEC], held_tvec),
        "test": _flag_rates(fold.test, test_pred),
        "test_macro_f1": test["macro_f1"],
        "tvec_threshold": clf.config.tvec_threshold,
        "fit_s": time.perf_counter() - start,
    }


def _pct(cell: dict[str, Any] | None) -> str:
    return "–" if cell is None else f"{100 * cell['tvec']:.1f}%"


def _auc(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render(results: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """A markdown table: one row per fold and recipe, the ratio of held-out recall."""
    out = [
        "| held out | recipe | held-out tvec recall | ratio | held-out other → tvec | "
        "held-out AUC | test news → tvec | test counter → tvec | test tvec recall "
        "| test macro-F1 | fit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for spec, by_recipe in results.items():
        base = by_recipe["baseline"]["held"].get("tvec", {"tvec": 0.0})["tvec"]
        for name, r in by_recipe.items():
            rec = r["held"].get("tvec")
            ratio = "–" if rec is None or base == 0 else f"{rec['tvec'] / base:.2f}"
            n = f" (n={rec['n']})" if rec else ""
            out.append(
                f"| {spec} | {name} | {_pct(rec)}{n} | {ratio} | {_pct(r['held'].get('other'))} "
                f"| {_auc(r.get('held_auc'))} | {_pct(r['test'].get('news'))} "
                f"| {_pct(r['test'].get('counter'))} "
                f"| {_pct(r['test'].get('tvec'))} | {r['test_macro_f1']:.3f} | {r['fit_s']:.0f} |"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="shared corpora")
    parser.add_argument("--holdout", action="append", help=f"default: {', '.join(HOLDOUTS)}")
    parser.add_argument("--variant", action="append", default=[], choices=sorted(VARIANTS))
    parser.add_argument("--max-train", type=int, default=None, help="subsample each fold's train")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    from tqdm import tqdm

    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    examples = load_all(args.data.resolve())
    folds = make_folds(examples, args.holdout or list(HOLDOUTS), args.max_train)
    cache = EmbeddingCache(default_cache_dir() / f"{ENCODER_NAME}.npz")
    recipes = {"baseline": Recipe(), **{v: VARIANTS[v] for v in args.variant}}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="loso-") as tmp:
        jobs = [(fold, name) for fold in folds for name in recipes]
        for fold, name in tqdm(jobs, desc="fits", unit="fit"):
            results.setdefault(fold.spec, {})[name] = measure(fold, recipes[name], cache, Path(tmp))
    print(f"load average at end: {os.getloadavg()}", file=sys.stderr)
    print("\n".join(render(results)))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
