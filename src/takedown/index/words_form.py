"""The `orb` index's words form: one row per banked picture, its indexed descriptors as visual
words in an inverted file, and the vote that picks the candidates RANSAC verifies.

Why a separate form: nearest-neighbour search over every banked descriptor does not scale to a
million pictures (docs/hashing.md); counting shared rare words does, at ~1 KB per picture.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from takedown.index.visual_words import InvertedFile, Vocabulary, hamming_matrix
from takedown.signals.local_features import GRID, FeatureSet

INDEXED = 64
"""Descriptors per banked picture in the words form: the strongest four of each grid cell,
then the strongest overall (32 found 4 of 12 captioned crops among 5k clustered distractors,
64 found 11 of 12); the full set (256) is read only for verification. A multiple of 8: the
re-rank reads a row's slots as 8-byte words."""
IDF_POWER = 1
RERANK = 40
"""Rows with the best votes that are re-ranked by close descriptors."""
WORD_CANDIDATES = 5
"""Rows verified at most per query (RANSAC and reading full sets), best re-ranked first."""
MIN_CLOSE = 3
"""Close descriptor pairs below which a row is not worth verifying (14 inliers are needed)."""
CLOSE_BITS = 28
"""Hamming bits within which a voting descriptor counts as close to an indexed one in the
re-rank: far tighter than pairing's 64, because a re-posted copy keeps many descriptors within
~28 bits while common structures (edges, text strokes) of other pictures sit at 30-64 (40 let
text strokes of a screenshot rank repetitive banked pictures above the one shown)."""
VOTING = 400
"""Query descriptors (of up to 700) that vote, the best-spread ones; all 700 are verified.
The vote's cost is linear in voters, and recall did not move from 700 down to 400: at 1M
pictures (saved bench index, quiet machine) 500 voters 7.2 ms median and 400 6.0 ms, both 78 of
80 found; the 33 held-out pictures' 19 real edits in a words-form bank, 17 misses with 700, 500
or 400 voters (`bench/robustness.py --local --heldout --distractors 3000`)."""
MIN_SHARED_WORDS = 2
TALLY = 4096.0
"""What each posting adds to its row's sum besides its weight (see `WordsForm._tally`)."""
QUERY_CELLS = 2
"""Level-1 cells each query descriptor is looked up in (soft assignment, query side only)."""
STOP_WORD_FACTOR = 2
"""Lists with more live postings than this many times the average are skipped: they hold the
descriptors every picture has (flat gradients, text strokes, crowded corners) and cost most
of the votes for least evidence. At 200,000 clustered pictures: factor 40, 87.5% recall and
~590,000 postings read per query; 4, 92.5%; 2, 100% and ~80,000."""
def indexed_subset(features: FeatureSet, count: int = INDEXED) -> np.ndarray:
    """Indices of the `count` descriptors a picture is retrieved by (banked: `INDEXED`; a
    query votes with `VOTING`): the strongest `count`/16 per cell of a 4x4 grid (sets are
    stored strongest first), then the strongest left."""
    if len(features) <= count:
        return np.arange(len(features))
    cells = (np.minimum(GRID - 1, (features.points[:, 0] * GRID / features.width).astype(int))
             * GRID
             + np.minimum(GRID - 1, (features.points[:, 1] * GRID / features.height).astype(int)))
    per_cell = count // (GRID * GRID)
    order = np.argsort(cells, kind="stable")
    rank = np.empty_like(order)
    sorted_cells = cells[order]
    first = np.searchsorted(sorted_cells, sorted_cells)
    rank[order] = np.arange(order.shape[0]) - first
    chosen = np.flatnonzero(rank < per_cell)
    rest = np.setdiff1d(np.arange(len(features)), chosen)[: count - chosen.shape[0]]
    return np.sort(np.concatenate([chosen, rest]))


