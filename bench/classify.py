"""Throughput of the classifier per tier on one core, against baselines measured in the same run.

Baselines: `normalize_text` alone (the floor every text pays, since both tiers read normalised
text) for the fast tier, and "encoder on every text" (no tiering) for the tiered pipeline.
`fast_tier` includes artefact stripping and normalisation; `fast_tier_model_only` starts from
normalised text (features + linear model); `fast_tier_end_to_end` adds language ID, evidence
terms and spans, i.e. what `classify(..., tiers="fast")` returns.
Prints JSON with medians of several repeats. Texts: Fifth Tribe tweets and AG News leads when
the shared data is present (TAKEDOWN_DATA_DIR or ../shared/data), otherwise built-in sentences.

    OMP_NUM_THREADS=1 python bench/classify.py [--n 2000] [--repeats 5]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from takedown.classify.model import TieredClassifier  # noqa: E402
from takedown.classify.text import clean_text  # noqa: E402
from takedown.cli.model_commands import default_data_dir  # noqa: E402
from takedown.signals.normalize import normalize_text  # noqa: E402

FALLBACK = [
    "Officials said the attack killed three people near the ministry on Tuesday.",
    "Join the caravan of the mujahideen, brothers, the state will remain.",
    "Violence has no religion; the killers do not speak for any of us.",
    "Best coffee in town, open every weekend until late.",
]


def load_texts(n: int) -> list[str]:
    root = default_data_dir()
    texts: list[str] = []
    tweets = root / "isis-fanboy-tweets-fifthtribe" / "tweets.csv"
    news = root / "news-agnews-test" / "test.csv"
    if tweets.is_file() and news.is_file():
        with tweets.open(encoding="utf-8") as handle:
            texts += [r["tweets"] for r in csv.DictReader(handle)][: n // 2]
        with news.open(encoding="utf-8") as handle:
            texts += [f"{r['title']}. {r['description']}" for r in csv.DictReader(handle)][: n // 2]
    return (texts or FALLBACK * (n // len(FALLBACK) + 1))[:n]


def rate(fn: Callable[[], object], n: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--semantic-n", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    texts = load_texts(args.n)
    start = time.perf_counter()
    clf = TieredClassifier.load()
    load_s = time.perf_counter() - start
    clf.classify(texts[:16], tiers="semantic")  # warm: encoder weights, langid model
    small = texts[: args.semantic_n]
    cleaned = [clean_text(t) for t in texts]
    n, ns, r = len(texts), len(small), args.repeats
    out = {
        "texts": n,
        "model_load_s": round(load_s, 2),
        "baseline_normalize_only": rate(lambda: [normalize_text(t) for t in texts], n, r),
        "fast_tier": rate(lambda: clf.fast_proba([clean_text(t) for t in texts]), n, r),
        "fast_tier_model_only": rate(lambda: clf.fast_proba(cleaned), n, r),
        "fast_tier_end_to_end": rate(lambda: clf.classify(texts, tiers="fast"), n, r),
        "baseline_encoder_every_text": rate(lambda: clf.classify(small, tiers="semantic"), ns, r),
        "tiered_auto": rate(lambda: clf.classify(small, tiers="auto"), ns, r),
    }
    results = clf.classify(texts, tiers="fast")
    fast_share = sum(max(x.scores.values()) >= clf.config.fast_threshold for x in results) / n
    out["fast_tier_share"] = fast_share
    out["ratio_fast_vs_normalize_only"] = out["fast_tier"] / out["baseline_normalize_only"]
    out["ratio_tiered_vs_encoder_every_text"] = (
        out["tiered_auto"] / out["baseline_encoder_every_text"]
    )
    print(
        json.dumps(
            {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, indent=2
        )
    )


if __name__ == "__main__":
    main()
