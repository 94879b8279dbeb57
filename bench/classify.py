"""Throughput of the shipped classifier against the previous model, measured in the same run.

Baseline: the model shipped before #10 (two encoders, no windows), read straight from git
(`BASELINE_COMMIT`) into a temporary folder, so no copy of its 7 MB of weights is kept.
For each model, on one core, medians of several repeats:

- `cold_first_answer_s`: load the model and answer one uncertain short post from nothing
  (the encoder's weights included) in a fresh process: what a worker's first item waits.
- `short_end_to_end`: a realistic mix of short posts (jihadist and far-right posts, news leads,
  chatter), `classify` with tiers "auto" and evidence: texts/s.
- `long_1500`: 1,500-character texts (news articles, movement statements), whole: texts/s.
- `fast_tier_share`: share of the short posts the fast tier decides alone.

Texts come from the shared data (TAKEDOWN_DATA_DIR or ../shared/data); built-in sentences
otherwise.

    python bench/classify.py [--n 600] [--long-n 60] [--repeats 3]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

from takedown.classify.model import TieredClassifier, default_model_dir  # noqa: E402
from takedown.cli.model_commands import default_data_dir  # noqa: E402

BASELINE_COMMIT = "ab94ccb"
"""The last commit whose shipped model predates #10 (tvec-clf-099f471f1951b94d-d57a90e4)."""
MODEL_FILES = ("config.json", "vocab.json", "fast.npz", "semantic.npz")
FALLBACK = [
    "Officials said the attack killed three people near the ministry on Tuesday.",
    "Join the caravan of the mujahideen, brothers, the state will remain.",
    "Violence has no religion; the killers do not speak for any of us.",
    "Best coffee in town, open every weekend until late.",
]


def _column(path: Path, column: str, n: int) -> list[str]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [r[column] for r, _ in zip(csv.DictReader(handle), range(n), strict=False)]


def short_texts(n: int) -> list[str]:
    root = default_data_dir()
    quarter = n // 4
    texts = _column(root / "isis-fanboy-tweets-fifthtribe" / "tweets.csv", "tweets", quarter)
    texts += [t[:280] for t in _column(
        root / "farright_telegram_official_channels" / "data.csv", "text", quarter)]  # fmt: skip
    texts += _column(root / "latent_hatred" / "data.csv", "text", quarter)
    news = root / "news-agnews-test" / "test.csv"
    if news.is_file():
        with news.open(encoding="utf-8") as handle:
            rows = [r for r, _ in zip(csv.DictReader(handle), range(quarter), strict=False)]
        texts += [f"{r['title']}. {r['description']}" for r in rows]
    pool = texts or FALLBACK
    return (pool * (n // len(pool) + 1))[:n]


def long_texts(n: int) -> list[str]:
    root = default_data_dir()
    texts = []
    path = root / "news-10kgnad-de-test" / "test.csv"
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle, delimiter=";", quotechar="'")
            texts = [r[1][:1500] for r in rows if len(r) >= 2 and len(r[1]) >= 1500][: n // 2]
    texts += [t[:1500] for t in _column(
        root / "farright_telegram_official_channels" / "data.csv", "text", 20_000)
        if len(t) >= 1500][: n - len(texts)]  # fmt: skip
    if not texts:
        texts = [" ".join(FALLBACK * 6)[:1500]]
    return (texts * (n // len(texts) + 1))[:n]


def rate(fn: Callable[[], object], n: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def baseline_dir(into: Path) -> Path:
    root = Path(__file__).resolve().parents[1]
    for name in MODEL_FILES:
        blob = subprocess.run(
            ["git", "show", f"{BASELINE_COMMIT}:src/takedown/models/classifier/{name}"],
            cwd=root, capture_output=True, check=True,
        ).stdout  # fmt: skip
        (into / name).write_bytes(blob)
    return into


COLD = (
    "import time, sys; t = time.perf_counter();"
    "from pathlib import Path; from takedown.classify.model import TieredClassifier;"
    "c = TieredClassifier.load(Path(sys.argv[1]));"
    "c.classify(['The brothers are ready, the day is near.'], tiers='semantic');"
    "print(time.perf_counter() - t)"
)


def cold_first_answer(model_dir: Path, repeats: int) -> float:
    times = [
        float(subprocess.run([sys.executable, "-c", COLD, str(model_dir)], capture_output=True,
                             text=True, check=True).stdout.strip())
        for _ in range(repeats)
    ]  # fmt: skip
    return statistics.median(times)


def measure(model_dir: Path, short: list[str], long: list[str], repeats: int) -> dict[str, float]:
    clf = TieredClassifier.load(model_dir)
    clf.classify(short[:16], tiers="semantic")  # warm: encoder weights, langid model
    results = clf.classify(short, tiers="fast")
    share = sum(max(x.scores.values()) >= clf.config.fast_threshold for x in results)
    return {
        "cold_first_answer_s": cold_first_answer(model_dir, repeats),
        "short_end_to_end": rate(lambda: clf.classify(short), len(short), repeats),
        "long_1500": rate(lambda: clf.classify(long), len(long), repeats),
        "fast_tier_share": share / len(short),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--long-n", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", type=Path, default=None, help="model folder (default shipped)")
    args = parser.parse_args()
    short, long = short_texts(args.n), long_texts(args.long_n)
    new = measure(args.model or default_model_dir(), short, long, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        old = measure(baseline_dir(Path(tmp)), short, long, args.repeats)
    out = {
        "short_texts": len(short),
        "long_texts": len(long),
        "model": new,
        "baseline_model": old,
        "ratio_short": new["short_end_to_end"] / old["short_end_to_end"],
        "ratio_long": new["long_1500"] / old["long_1500"],
    }
    print(json.dumps(_rounded(out), indent=2))


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


if __name__ == "__main__":
    main()
