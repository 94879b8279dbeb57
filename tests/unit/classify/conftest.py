"""Shared fixtures: the shipped model (loaded once) and a tiny synthetic training corpus."""

from __future__ import annotations

import random

import pytest

from takedown.classify.datasets import Example
from takedown.classify.model import TieredClassifier, default_model_dir

VOCAB = {
    "tvec": [
        "join",
        "soldiers",
        "caliphate",
        "martyrdom",
        "fight",
        "infidels",
        "brothers",
        "hijrah",
    ],
    "news": [
        "officials",
        "said",
        "ministry",
        "reported",
        "tuesday",
        "according",
        "police",
        "agency",
    ],
    "counter": [
        "hatred",
        "wrong",
        "respect",
        "together",
        "violence",
        "never",
        "justify",
        "dignity",
    ],
    "other": ["football", "coffee", "weekend", "movie", "recipe", "weather", "music", "holiday"],
}


def synthetic(label: str, n: int, seed: int, lang: str = "en") -> list[Example]:
    rng = random.Random(f"{label}:{seed}")
    rows = []
    for i in range(n):
        words = rng.choices(VOCAB[label], k=8) + rng.choices(sum(VOCAB.values(), []), k=2)
        rows.append(
            Example(" ".join(words), label, lang, f"synthetic-{label}", f"g:{label}:{seed}:{i % 5}")
        )
    return rows


@pytest.fixture(scope="session")
def tiny_parts() -> dict[str, list[Example]]:
    return {
        "train": [ex for label in VOCAB for ex in synthetic(label, 30, 1)],
        "cal": [ex for label in VOCAB for ex in synthetic(label, 15, 2)],
        "test": [ex for label in VOCAB for ex in synthetic(label, 10, 3)],
    }


@pytest.fixture(scope="session")
def shipped() -> TieredClassifier:
    if not (default_model_dir() / "config.json").is_file():
        pytest.skip("no trained model in models/classifier")
    return TieredClassifier.load()