class WordsForm:
    """The words form's state: rows (one per picture), their indexed descriptors (kept for
    retraining), the vocabulary and the inverted file."""

    def __init__(self, training: np.ndarray | None) -> None:
        """`training`: descriptors to train the vocabulary on; None for a form that `load`
        fills (and trains) at once."""
        self._descriptors = np.zeros((1024, INDEXED, 32), dtype=np.uint8)
        self._lengths = np.zeros(1024, dtype=np.int16)
        self._norm = np.ones(1024, dtype=np.float32)
        self._entry_of = np.full(1024, -1, dtype=np.int64)
        self._row_of: dict[int, int] = {}
        self._rows = 0
        self._tally_buffer = np.zeros(0, dtype=np.float64)
        if training is not None:
            self._train(training)

    def _train(self, training: np.ndarray) -> None:
        self.vocabulary = Vocabulary.train(training)
        self.file = InvertedFile(self.vocabulary.size)
        self.trained_at = max(1, len(self._row_of))

    def __len__(self) -> int:
        return len(self._row_of)

    def dead(self) -> int:
        """Rows of removed (or re-added) entries not yet dropped by a retraining."""
        return self._rows - len(self._row_of)

    def indexed(self) -> int:
        return int(self._lengths[: self._rows][self._entry_of[: self._rows] >= 0].sum())

    def add(self, entry_id: int, descriptors: np.ndarray) -> None:
        row = self._rows
        if row == self._entry_of.shape[0]:
            size = 2 * row
            self._descriptors = _grow(self._descriptors, size)
            self._lengths = _grow(self._lengths, size)
            self._norm = _grow(self._norm, size, 1)
            self._entry_of = _grow(self._entry_of, size, -1)
        self._descriptors[row, : descriptors.shape[0]] = descriptors
        self._lengths[row] = descriptors.shape[0]
        self._entry_of[row] = entry_id
        self._row_of[entry_id] = row
        self._rows += 1
        words = self.vocabulary.assign(descriptors)
        self._norm[row] = 1 / np.sqrt(np.unique(words).shape[0])
        self.file.add(row, words)

    def load(self, entry_ids: np.ndarray, descriptors: np.ndarray, lengths: np.ndarray) -> None:
        """Many pictures at once (a bank read at start-up): one training, one bulk build."""
        count = entry_ids.shape[0]
        self._descriptors = np.ascontiguousarray(descriptors, dtype=np.uint8)
        self._lengths = lengths.astype(np.int16)
        self._norm = np.ones(count, dtype=np.float32)
        self._entry_of = entry_ids.astype(np.int64)
        self._row_of = {int(e): n for n, e in enumerate(entry_ids.tolist())}
        self._rows = count
        self.retrain()

    @classmethod
    def from_rows(cls, entry_ids: np.ndarray, descriptors: np.ndarray,
                  lengths: np.ndarray) -> WordsForm:
        """A new form over many pictures at once, its vocabulary trained on them."""
        form = cls(None)
        form.load(entry_ids, descriptors, lengths)
        return form

    def rebuilder(self) -> Callable[[], WordsForm]:
        """A function that builds a new form, with a vocabulary trained afresh, over this
        form's live rows as they are now (dead rows dropped). It may run off the index lock:
        the rows it reads never change in place (an addition appends, into a new array when
        it grows; a removal only marks), and only `retrain`, which the index does not call
        while a rebuild runs, moves them."""
        live = np.flatnonzero(self._entry_of[: self._rows] >= 0)
        entry_ids, lengths = self._entry_of[live], self._lengths[live]
        descriptors = self._descriptors
        return lambda: WordsForm.from_rows(entry_ids, descriptors[live], lengths)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._row_of

    def remove(self, entry_id: int) -> None:
        row = self._row_of.pop(entry_id)
        self._entry_of[row] = -1
        self.file.drop(self.vocabulary.assign(self._descriptors[row, : self._lengths[row]]))
        self._norm[row] = 0  # a dead row's vote is 0: it never takes a candidate slot

    def retrain(self) -> None:
        """New vocabulary from the live rows' descriptors; dead rows are dropped."""
        live = np.flatnonzero(self._entry_of[: self._rows] >= 0)
        if live.shape[0] < self._rows:
            self._descriptors[: live.shape[0]] = self._descriptors[live]
            self._lengths[: live.shape[0]] = self._lengths[live]
            entries = self._entry_of[live]
            self._entry_of[: live.shape[0]] = entries
            self._entry_of[live.shape[0]: self._rows] = -1
            self._row_of = {int(e): n for n, e in enumerate(entries.tolist())}
            self._rows = live.shape[0]
        lengths = self._lengths[: self._rows]
        mask = np.arange(INDEXED)[None, :] < lengths[:, None]
        flat = self._descriptors[: self._rows][mask]
        self._train(flat)
        rows = np.repeat(np.arange(self._rows), lengths.astype(np.int64))
        words = self.vocabulary.assign(flat)
        pairs = np.unique(rows * self.vocabulary.size + words)
        self._norm[: self._rows] = 1 / np.sqrt(np.maximum(
            1, np.bincount(pairs // self.vocabulary.size, minlength=self._rows)))
        self.file.add_bulk(rows, words)

    def candidates(self, query: FeatureSet) -> list[tuple[int, float]]:
        """(entry, vote) of the entries whose indexed words the query shares most, best
        first: idf-weighted votes over the square root of the picture's distinct words, so
        pictures with many different words (dense texture) do not collect votes from every
        query. Only the query's `VOTING` best-spread descriptors vote (verification uses all):
        the vote's cost is the postings it reads, which grow with the bank."""
        self.file.merge() if self.file.postings() < 20_000 else None
        voters = query.descriptors[indexed_subset(query, VOTING)]
        words = np.unique(self.vocabulary.assign(voters, QUERY_CELLS))
        average = max(1.0, self.file.live_postings / self.vocabulary.size)
        frequency = self.file.frequency(words)
        idf = np.log1p(len(self._row_of) / np.maximum(1, frequency)) ** IDF_POWER
        rows, weight = self.file.lookup(words, int(STOP_WORD_FACTOR * average) + 16,
                                        idf)
        if rows.shape[0] == 0:
            return []
        best, _score = self._tally(rows, weight, RERANK)
        return self._rerank(voters, best)

    def _tally(self, rows: np.ndarray, weight: np.ndarray, count: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, score), best first, of the `count` best rows sharing at least
        `MIN_SHARED_WORDS` of the query's words; score = summed weight x the row's norm.

        Sums go into one bank-sized buffer kept between queries, and only the entries the
        postings touched are read and zeroed again: at 1M pictures two fresh bank-sized
        `bincount`s per query (16 MB of page faults) cost more than the rest of the vote,
        `np.add.at` over ~80,000 postings ~0.5 ms. Each posting adds `TALLY` + its weight, so
        one sum holds both the shared words (its multiple of `TALLY`) and the vote (a row has
        at most `INDEXED` postings of idf <= log1p(rows), far below `TALLY`). Callers
        serialise queries (`LocalFeatureIndex` holds its lock)."""
        if self._tally_buffer.shape[0] < self._rows:
            self._tally_buffer = np.zeros(self._entry_of.shape[0], dtype=np.float64)
        sums = self._tally_buffer
        try:
            np.add.at(sums, rows, weight + TALLY)
            best = np.unique(rows[sums[rows] >= MIN_SHARED_WORDS * TALLY])
            score = np.mod(sums[best], TALLY) * self._norm[best]
        finally:
            sums[rows] = 0
        kept = score > 0
        best, score = best[kept], score[kept]
        if best.shape[0] > count:
            top = np.argpartition(-score, count)[:count]
            best, score = best[top], score[top]
        order = np.lexsort((best, -score))
        return best[order], score[order]

    def _rerank(self, voters: np.ndarray, rows: np.ndarray) -> list[tuple[int, float]]:
        """Re-rank the vote's best rows by their *distinct* close pairs: voting descriptors
        with an indexed descriptor of the row within `CLOSE_BITS` bits, and the row's indexed
        descriptors with a voter that close, whichever is fewer (exact Hamming over the 64 kept
        per row: one faiss pass, ~1 ms for 40 rows). A shared word says two descriptors fell in
        one cell; this says they are close, which is what verification needs, so the true
        picture comes first and few rows need RANSAC. Counting voters alone let one banked
        descriptor of a repetitive picture (a cradle's balls, a checkerboard) be close to many
        of a query's text strokes at once and outrank the picture really shown."""
        if rows.shape[0] == 0:
            return []
        flat = hamming_matrix(voters, self._descriptors[rows].reshape(-1, 32))
        held = (np.arange(INDEXED)[None, :] < self._lengths[rows][:, None]).ravel()
        near = (flat <= CLOSE_BITS) & held
        by_voter = np.count_nonzero(_any_of_row(near, rows.shape[0]), axis=0)
        by_kept = np.count_nonzero(near.any(axis=0).reshape(rows.shape[0], INDEXED), axis=1)
        close = np.minimum(by_voter, by_kept)
        order = np.argsort(-close, kind="stable")[:WORD_CANDIDATES]
        order = order[close[order] >= MIN_CLOSE]
        return [(int(e), float(c)) for e, c in zip(self._entry_of[rows[order]].tolist(),
                                                   close[order].tolist(), strict=True)]

    def nbytes(self) -> int:
        used = self._rows
        return (used * (INDEXED * 32 + 2 + 8) + len(self._row_of) * 100
                + self.file.nbytes() + self._tally_buffer.nbytes)


def _any_of_row(near: np.ndarray, rows: int) -> np.ndarray:
    """(voters, rows): whether any of a row's `INDEXED` slots is True in `near` (voters,
    rows x INDEXED), by OR-ing the bool bytes as 64-bit words (a `min` over the 64-wide axis
    of the distances cost ~1 ms per query, as much as computing them)."""
    words = near.view(np.uint64).reshape(near.shape[0], rows, INDEXED // 8)
    folded: np.ndarray = np.bitwise_or.reduce(words, axis=2) != 0
    return folded


def _grow(array: np.ndarray, size: int, fill: int = 0) -> np.ndarray:
    grown = np.full((size, *array.shape[1:]), fill, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown
