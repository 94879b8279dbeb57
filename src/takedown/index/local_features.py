"""The `orb` index: every banked picture's descriptors in one faiss binary index, then RANSAC.

A query picture's ~1,000 descriptors each look up their nearest banked descriptors (Hamming,
sub-linear once the bank is large); the pictures that collect enough close pairs are verified
geometrically (`takedown.signals.local_features.verify`), and only verified pictures are
returned, with their evidence. So the index answers "which banked pictures appear in this one",
not "which values lie within a distance", and it is exact only in the sense that every returned
match is verified; a crop that loses too many keypoints is missed, never invented.

Structure: below `IVF_FROM` descriptors an exact `IndexBinaryFlat`; from then on an
`IndexBinaryIVF` with ~`LIST_LENGTH` descriptors per list, trained on what the bank holds and
retrained each time it has grown `REGROW`-fold (so a lookup's cost stays flat as it grows).
Additions are visible to the next query; removals are tombstones (also immediate) and the
space is reclaimed by `compact()` when more than half the rows are dead. Nothing is pickled:
a bank reloads from its stored feature sets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from takedown.index.base import Match
from takedown.signals.local_features import (
    MAX_DESCRIPTOR_DISTANCE,
    MIN_INLIERS,
    THRESHOLD,
    FeatureSet,
    Verification,
    features_from_bytes,
    verify,
)

IVF_FROM = 200_000
"""Descriptors (~800 banked pictures) above which the flat index becomes an IVF index."""
NEIGHBOURS = 3
"""Banked descriptors looked up per query descriptor."""
CANDIDATES = 6
"""Banked pictures verified per query, the ones with most close pairs (RANSAC is the cost)."""
NPROBE = 12
RATIO = 0.9
MIN_DISTINCTIVE = 4
LIST_LENGTH = 4000
"""Descriptors per inverted list: a lookup scans ~NPROBE lists of this length per query
descriptor whatever the bank size, so its cost stays flat while the bank grows (up to the
coarse quantizer, which at 1M pictures should be an HNSW over the list centroids)."""
TRAIN_PER_LIST = 64
REGROW = 4
"""The IVF form is retrained (rebuilt from the kept sets) each time the bank has grown this
many times over since the last training: amortised O(1) per addition, lists stay short."""

Resolver = Callable[[str], "FeatureSet | None"]


@dataclass(frozen=True)
class FeatureMatch:
    entry_id: int
    verification: Verification

    @property
    def distance(self) -> int:
        return self.verification.distance


class LocalFeatureIndex:
    """Index protocol for the `orb` signal type, plus `query_features` with evidence."""

    signal_type = "orb"

    def __init__(self, resolve: Resolver | None = None, *, ivf_from: int = IVF_FROM,
                 nprobe: int = NPROBE) -> None:
        self._resolve = resolve
        self._ivf_from = ivf_from
        self._nprobe = nprobe
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._faiss: faiss.IndexBinary = faiss.IndexBinaryFlat(256)
        self._ivf = False
        self._trained_at = 0
        self._owner = np.full(1024, -1, dtype=np.int64)
        self._rows = 0
        self._sets: dict[int, FeatureSet] = {}
        self._offsets: dict[int, int] = {}
        self._dead_rows = 0

    def _features(self, value: str) -> FeatureSet | None:
        if value.startswith("orb1:"):
            return FeatureSet.from_value(value)
        return self._resolve(value) if self._resolve is not None else None

    def add(self, entry_id: int, value: str) -> None:
        features = self._features(value)
        if features is None or features.degenerate:
            return
        self.add_features(entry_id, features)

    def add_many(self, entry_ids: Sequence[int], values: Sequence[str]) -> None:
        for entry_id, value in zip(entry_ids, values, strict=True):
            self.add(entry_id, value)

    def add_features(self, entry_id: int, features: FeatureSet) -> None:
        with self._lock:
            entry_id = int(entry_id)
            if entry_id in self._sets:
                self._tombstone(entry_id)
            self._append(entry_id, features)
            if not self._ivf and self._faiss.ntotal >= self._ivf_from:
                self._to_ivf()
            elif self._ivf and self._faiss.ntotal >= REGROW * self._trained_at:
                self._compact()  # retrain with more lists, so list length stays ~LIST_LENGTH

    def _append(self, entry_id: int, features: FeatureSet) -> None:
        """Rows of the faiss index are owned by entry ids (-1: tombstoned); amortised growth."""
        end = self._rows + len(features)
        if end > self._owner.shape[0]:
            grown = np.full(max(end, 2 * self._owner.shape[0]), -1, dtype=np.int64)
            grown[: self._rows] = self._owner[: self._rows]
            self._owner = grown
        self._owner[self._rows:end] = entry_id
        self._offsets[entry_id] = self._rows
        self._rows = end
        self._sets[entry_id] = features
        self._faiss.add(np.ascontiguousarray(features.descriptors))

    def _to_ivf(self) -> None:
        """Retrain as IVF on every descriptor held now (once, at the size threshold)."""
        count = int(self._faiss.ntotal)
        vectors = np.vstack([self._faiss.reconstruct_n(0, count)])
        nlist = max(64, count // LIST_LENGTH)
        quantizer = faiss.IndexBinaryFlat(256)
        ivf = faiss.IndexBinaryIVF(quantizer, 256, nlist)
        self._quantizer = quantizer  # faiss does not own it: keep it alive with the index
        sample = vectors[np.random.default_rng(0).permutation(count)[: nlist * TRAIN_PER_LIST]]
        ivf.train(sample)
        ivf.add(vectors)
        ivf.nprobe = self._nprobe
        self._faiss, self._ivf, self._trained_at = ivf, True, count

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            if int(entry_id) not in self._sets:
                return False
            self._tombstone(int(entry_id))
            if self._dead_rows > max(1000, self._rows // 2):
                self._compact()
            return True

    def _tombstone(self, entry_id: int) -> None:
        features = self._sets.pop(entry_id)
        start = self._offsets.pop(entry_id)
        self._owner[start:start + len(features)] = -1
        self._dead_rows += len(features)

    def _compact(self) -> None:
        live = list(self._sets.items())
        self._reset()
        for entry_id, features in live:
            self._append(entry_id, features)
        if self._faiss.ntotal >= self._ivf_from:
            self._to_ivf()

    def compact(self) -> None:
        with self._lock:
            self._compact()

    def query_features(self, query: FeatureSet, limit: int = CANDIDATES) -> list[FeatureMatch]:
        """Verified banked pictures found in `query`, most inliers first."""
        if query.degenerate:
            return []
        with self._lock:
            if not self._sets:
                return []
            k = min(NEIGHBOURS, int(self._faiss.ntotal))
            distances, rows = self._faiss.search(np.ascontiguousarray(query.descriptors), k)
            owners = np.where(rows >= 0, self._owner[np.clip(rows, 0, None)], -1)
            close = (distances <= MAX_DESCRIPTOR_DISTANCE) & (owners >= 0)
            query_idx = np.repeat(np.arange(rows.shape[0]), k).reshape(rows.shape)[close]
            hit_rows, hit_owner = rows[close], owners[close]
            if hit_owner.size == 0:
                return []
            ranked = _rank(distances, owners, close, query_idx, hit_owner, limit)
            work = [(e, self._sets[e], self._offsets[e]) for e in ranked]
        found: list[FeatureMatch] = []
        for entry_id, banked, offset in work:
            mine = hit_owner == entry_id
            pairs = _one_per_query(query_idx[mine], hit_rows[mine] - offset,
                                   distances[close][mine])
            result = verify(query, banked, pairs)
            if result is not None:
                found.append(FeatureMatch(entry_id, result))
        return sorted(found, key=lambda m: (m.distance, m.entry_id))

    def query(self, value: str, threshold: int = THRESHOLD) -> list[Match]:
        features = FeatureSet.from_value(value)
        return [(m.distance, m.entry_id) for m in self.query_features(features)
                if m.distance <= threshold]

    def query_many(self, values: Sequence[str], threshold: int = THRESHOLD) -> list[list[Match]]:
        return [self.query(v, threshold) for v in values]

    def query_content(self, data: bytes) -> list[FeatureMatch]:
        """Extract a query picture's features and look them up: the on-demand path the
        matcher takes only for images no cheaper signal matched, so those cost nothing extra."""
        if not self._sets:
            return []
        return self.query_features(features_from_bytes(data))

    def descriptor_count(self) -> int:
        return int(self._faiss.ntotal) - self._dead_rows

    def __len__(self) -> int:
        return len(self._sets)


def _rank(distances: np.ndarray, owners: np.ndarray, close: np.ndarray, query_idx: np.ndarray,
          hit_owner: np.ndarray, limit: int) -> list[int]:
    """Banked pictures worth verifying: first those that most query descriptors pick as their
    *distinctive* nearest neighbour (Lowe's ratio test against the second neighbour), then
    those with most query descriptors close to one of theirs.

    Plain vote counts alone favour "hub" pictures (dense texture) that collect near neighbours
    of every caption letter and UI element, pushing the true picture of a screenshot out of
    the candidates (measured: screenshot frames 100% → 70% as keypoints spread out).
    """
    first = close[:, 0].copy()
    if distances.shape[1] > 1:
        first &= distances[:, 0] <= RATIO * distances[:, 1]
    ids, counts = np.unique(owners[first, 0], return_counts=True)
    by_ratio = [int(ids[i]) for i in np.argsort(-counts, kind="stable")[:limit]
                if counts[i] >= MIN_DISTINCTIVE]
    unique_pairs = np.unique(np.stack([hit_owner, query_idx], axis=1), axis=0)
    ids, votes = np.unique(unique_pairs[:, 0], return_counts=True)
    by_votes = [int(ids[i]) for i in np.argsort(-votes, kind="stable")[:limit]
                if votes[i] >= MIN_INLIERS]
    return list(dict.fromkeys(by_ratio + by_votes))


def _one_per_query(query_idx: np.ndarray, banked_idx: np.ndarray,
                   distances: np.ndarray) -> np.ndarray:
    """One-to-one pairs: each query descriptor keeps its closest banked descriptor of this
    picture, then each banked descriptor its closest query descriptor (a mutual check, as
    brute-force cross-checking does; many-to-one pairs make RANSAC accept nothing)."""
    order = np.lexsort((distances, query_idx))
    query_idx, banked_idx, distances = query_idx[order], banked_idx[order], distances[order]
    first = np.ones(query_idx.shape[0], dtype=bool)
    first[1:] = query_idx[1:] != query_idx[:-1]
    query_idx, banked_idx, distances = query_idx[first], banked_idx[first], distances[first]
    order = np.lexsort((distances, banked_idx))
    query_idx, banked_idx = query_idx[order], banked_idx[order]
    first = np.ones(banked_idx.shape[0], dtype=bool)
    first[1:] = banked_idx[1:] != banked_idx[:-1]
    return np.stack([query_idx[first], banked_idx[first]], axis=1).astype(np.int64)
