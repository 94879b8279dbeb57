"""The `orb` index: which banked pictures appear in a query picture, verified by RANSAC.

Two forms, one answer (only geometrically verified pictures are returned, with evidence; a crop
that loses too many keypoints is missed, never invented):

- **Flat** while the bank is small (below `WORDS_FROM` pictures): every banked descriptor in an
  exact faiss `IndexBinaryFlat`; each query descriptor looks up its nearest banked ones and the
  pictures that collect most distinctive pairs are verified.
- **Words** from then on (`takedown.index.visual_words`): only `INDEXED` well-spread
  descriptors of each banked picture are kept, as visual words in an inverted file; a query's
  words vote (tf-idf) for the pictures sharing them, the best 40 are re-ranked by exact
  Hamming distance to those kept descriptors, and at most `WORD_CANDIDATES` are verified
  (best first, early exit) against their *full* feature sets, read through `resolve` (the
  database) with a small cache. Nearest-neighbour search over all descriptors cost 237-713 ms
  per lookup and extrapolated to 12-24 GB at 1M pictures; the words form is docs/hashing.md's
  answer to that.

The vocabulary is trained on the bank when it switches form and again each time the bank has
grown `REGROW`-fold, so words stay balanced as it grows. Additions are visible to the next
query; removals are immediate (tombstones, reclaimed by `compact()`). Nothing is pickled: a bank
reloads from its stored feature sets.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import faiss
import numpy as np

from takedown.index.base import Match
from takedown.index.visual_words import hamming_matrix
from takedown.index.words_form import WordsForm, indexed_subset
from takedown.signals.local_features import (
    MAX_DESCRIPTOR_DISTANCE,
    MIN_INLIERS,
    QUERY_FEATURES,
    THRESHOLD,
    FeatureSet,
    Verification,
    features_from_luma,
    query_luma,
    verify,
)
from takedown.signals.local_inset import inset_features

log = logging.getLogger(__name__)

WORDS_FROM = 1000
"""Banked pictures from which the words form replaces the flat one (flat: ~700 x 256k Hamming
comparisons per lookup at this size, still a few tens of milliseconds)."""
NEIGHBOURS = 3
"""Banked descriptors looked up per query descriptor (flat form)."""
CANDIDATES = 6
"""Banked pictures verified per query, the ones with most close pairs (RANSAC is the cost)."""
RATIO = 0.9
MIN_DISTINCTIVE = 4
REGROW = 4
EXIT_SHARE = 0.5
"""After a verified candidate, others are verified only with at least this share of its vote."""
CACHE = 2048
"""Full feature sets kept after verification (recently matched pictures are asked again)."""

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

    def __init__(self, resolve: Resolver | None = None, *, words_from: int = WORDS_FROM) -> None:
        self._resolve = resolve
        self._words_from = words_from
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, FeatureSet] = OrderedDict()
        self._keys: dict[int, str] = {}
        """Entry -> the digest its full set is resolved by (words form, resolvable entries)."""
        self._kept: dict[int, FeatureSet] = {}
        """Entry -> full set, for every entry while flat, for inline values in the words form."""
        self._flat_keys: dict[int, str] = {}
        self._reset_flat()
        self._words: WordsForm | None = None
        self._journal: list[tuple[int, np.ndarray | None]] | None = None
        """Changes made while a new form is built off the lock (None when none is)."""
        self._training: threading.Thread | None = None

    def _reset_flat(self) -> None:
        self._faiss: faiss.IndexBinary = faiss.IndexBinaryFlat(256)
        self._owner = np.full(1024, -1, dtype=np.int64)
        self._rows = 0
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
        key = None if value.startswith("orb1:") else value
        self.add_features(entry_id, features, key=key)

    def add_many(self, entry_ids: Sequence[int], values: Sequence[str]) -> None:
        for entry_id, value in zip(entry_ids, values, strict=True):
            self.add(entry_id, value)

    def add_features(self, entry_id: int, features: FeatureSet, *, key: str | None = None) -> None:
        """Bank `features` under `entry_id`; `key`, when given, is what `resolve` turns back
        into the full set, so the words form need not keep it in memory."""
        with self._lock:
            entry_id = int(entry_id)
            if self._holds(entry_id, features, key):
                return  # the change feed's overlap delivers an entry again: nothing changed
            if self._known(entry_id):
                self._forget(entry_id)
            if self._words is None:
                self._kept[entry_id] = features
                if key is not None:
                    self._flat_keys[entry_id] = key
                self._append_flat(entry_id, features)
                if len(self._kept) >= self._words_from:
                    self._to_words()
                return
            self._remember(entry_id, features, key)
            subset = features.descriptors[indexed_subset(features)]
            self._words.add(entry_id, subset)
            if self._journal is not None:
                self._journal.append((entry_id, subset))
            self._maybe_retrain()

    def _maybe_retrain(self) -> None:
        """Retrain after `REGROW`-fold growth, and when dead rows (removed or re-added
        entries) outnumber live ones: a bank that churns at a constant size would otherwise
        keep every old row and its postings forever. Dead rows never take a candidate slot
        (their vote is zeroed), so this bounds memory, not correctness.

        The new form is built in a thread, off the lock: training a vocabulary and assigning
        every banked descriptor takes minutes at a million pictures, and queries (every
        image a worker checks) would wait that long. Meanwhile the current form keeps
        answering and takes additions and removals, which are also journaled and replayed
        onto the new form before it is swapped in, under the lock. Memory holds both forms
        until the swap."""
        assert self._words is not None
        words = self._words
        if self._journal is not None:
            return
        if len(words) >= REGROW * words.trained_at or words.dead() > max(1000, len(words)):
            self._journal = []
            build = words.rebuilder()
            self._training = threading.Thread(target=self._rebuild, args=(build,),
                                              name="orb-vocabulary", daemon=True)
            self._training.start()

    def _rebuild(self, build: Callable[[], WordsForm]) -> None:
        try:
            fresh = build()
        except Exception:  # the current form still answers; the next change tries again
            log.exception("orb vocabulary retraining failed")
            with self._lock:
                self._journal = None
            return
        with self._lock:
            for entry_id, descriptors in self._journal or []:
                if entry_id in fresh:
                    fresh.remove(entry_id)
                if descriptors is not None:
                    fresh.add(entry_id, descriptors)
            self._words, self._journal = fresh, None

    def wait_for_training(self, timeout: float | None = None) -> bool:
        """Wait for a retraining in progress to be swapped in; False if it is still running
        after `timeout` seconds. `compact()` waits; tests and benches that count on the new
        vocabulary call it."""
        training = self._training
        if training is not None:
            training.join(timeout)
        return training is None or not training.is_alive()

    def load(self, entry_ids: np.ndarray, subsets: np.ndarray, keys: Sequence[str]) -> None:
        """Fill an empty index with many resolvable pictures at once, in the words form: their
        indexed descriptors (uint8 (n, INDEXED, 32), e.g. `indexed_subset` of each stored set)
        and the keys `resolve` reads their full sets by. One training, one bulk build: how a
        large bank is read at start-up instead of one `add` per picture."""
        with self._lock:
            if len(self) or self._resolve is None:
                raise ValueError("load() fills an empty index that has a resolver")
            self._words = WordsForm.from_rows(entry_ids, subsets,
                                              np.full(entry_ids.shape[0], subsets.shape[1]))
            self._keys = {int(e): k for e, k in zip(entry_ids.tolist(), keys, strict=True)}

    def _known(self, entry_id: int) -> bool:
        return entry_id in self._kept or entry_id in self._keys

    def _holds(self, entry_id: int, features: FeatureSet, key: str | None) -> bool:
        if key is not None and key in (self._keys.get(entry_id), self._flat_keys.get(entry_id)):
            return True
        kept = self._kept.get(entry_id)
        return kept is not None and kept.digest() == features.digest()

    def _remember(self, entry_id: int, features: FeatureSet, key: str | None) -> None:
        if key is not None and self._resolve is not None:
            self._keys[entry_id] = key
        else:
            self._kept[entry_id] = features

    def _append_flat(self, entry_id: int, features: FeatureSet) -> None:
        """Rows of the faiss index are owned by entry ids (-1: tombstoned); amortised growth."""
        end = self._rows + len(features)
        if end > self._owner.shape[0]:
            grown = np.full(max(end, 2 * self._owner.shape[0]), -1, dtype=np.int64)
            grown[: self._rows] = self._owner[: self._rows]
            self._owner = grown
        self._owner[self._rows:end] = entry_id
        self._offsets[entry_id] = self._rows
        self._rows = end
        self._faiss.add(np.ascontiguousarray(features.descriptors))

    def _to_words(self) -> None:
        """Switch form: vocabulary trained on every descriptor held (the full sets: plenty of
        samples), then only each picture's indexed subset is kept."""
        kept = self._kept
        training = np.vstack([f.descriptors for f in kept.values()])
        words = WordsForm(training)
        for entry_id, features in kept.items():
            words.add(entry_id, features.descriptors[indexed_subset(features)])
        words.trained_at = len(words)
        self._words, self._kept = words, {}
        self._reset_flat()
        for entry_id, features in kept.items():
            self._remember(entry_id, features, self._flat_keys.pop(entry_id, None))
        self._flat_keys.clear()

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            if not self._known(int(entry_id)):
                return False
            self._forget(int(entry_id))
            return True

    def _forget(self, entry_id: int) -> None:
        self._cache.pop(entry_id, None)
        self._keys.pop(entry_id, None)
        self._flat_keys.pop(entry_id, None)
        features = self._kept.pop(entry_id, None)
        if self._words is not None:
            self._words.remove(entry_id)
            if self._journal is not None:
                self._journal.append((entry_id, None))
            self._maybe_retrain()
            return
        assert features is not None
        start = self._offsets.pop(entry_id)
        self._owner[start:start + len(features)] = -1
        self._dead_rows += len(features)
        if self._dead_rows > max(1000, self._rows // 2):
            self._compact()

    def _compact(self) -> None:
        if self._words is not None:
            if self._journal is None:  # else the form being built drops the dead rows
                self._words.retrain()
            return
        live = list(self._kept.items())
        self._reset_flat()
        for entry_id, features in live:
            self._append_flat(entry_id, features)

    def compact(self) -> None:
        self.wait_for_training()
        with self._lock:
            self._compact()

    def query_features(self, query: FeatureSet, limit: int = CANDIDATES) -> list[FeatureMatch]:
        """Verified banked pictures found in `query`, most inliers first."""
        if query.degenerate:
            return []
        with self._lock:
            if self._words is not None:
                return self._words_query(query)
            work, pairs = self._flat_candidates(query, limit)
        found: list[FeatureMatch] = []
        for (entry_id, banked), candidate in zip(work, pairs, strict=True):
            assert banked is not None
            result = verify(query, banked, candidate)
            if result is not None:
                found.append(FeatureMatch(entry_id, result))
        return sorted(found, key=lambda m: (m.distance, m.entry_id))

    def _words_query(self, query: FeatureSet) -> list[FeatureMatch]:
        """Verify the vote's candidates best first. Once one verifies, the rest are verified
        only while their vote is at least `EXIT_SHARE` of its: RANSAC and reading full sets
        are most of a lookup's cost, and a picture that weak next to a verified one is one
        more distractor (a collage of two banked pictures gives both strong votes)."""
        assert self._words is not None
        found: list[FeatureMatch] = []
        floor = 0.0
        for entry_id, vote in self._words.candidates(query):
            if vote < floor:
                break
            banked = self._full(entry_id)
            if not banked:
                continue
            result = verify(query, banked, _nearest_pairs(query, banked))
            if result is not None:
                found.append(FeatureMatch(entry_id, result))
                floor = max(floor, EXIT_SHARE * vote)
        return sorted(found, key=lambda m: (m.distance, m.entry_id))

    def _full(self, entry_id: int) -> FeatureSet | None:
        kept = self._kept.get(entry_id) or self._cache.get(entry_id)
        if kept is not None:
            self._cache.move_to_end(entry_id) if entry_id in self._cache else None
            return kept
        key = self._keys.get(entry_id)
        features = self._resolve(key) if key is not None and self._resolve else None
        if features is not None:
            self._cache[entry_id] = features
            if len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return features

    def _flat_candidates(self, query: FeatureSet, limit: int
                         ) -> tuple[list[tuple[int, FeatureSet | None]], list[np.ndarray]]:
        if not self._kept:
            return [], []
        if self._dead_rows:
            # Tombstoned rows would take nearest-neighbour slots from live ones (and tie with
            # a re-added picture's own copy, failing the ratio test): a query sees only live
            # rows. A flat index is small (< WORDS_FROM pictures), so rebuilding it is cheap.
            self._compact()
        k = min(NEIGHBOURS, int(self._faiss.ntotal))
        distances, rows = self._faiss.search(np.ascontiguousarray(query.descriptors), k)
        owners = np.where(rows >= 0, self._owner[np.clip(rows, 0, None)], -1)
        close = (distances <= MAX_DESCRIPTOR_DISTANCE) & (owners >= 0)
        query_idx = np.repeat(np.arange(rows.shape[0]), k).reshape(rows.shape)[close]
        hit_rows, hit_owner = rows[close], owners[close]
        if hit_owner.size == 0:
            return [], []
        work: list[tuple[int, FeatureSet | None]] = []
        pairs = []
        for entry_id in _rank(distances, owners, close, query_idx, hit_owner, limit):
            mine = hit_owner == entry_id
            pairs.append(_one_per_query(query_idx[mine], hit_rows[mine] - self._offsets[entry_id],
                                        distances[close][mine]))
            work.append((entry_id, self._kept[entry_id]))
        return work, pairs

    def query(self, value: str, threshold: int = THRESHOLD) -> list[Match]:
        features = FeatureSet.from_value(value)
        return [(m.distance, m.entry_id) for m in self.query_features(features)
                if m.distance <= threshold]

    def query_many(self, values: Sequence[str], threshold: int = THRESHOLD) -> list[list[Match]]:
        return [self.query(v, threshold) for v in values]

    def query_content(self, data: bytes) -> list[FeatureMatch]:
        """Extract a query picture's features and look them up: the on-demand path the
        matcher takes only for images no cheaper signal matched, so those cost nothing extra.

        When the whole picture finds nothing and it looks like a screenshot (a textured
        region inside a flat interface, `local_inset`), that region is looked up again on
        its own; its matches' regions are mapped back onto the upload."""
        if not len(self):
            return []
        luma = query_luma(data)
        found = self.query_features(features_from_luma(luma, QUERY_FEATURES))
        if found:
            return found
        inset = inset_features(luma)
        if inset is None:
            return []
        where, features = inset
        return [FeatureMatch(m.entry_id, replace(
                    m.verification, region=where.to_image(m.verification.region),
                    inset=where.as_list()))
                for m in self.query_features(features)]

    @property
    def form(self) -> str:
        return "words" if self._words is not None else "flat"

    def memory_bytes(self) -> int:
        """What the index holds in memory, from its arrays (the bench's figure)."""
        kept = sum(len(f) * 36 for f in self._kept.values())
        keys = len(self._keys) * (64 + 49 + 40)  # str body + header, dict slot
        if self._words is not None:
            return kept + keys + self._words.nbytes()
        return kept + keys + int(self._faiss.ntotal) * 32 + self._owner.nbytes

    def descriptor_count(self) -> int:
        if self._words is not None:
            return self._words.indexed()
        return int(self._faiss.ntotal) - self._dead_rows

    def __len__(self) -> int:
        return len(self._kept) + len(self._keys)


def _nearest_pairs(query: FeatureSet, banked: FeatureSet) -> np.ndarray:
    """Mutual nearest pairs within `MAX_DESCRIPTOR_DISTANCE`: every distance in one faiss
    pass, then the nearest of each query descriptor (the first on ties, as `knn_hamming`
    gives; its heap costs twice as much for ~700 x 256 descriptors), cheaper than OpenCV's
    cross-checked brute force, which scans both ways."""
    if query.descriptors.shape[0] == 0 or banked.descriptors.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.int64)
    every = hamming_matrix(query.descriptors, banked.descriptors)
    nearest = every.argmin(axis=1)
    distances = every[np.arange(every.shape[0]), nearest]
    close = np.flatnonzero(distances <= MAX_DESCRIPTOR_DISTANCE)
    return _one_per_query(close, nearest[close], distances[close])


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
