"""Visual words for binary descriptors: a two-level vocabulary and an inverted file of pictures.

Why: finding which of a million banked pictures appear in a query by nearest-neighbour search
over every banked descriptor costs hundreds of milliseconds and ~12 GB (measured, docs/hashing.md).
A vocabulary turns each 256-bit descriptor into one word (a cell of a two-level k-means tree), so
a banked picture is a short list of words and candidate retrieval is counting, per picture, how
many of the query's words it shares, weighted by how rare each word is (tf-idf voting, as in
Video Google / DBoW). Only a few well-spread descriptors per banked picture are indexed; the
full set stays in the database and is read only for the few candidates RANSAC verifies.

The vocabulary is trained on the bank itself (binary k-means by faiss on unpacked bits,
centroids thresholded back to bits); level 1 has up to `LEVEL1` cells, each split into up to
`LEVEL2` words, fewer when a cell has few samples.
"""

from __future__ import annotations

import faiss
import numpy as np

LEVEL1 = 1024
LEVEL2 = 64
SAMPLES_PER_CENTROID = 24
"""Training descriptors per centroid; k-means gains little beyond this and costs linearly."""
TRAIN_ITERATIONS = 8
MERGE_SHARE = 0.05
"""Postings appended since the last merge, as a share of the merged ones, before re-sorting."""


