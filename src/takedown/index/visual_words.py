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
"""Words per level-1 cell while the bank is small (up to 64 x 1,024 postings per cell)."""
LEVEL2_MOST = 512
LIST_TARGET = 128
"""Postings per word aimed at as the bank grows: the vocabulary widens (up to `LEVEL2_MOST`
words per cell) so that a query's vote reads about as many postings at 1M pictures as at
100,000; with a fixed 65,536 words a lookup read ~600,000 postings at 200,000 pictures."""
SAMPLES_PER_CENTROID = 24
"""Training descriptors per centroid; k-means gains little beyond this and costs linearly."""
SAMPLES_PER_WORD = 10
TRAIN_ITERATIONS = 8
WORD_ITERATIONS = 5
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


def _kmajority(sample: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k binary centroids of `sample` by k-majority (Hamming assignment in faiss, bitwise
    majority update), the binary k-means of DBoW: level 2 has up to 512 x 1,024 words, which
    float k-means on unpacked bits would take hours to train."""
    k = max(1, min(k, sample.shape[0]))
    rng = np.random.default_rng(seed)
    centroids = sample[rng.choice(sample.shape[0], k, replace=False)].copy()
    bits = np.unpackbits(sample, axis=1)
    for _ in range(WORD_ITERATIONS):
        _, nearest = faiss.knn_hamming(sample, centroids, 1)
        label = nearest.ravel()
        order = np.argsort(label, kind="stable")
        used, starts, counts = np.unique(label[order], return_index=True, return_counts=True)
        sums = np.add.reduceat(bits[order].astype(np.int32), starts, axis=0)
        centroids[used] = np.packbits(2 * sums > counts[:, None], axis=1)
    return centroids


class Vocabulary:
    """`LEVEL1` x width words (width: `LEVEL2` to `LEVEL2_MOST`, growing with the bank);
    `assign` maps descriptors to word numbers (cell x width + rank in the cell)."""

    def __init__(self, level1: np.ndarray, level2: np.ndarray) -> None:
        self.level1 = np.ascontiguousarray(level1, dtype=np.uint8)
        self.level2 = np.ascontiguousarray(level2, dtype=np.uint8)
        """uint8 (cells, width, 32); cells with fewer words repeat their first one."""
        self.width = int(self.level2.shape[1])
        # The tree as a faiss binary IVF: level-1 centroids are its coarse quantizer, each
        # word is a list entry whose id is its number, so assignment runs in C++ (numpy's
        # gather-xor-popcount cost 5 ms per query and minutes per million banked pictures).
        self._coarse = faiss.IndexBinaryFlat(256)
        self._coarse.add(self.level1)
        self._tree = faiss.IndexBinaryIVF(self._coarse, 256, self.level1.shape[0])
        self._tree.is_trained = True
        numbers = np.arange(self.size, dtype=np.int64).reshape(level2.shape[0], self.width)
        real = np.ones(numbers.shape, dtype=bool)
        real[:, 1:] = (self.level2[:, 1:] != self.level2[:, :1]).any(axis=2)
        owner = np.repeat(np.arange(level2.shape[0], dtype=np.int64), self.width).reshape(
            numbers.shape)[real]
        codes, ids = np.ascontiguousarray(self.level2[real]), np.ascontiguousarray(numbers[real])
        # Each word goes to the list of the cell it was trained in (not the quantizer's
        # choice), so every cell's list holds its own words and is never empty.
        self._tree.add_core(  # type: ignore[attr-defined]  # in faiss, not its stubs
            codes.shape[0], faiss.swig_ptr(codes), faiss.swig_ptr(ids),
            faiss.swig_ptr(np.ascontiguousarray(owner)))

    @property
    def size(self) -> int:
        return int(self.level2.shape[0] * self.width)

    @classmethod
    def train(cls, descriptors: np.ndarray, seed: int = 0) -> Vocabulary:
        rng = np.random.default_rng(seed)
        count = descriptors.shape[0]
        cells = max(1, min(LEVEL1, count // (SAMPLES_PER_CENTROID * 4)))
        width = int(np.clip(count // (cells * LIST_TARGET), LEVEL2, LEVEL2_MOST))
        per_cell = max(SAMPLES_PER_CENTROID * LEVEL2, SAMPLES_PER_WORD * width)
        sample = descriptors[rng.permutation(count)[: cells * per_cell]]
        level1 = _kmeans_bits(sample[: cells * SAMPLES_PER_CENTROID * 4], cells, seed)
        coarse = faiss.IndexBinaryFlat(256)
        coarse.add(level1)
        _, owner = coarse.search(sample, 1)
        owner = owner.ravel()
        order = np.argsort(owner, kind="stable")
        bounds = np.searchsorted(owner[order], np.arange(level1.shape[0] + 1))
        level2 = np.empty((level1.shape[0], width, 32), dtype=np.uint8)
        for cell in range(level1.shape[0]):
            members = sample[order[bounds[cell]:bounds[cell + 1]]]
            if members.shape[0] == 0:
                level2[cell] = level1[cell]
                continue
            if width == LEVEL2:  # a small bank: float k-means, as trained before widening
                words = _kmeans_bits(members, min(LEVEL2, members.shape[0]
                                                  // SAMPLES_PER_CENTROID), seed + cell)
            else:
                words = _kmajority(members, min(width, members.shape[0] // SAMPLES_PER_WORD),
                                   seed + cell)
            level2[cell] = words[0]
            level2[cell, : words.shape[0]] = words
        return cls(level1, level2)

    def assign(self, descriptors: np.ndarray, cells: int = 1, chunk: int = 65536) -> np.ndarray:
        """Word number (int64) of each descriptor: its nearest word within its nearest level-1
        cell. With `cells` > 1 (queries), the nearest word of each of that many nearest cells
        too, flattened: a descriptor near a cell border then still meets its banked twin."""
        descriptors = np.ascontiguousarray(descriptors, dtype=np.uint8)
        cells = max(1, min(cells, self.level1.shape[0]))
        self._tree.nprobe = 1
        out = np.empty((descriptors.shape[0], cells), dtype=np.int64)
        for start in range(0, descriptors.shape[0], chunk):
            part = descriptors[start:start + chunk]
            near_d, near = self._coarse.search(part, cells)
            for column in range(cells):
                _, labels = self._tree.search_preassigned(part, 1, near[:, column:column + 1],
                                                          near_d[:, column:column + 1])
                out[start:start + chunk, column] = labels[:, 0]
        return out.ravel()


class InvertedFile:
    """word -> rows (pictures) holding it: a sorted array plus a small dict of recent additions,
    merged when that dict has grown `MERGE_SHARE` of the sorted part (so an addition is visible
    to the next query and costs amortised O(log n)). Removed rows' postings stay until the
    next retraining; `_live` counts per word only the live ones, and frequencies and the
    stop-word cut read it, so dead copies of a re-added picture never make its own words
    look common (they did: 100 changed re-adds made the picture unfindable)."""

    def __init__(self, words: int) -> None:
        self.words = words
        self._live = np.zeros(words, dtype=np.int64)
        self.live_postings = 0
        self._pointer = np.zeros(words + 1, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_count = 0

    def add(self, row: int, words: np.ndarray) -> None:
        distinct = np.unique(words)
        for word in distinct.tolist():
            self._recent.setdefault(word, []).append(row)
        self._recent_count += int(distinct.shape[0])
        self._live[distinct] += 1
        self.live_postings += int(distinct.shape[0])
        if self._recent_count > max(20_000, MERGE_SHARE * self._rows.shape[0]):
            self.merge()

    def add_bulk(self, rows: np.ndarray, words: np.ndarray) -> None:
        """Many (row, word) postings at once, merged at once (loading a bank)."""
        span = int(rows.max()) + 1 if rows.shape[0] else 1
        keys = np.unique(words.astype(np.int64) * span + rows)
        self._live += np.bincount(keys // span, minlength=self.words)
        self.live_postings += int(keys.shape[0])
        self._merge_with(keys // span, keys % span)

    def drop(self, words: np.ndarray) -> None:
        """A row holding `words` was removed: its postings are no longer live."""
        distinct = np.unique(words)
        self._live[distinct] -= 1
        self.live_postings -= int(distinct.shape[0])

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

    def lookup(self, words: np.ndarray, longest: int,
               weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, weight) of every posting of `words` (unique word numbers; `weights`: one per
        word), skipping lists longer than `longest` (stop words: in everything, evidence of
        nothing). Reading the postings is the vote's cost: one copy of each kept list (slices
        of the sorted part) and one repeat of the weights, no index per posting."""
        starts, ends = self._pointer[words], self._pointer[words + 1]
        keep = self._live[words] <= longest
        starts, ends = starts[keep], ends[keep]
        postings = self._rows
        parts = [postings[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        share = [np.repeat(weights[keep], ends - starts)]
        if self._recent:
            for word, weight in zip(words.tolist(), weights.tolist(), strict=True):
                recent = self._recent.get(word)
                if recent:
                    parts.append(np.asarray(recent, dtype=np.int32))
                    share.append(np.full(len(recent), weight, dtype=weights.dtype))
        rows = np.concatenate(parts) if parts else postings[:0]
        return rows, np.concatenate(share)

    def frequency(self, words: np.ndarray) -> np.ndarray:
        """Live postings per word (rows holding it that are not removed)."""
        counts: np.ndarray = self._live[words]
        return counts

    def nbytes(self) -> int:
        return (int(self._rows.nbytes + self._pointer.nbytes + self._live.nbytes)
                + 80 * self._recent_count)


def hamming_matrix(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """(len(ours), len(theirs)) int32 Hamming distances between 32-byte descriptors, in one
    faiss pass (no index, no heap: cheaper than `knn_hamming` when every distance is read)."""
    ours, theirs = np.ascontiguousarray(ours), np.ascontiguousarray(theirs)
    every = np.empty((ours.shape[0], theirs.shape[0]), dtype=np.int32)
    if every.size:
        faiss.hammings(  # type: ignore[attr-defined]  # in faiss, not in its stubs
            faiss.swig_ptr(ours), faiss.swig_ptr(theirs), ours.shape[0], theirs.shape[0], 32,
            faiss.swig_ptr(every))
    return every
