"""Near-duplicate text: how TLSH and MinHash distances separate edited copies from other texts.

Takes distinct tweets (≥ 80 characters) from the shared ISIS-fanboy collection, makes edited
copies (a word replaced, a sentence appended, links removed, evasion: homoglyphs + leetspeak +
zero-width characters) and measures, per signal type, the share of copies within the default
threshold, and how many pairs of *different* tweets fall within it. The exact normalised hash
(`text_sha256`) is the baseline: it only catches the evasion edit.

    python bench/text_matching.py --json [--count N] [--data FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

from takedown.signals.exact import text_sha256
from takedown.signals.normalize import normalize_text
from takedown.signals.text_fuzzy import (
    MINHASH_THRESHOLD,
    TLSH_THRESHOLD,
    minhash_distance,
    minhash_value,
    tlsh_distance,
    tlsh_hash,
)

DEFAULT_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
                / "isis-fanboy-tweets-fifthtribe" / "tweets.csv")
LINK = re.compile(r"https?://\S+")
EVADE = str.maketrans({"a": "а", "e": "е", "o": "0", "i": "1", "s": "$"})


def load_tweets(path: Path, count: int, seed: int) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        texts = [row["tweets"] for row in csv.DictReader(handle)]
    seen: dict[str, str] = {}
    for text in texts:
        if len(LINK.sub("", text).strip()) >= 80:
            seen.setdefault(normalize_text(LINK.sub("", text)), text)
    pool = list(seen.values())
    random.Random(seed).shuffle(pool)
    return pool[:count]


def replace_word(text: str, rng: random.Random) -> str:
    words = text.split()
    words[rng.randrange(len(words))] = "whatever"
    return " ".join(words)


EDITS: dict[str, Callable[[str, random.Random], str]] = {
    "replace_word": replace_word,
    "append_sentence": lambda t, _r: t + " Share this everywhere, brothers.",
    "links_removed": lambda t, _r: LINK.sub("", t),
    "evasion": lambda t, _r: " ".join("\u200b".join(w) for w in t.translate(EVADE).split(" ")),
}


def run(path: Path, count: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    tweets = load_tweets(path, count, seed)
    kinds: dict[str, tuple[Callable[[str], str | None], Callable[[str, str], int], int]] = {
        "tlsh": (tlsh_hash, tlsh_distance, TLSH_THRESHOLD),
        "minhash": (minhash_value, minhash_distance, MINHASH_THRESHOLD),
        "text_sha256": (text_sha256, lambda a, b: 0 if a == b else 1, 0),
    }
    result: dict[str, object] = {"tweets": len(tweets)}
    for name, (hasher, distance, threshold) in kinds.items():
        originals = [hasher(t) for t in tweets]
        rates: dict[str, float] = {}
        for edit_name, edit in EDITS.items():
            hits = total = 0
            for text, value in zip(tweets, originals, strict=True):
                edited = hasher(edit(text, rng))
                if value is None or edited is None:
                    continue
                total += 1
                hits += distance(value, edited) <= threshold
            rates[edit_name] = round(100.0 * hits / max(1, total), 1)
        values = [v for v in originals if v is not None]
        pairs = close = 0
        nearest = 10**9
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                d = distance(values[i], values[j])
                pairs += 1
                close += d <= threshold
                nearest = min(nearest, d)
        result[name] = {
            "threshold": threshold,
            "hashable": len(values),
            "copies_matched_percent": rates,
            "distinct_pairs": pairs,
            "distinct_pairs_within_threshold": close,
            "smallest_distinct_distance": nearest,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"no tweets file at {args.data}", file=sys.stderr)
        return 2
    print(json.dumps(run(args.data, args.count, args.seed), indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
