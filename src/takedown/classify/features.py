"""Sparse features of the fast tier: words, word bigrams and character n-grams inside words.

Character n-grams make the fast tier tolerant of spelling variants, Arabic clitics and German
compounds; words and bigrams carry the terms shown to reviewers as evidence. Features are
binary and each row is scaled to unit length, so long articles and short posts score alike.
The vocabulary is an explicit list stored as JSON, never a hash seed or a pickled vectoriser,
so the file is inspectable and prediction can be reimplemented in plain numpy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+")
CHAR_SIZES: tuple[int, ...] = (3, 4, 5)
KINDS: tuple[str, ...] = ("word", "bigram", "char")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def raw_features(text: str) -> tuple[list[str], list[str], list[str]]:
    """(words, bigrams, char n-grams) of one cleaned text, with repeats."""
    toks = words(text)
    bigrams = [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
    chars: list[str] = []
    for tok in toks:
        padded = f" {tok} "
        size = len(padded)
        for n in CHAR_SIZES:
            chars.extend(padded[i : i + n] for i in range(size - n + 1))
    return toks, bigrams, chars


@dataclass
class Vocabulary:
    """Feature string -> column; columns are words, then bigrams, then char n-grams."""

    word: dict[str, int]
    bigram: dict[str, int]
    char: dict[str, int]

    @property
    def size(self) -> int:
        return len(self.word) + len(self.bigram) + len(self.char)

    def terms(self) -> list[str]:
        """Column -> readable term (char n-grams keep their padding spaces)."""
        out = [""] * self.size
        for table in (self.word, self.bigram, self.char):
            for term, col in table.items():
                out[col] = term
        return out

    @property
    def n_terms(self) -> int:
        """Columns below this are words and bigrams (shown to reviewers); the rest char n-grams."""
        return len(self.word) + len(self.bigram)

    def is_term(self, col: int) -> bool:
        return col < self.n_terms

    def indices(self, text: str) -> list[int]:
        """Distinct columns present in one cleaned text (the fast tier's hot loop)."""
        toks = _WORD.findall(text)
        uniq = set(toks)
        cget = self.char.get
        found = {self.word.get(t) for t in uniq}
        bget = self.bigram.get
        found.update(bget(f"{a} {b}") for a, b in zip(toks, toks[1:], strict=False))
        for tok in uniq:
            padded = f" {tok} "
            size = len(padded)
            for n in CHAR_SIZES:
                found.update(cget(padded[i : i + n]) for i in range(size - n + 1))
        found.discard(None)
        return sorted(found)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, list[str]]:
        return {kind: _ordered(getattr(self, kind)) for kind in KINDS}

    @classmethod
    def from_json(cls, obj: dict[str, list[str]]) -> Vocabulary:
        offset = 0
        tables = []
        for kind in KINDS:
            terms = obj[kind]
            tables.append({t: offset + i for i, t in enumerate(terms)})
            offset += len(terms)
        return cls(*tables)


def _ordered(table: dict[str, int]) -> list[str]:
    return [t for t, _ in sorted(table.items(), key=lambda kv: kv[1])]


def build_vocabulary(
    texts: Iterable[str], *, min_df: int = 2, limits: Sequence[int] = (60_000, 60_000, 120_000)
) -> Vocabulary:
    """Most frequent features by document frequency (ties broken alphabetically: reproducible)."""
    counts: tuple[Counter[str], Counter[str], Counter[str]] = (Counter(), Counter(), Counter())
    for text in texts:
        for counter, feats in zip(counts, raw_features(text), strict=True):
            counter.update(set(feats))
    tables: list[dict[str, int]] = []
    offset = 0
    for counter, limit in zip(counts, limits, strict=True):
        kept = sorted(
            (f for f, c in counter.items() if c >= min_df), key=lambda f: (-counter[f], f)
        )
        kept = sorted(kept[:limit])
        tables.append({f: offset + i for i, f in enumerate(kept)})
        offset += len(kept)
    return Vocabulary(*tables)


@dataclass(frozen=True)
class Batch:
    """A batch in a flat CSR-like layout: columns of row i are cols[starts[i]:starts[i+1]]."""

    cols: np.ndarray
    starts: np.ndarray
    scale: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.scale)


def vectorize(vocab: Vocabulary, texts: Sequence[str]) -> Batch:
    cols: list[int] = []
    starts = [0]
    scale = []
    for text in texts:
        idx = vocab.indices(text)
        cols.extend(idx)
        starts.append(len(cols))
        scale.append(1.0 / np.sqrt(len(idx)) if idx else 0.0)
    return Batch(
        np.asarray(cols, dtype=np.int64),
        np.asarray(starts, dtype=np.int64),
        np.asarray(scale, dtype=np.float64),
    )


def to_scipy(batch: Batch, n_features: int) -> Any:
    """The same batch as a scipy CSR matrix (training only)."""
    from scipy.sparse import csr_matrix

    data = np.repeat(batch.scale, np.diff(batch.starts))
    return csr_matrix((data, batch.cols, batch.starts), shape=(batch.rows, n_features))