def _kmeans_bits(sample: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k binary centroids (uint8 (k, 32)) of `sample` (uint8 (n, 32)), majority bits of
    Euclidean k-means on the unpacked bits (Euclidean on 0/1 vectors is Hamming)."""
    bits = np.unpackbits(sample, axis=1).astype(np.float32)
    k = max(1, min(k, sample.shape[0]))
    if k == 1:
        centroids = bits.mean(axis=0, keepdims=True)
    else:
        kmeans = faiss.Kmeans(bits.shape[1], k, niter=TRAIN_ITERATIONS, seed=seed,
                              min_points_per_centroid=1, max_points_per_centroid=10 ** 6)
        kmeans.train(bits)
        centroids = kmeans.centroids
    packed: np.ndarray = np.packbits(centroids > 0.5, axis=1)
    return packed


class Vocabulary:
    """`LEVEL1` x `LEVEL2` words; `assign` maps descriptors to word numbers."""

    def __init__(self, level1: np.ndarray, level2: np.ndarray) -> None:
        self.level1 = np.ascontiguousarray(level1, dtype=np.uint8)
        self.level2 = np.ascontiguousarray(level2, dtype=np.uint8)
        """uint8 (cells, LEVEL2, 32); cells with fewer words repeat their first one."""
        self._coarse = faiss.IndexBinaryFlat(256)
        self._coarse.add(self.level1)
        self._fine = self.level2.view(np.uint64).reshape(level2.shape[0], LEVEL2, 4)

    @property
    def size(self) -> int:
        return int(self.level2.shape[0] * LEVEL2)

    @classmethod
    def train(cls, descriptors: np.ndarray, seed: int = 0) -> Vocabulary:
        rng = np.random.default_rng(seed)
        count = descriptors.shape[0]
        cells = max(1, min(LEVEL1, count // (SAMPLES_PER_CENTROID * 4)))
        sample = descriptors[rng.permutation(count)[: cells * SAMPLES_PER_CENTROID * LEVEL2]]
        level1 = _kmeans_bits(sample[: cells * SAMPLES_PER_CENTROID * 4], cells, seed)
        coarse = faiss.IndexBinaryFlat(256)
        coarse.add(level1)
        _, owner = coarse.search(sample, 1)
        owner = owner.ravel()
        level2 = np.empty((level1.shape[0], LEVEL2, 32), dtype=np.uint8)
        for cell in range(level1.shape[0]):
            members = sample[owner == cell]
            if members.shape[0] == 0:
                level2[cell] = level1[cell]
                continue
            words = _kmeans_bits(members, min(LEVEL2, members.shape[0] // SAMPLES_PER_CENTROID),
                                 seed + cell)
            level2[cell] = words[0]
            level2[cell, : words.shape[0]] = words
        return cls(level1, level2)

    def assign(self, descriptors: np.ndarray, cells: int = 1, chunk: int = 8192) -> np.ndarray:
        """Word number (int64) of each descriptor: nearest word of its nearest level-1 cell.
        With `cells` > 1 (queries), the nearest word of each of that many nearest cells too,
        flattened: a descriptor near a cell border then still meets its banked twin."""
        descriptors = np.ascontiguousarray(descriptors, dtype=np.uint8)
        cells = max(1, min(cells, self.level1.shape[0]))
        out = np.empty((descriptors.shape[0], cells), dtype=np.int64)
        for start in range(0, descriptors.shape[0], chunk):
            part = descriptors[start:start + chunk]
            _, cell = self._coarse.search(part, cells)
            for column in range(cells):
                fine = self._fine[cell[:, column]] ^ part.view(np.uint64)[:, None, :]
                distance = np.bitwise_count(fine).sum(axis=2)
                out[start:start + chunk, column] = (cell[:, column] * LEVEL2
                                                    + distance.argmin(axis=1))
        return out.ravel()


class InvertedFile:
    """word -> rows (pictures) holding it: a sorted array plus a small dict of recent additions,
    merged when that dict has grown `MERGE_SHARE` of the sorted part (so an addition is visible
    to the next query and costs amortised O(log n))."""

    def __init__(self, words: int) -> None:
        self.words = words
        self._pointer = np.zeros(words + 1, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_count = 0

    def add(self, row: int, words: np.ndarray) -> None:
        for word in np.unique(words).tolist():
            self._recent.setdefault(word, []).append(row)
        self._recent_count += int(np.unique(words).shape[0])
        if self._recent_count > max(20_000, MERGE_SHARE * self._rows.shape[0]):
            self.merge()

    def add_bulk(self, rows: np.ndarray, words: np.ndarray) -> None:
        """Many (row, word) postings at once, merged at once (loading a bank)."""
        span = int(rows.max()) + 1 if rows.shape[0] else 1
        keys = np.unique(words.astype(np.int64) * span + rows)
        self._merge_with(keys // span, keys % span)

    def merge(self) -> None:
        if not self._recent:
            return
        words = np.concatenate([np.full(len(r), w, dtype=np.int64)
                                for w, r in self._recent.items()])
        rows = np.concatenate([np.asarray(r, dtype=np.int64) for r in self._recent.values()])
        self._recent, self._recent_count = {}, 0
        self._merge_with(words, rows)

    def _merge_with(self, words: np.ndarray, rows: np.ndarray) -> None:
        old_words = np.repeat(np.arange(self.words, dtype=np.int64), np.diff(self._pointer))
        all_words = np.concatenate([old_words, words])
        all_rows = np.concatenate([self._rows.astype(np.int64), rows])
        order = np.argsort(all_words, kind="stable")
        self._rows = all_rows[order].astype(np.int32)
        counts = np.bincount(all_words, minlength=self.words)
        self._pointer = np.concatenate([[0], np.cumsum(counts)])

    def postings(self) -> int:
        return int(self._rows.shape[0]) + self._recent_count

    def lookup(self, words: np.ndarray, longest: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, word index into `words`) of every posting of `words` (unique word numbers),
        skipping lists longer than `longest` (stop words: in everything, evidence of nothing)."""
        starts, ends = self._pointer[words], self._pointer[words + 1]
        lengths = ends - starts
        keep = lengths <= longest
        starts, lengths, which = starts[keep], lengths[keep], np.flatnonzero(keep)
        total = int(lengths.sum())
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        rows = self._rows[np.arange(total) + offsets].astype(np.int64)
        owner = np.repeat(which, lengths)
        if self._recent:
            extra_rows, extra_owner = [], []
            for n, word in enumerate(words.tolist()):
                recent = self._recent.get(word)
                if recent:
                    extra_rows.append(np.asarray(recent, dtype=np.int64))
                    extra_owner.append(np.full(len(recent), n, dtype=np.int64))
            if extra_rows:
                rows = np.concatenate([rows, *extra_rows])
                owner = np.concatenate([owner, *extra_owner])
        return rows, owner

    def frequency(self, words: np.ndarray) -> np.ndarray:
        """Postings per word (merged part; recent additions are a small share by design)."""
        counts: np.ndarray = self._pointer[words + 1] - self._pointer[words]
        return counts

    def nbytes(self) -> int:
        return int(self._rows.nbytes + self._pointer.nbytes) + 80 * self._recent_count
