"""Post text for the simulator: real corpora the classifier never trained on, or a fixture.

From the shared data folder:
- propaganda and Arabic chatter: the Alfifi et al. pro-ISIS / non-ISIS Arabic tweets, which no
  training loader reads (classify/datasets.py LOADERS);
- news: AG News items in the *test* split of the classifier's own group split;
- counter-speech: CONAN counter-narratives in the test split;
- English chatter: AG News test-split headlines shared by ordinary users.
Tests use a small benign fixture (tests/fixtures/simulate/corpus.json) with the same keys.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from takedown.classify import datasets
from takedown.core.errors import InvalidInput

KEYS = ("propaganda", "chatter_ar", "chatter_en", "news", "counter")


@dataclass(frozen=True)
class Corpus:
    propaganda: tuple[str, ...]
    chatter_ar: tuple[str, ...]
    chatter_en: tuple[str, ...]
    news: tuple[str, ...]
    counter: tuple[str, ...]

    def sizes(self) -> dict[str, int]:
        return {key: len(getattr(self, key)) for key in KEYS}


def _test_split(rows: list[datasets.Example]) -> list[datasets.Example]:
    assignment = datasets.split_groups(rows)
    return [r for r in rows if assignment[r.group] == "test"]


def load_shared(root: Path) -> Corpus:
    alfifi = root / "alfifi_arabic_isis_tweets" / "data.csv"
    if not alfifi.is_file():
        raise InvalidInput(f"{root} does not hold the shared corpora (no {alfifi.name})",
                           hint="pass --data pointing at the shared data folder")
    with alfifi.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if len(r["text"].split()) >= 4]
    news = _test_split(datasets.ag_news(root))
    counter = [r for r in _test_split(datasets.conan(root)) if r.label == "counter"
               and r.lang == "en"]
    return Corpus(
        propaganda=tuple(r["text"] for r in rows if r["label"] == "P"),
        chatter_ar=tuple(r["text"] for r in rows if r["label"] == "O"),
        chatter_en=tuple(datasets.headline(r.text) for r in news[::2]),
        news=tuple(r.text for r in news[1::2]),
        counter=tuple(r.text for r in counter),
    )


def load_fixture(path: Path) -> Corpus:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInput(f"cannot read corpus fixture {path}: {error}") from None
    missing = [k for k in KEYS if not data.get(k)]
    if missing:
        raise InvalidInput(f"corpus fixture {path} lacks {', '.join(missing)}")
    return Corpus(**{k: tuple(str(t) for t in data[k]) for k in KEYS})
