"""Evasion perturbations used to test robustness: what an uploader does to dodge a filter.

Each perturbation keeps the text readable to a person: Cyrillic/Greek look-alike letters,
zero-width characters inside words, leetspeak digits and symbols, letters spaced apart, and
letters repeated for emphasis. They are seeded, so an evaluation run is reproducible. The
classifier is expected to undo them (the shared normaliser, and `text.collapse_elongation`
for repeats); `evaluate` measures the recall drop on perturbed copies.
"""

from __future__ import annotations

import random
from collections.abc import Callable

HOMOGLYPHS: dict[str, str] = {
    "a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "s": "ѕ", "x": "х", "y": "у",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М", "O": "О",
    "P": "Р", "S": "Ѕ", "T": "Т", "X": "Х",
}  # fmt: skip
LEET: dict[str, str] = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "$", "t": "7"}
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")


def homoglyphs(text: str, rng: random.Random, rate: float = 0.5) -> str:
    return "".join(HOMOGLYPHS[c] if c in HOMOGLYPHS and rng.random() < rate else c for c in text)


def zero_width(text: str, rng: random.Random, rate: float = 0.3) -> str:
    out = []
    for c in text:
        out.append(c)
        if c.isalpha() and rng.random() < rate:
            out.append(rng.choice(ZERO_WIDTH))
    return "".join(out)


def leetspeak(text: str, rng: random.Random, rate: float = 0.5) -> str:
    return "".join(
        LEET[c.lower()] if c.lower() in LEET and rng.random() < rate else c for c in text
    )


def spacing(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Space out the letters of some longer words (`k i l l`)."""
    words = []
    for word in text.split(" "):
        if len(word) >= 4 and word.isalpha() and rng.random() < rate:
            word = " ".join(word)
        words.append(word)
    return " ".join(words)


def elongation(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """Repeat a letter in some words for emphasis (`killllll`, `هجررررم`)."""
    words = []
    for word in text.split(" "):
        if len(word) >= 3 and word.isalpha() and rng.random() < rate:
            k = rng.randrange(len(word))
            word = word[:k] + word[k] * rng.randint(3, 8) + word[k + 1 :]
        words.append(word)
    return " ".join(words)


def mixed(text: str, rng: random.Random) -> str:
    """All of the above at lower rates: the realistic case."""
    text = homoglyphs(text, rng, 0.2)
    text = leetspeak(text, rng, 0.2)
    return zero_width(text, rng, 0.1)


PERTURBATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "homoglyphs": homoglyphs,
    "zero_width": zero_width,
    "leetspeak": leetspeak,
    "spacing": spacing,
    "elongation": elongation,
    "mixed": mixed,
}


def perturb_all(texts: list[str], name: str, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    fn = PERTURBATIONS[name]
    return [fn(t, rng) for t in texts]
