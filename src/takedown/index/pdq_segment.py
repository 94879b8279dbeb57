"""An immutable multi-index-hashing segment over 256-bit PDQ hashes, in plain numpy.

Why this shape (measured in bench/pdq_index.py, written up in docs/performance.md):

* **Pigeonhole over 16 chunks of 16 bits.** If two hashes differ in at most t bits and
  t = 16·r + a (0 ≤ a < 16), then one of the first a+1 chunks differs in at most r bits or
  some chunk differs in at most r-1 bits (otherwise the total would exceed t). For t ≤ 31
  this means probing each chunk's bucket and, where r = 1, its 16 one-bit neighbours: at most
  272 bucket probes, every true match is among the candidates, and each candidate is verified
  with an exact popcount. Smaller thresholds probe fewer chunks (t ≤ 15 probes t+1 buckets).
* **CSR postings, not hash maps.** Per chunk: `offsets[c]` (65,537 uint32) and `postings[c]`
  (the row numbers sorted by that chunk's value, uint32). Rows themselves are sorted by chunk 0,
  so chunk 0 needs no postings at all: 32 B hash + 15 × 4 B + the entry id = 96 B per hash
  with 32-bit entry ids, plus 4 MiB of offsets. faiss's IndexBinaryMultiHash keeps a hash map
  of 64-bit ids per chunk instead, which is where HMA's ~677 B per hash goes.
* **Vectorised verification.** Candidates are gathered with `np.take` (much faster than fancy
  indexing on a 2-D array) and compared as four uint64 words with `np.bitwise_count`.

Thresholds above 31 fall back to an exact linear scan, so a query is never approximate.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from takedown.core.errors import InvalidInput

HASH_BYTES = 32
CHUNKS = 16
BUCKETS = 1 << 16
MAX_MIH_THRESHOLD = 31
_FLIPS = np.array([0] + [1 << bit for bit in range(16)], dtype=np.uint16)
# Upper bound on candidates materialised at once; keeps temporaries around 100 MB.
_CANDIDATE_BUDGET = 2_000_000


@functools.lru_cache(maxsize=64)
def probe_plan(threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """(chunk, bit-flip mask) per probe, chunk-major, for the pigeonhole split of `threshold`."""
    if not 0 <= threshold <= MAX_MIH_THRESHOLD:
        raise ValueError(f"multi-index probing covers thresholds 0..31, not {threshold}")
    radius, extra = divmod(threshold, CHUNKS)
    chunks: list[np.ndarray] = []
    flips: list[np.ndarray] = []
    for chunk in range(CHUNKS):
        r = radius if chunk <= extra else radius - 1
        if r < 0:
            continue
        mask = _FLIPS if r == 1 else _FLIPS[:1]
        chunks.append(np.full(len(mask), chunk, dtype=np.int64))
        flips.append(mask)
    return np.concatenate(chunks), np.concatenate(flips)


def entry_id_array(entry_ids: np.ndarray) -> np.ndarray:
    """Entry ids as little-endian uint32 when they all fit (4 B each), else int64."""
    ids = np.asarray(entry_ids)
    if ids.dtype.kind not in "iu":
        raise InvalidInput("entry ids must be integers", hint=f"got dtype {ids.dtype}")
    if ids.size == 0 or (ids.min() >= 0 and ids.max() < 2**32):
        return ids.astype("<u4")
    if ids.dtype.kind == "u" and ids.max() >= 2**63:
        raise InvalidInput("entry ids must fit in a signed 64-bit integer")
    return ids.astype("<i8")


def expand_ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate `arange(s, s + l)` for every (s, l); also return each element's range number."""
    nonzero = np.flatnonzero(lengths)
    starts = starts[nonzero]
    lengths = lengths[nonzero]
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    positions = np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)
    return positions, np.repeat(nonzero, lengths)


def hamming_scan(
    planes: np.ndarray, query_words: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact brute force over (4, rows) word planes: (query, row, distance) within `threshold`.

    Serves the small delta buffer of fresh additions and thresholds above 31. Works a word
    column at a time on (queries x rows) blocks, which numpy does far faster than a row sum.
    """
    found_q, found_r, found_d = [], [], []
    rows = planes.shape[1]
    for row_begin in range(0, rows, _CANDIDATE_BUDGET):
        block = planes[:, row_begin : row_begin + _CANDIDATE_BUDGET]
        columns = [np.ascontiguousarray(block[word]) for word in range(4)]
        per_block = max(1, _CANDIDATE_BUDGET // block.shape[1])
        for begin in range(0, len(query_words), per_block):
            part = query_words[begin : begin + per_block]
            low = np.bitwise_count(columns[0][None, :] ^ part[:, 0, None])
            low += np.bitwise_count(columns[1][None, :] ^ part[:, 1, None])
            high = np.bitwise_count(columns[2][None, :] ^ part[:, 2, None])
            high += np.bitwise_count(columns[3][None, :] ^ part[:, 3, None])
            distance = low.astype(np.int16) + high
            q, r = np.nonzero(distance <= threshold)
            found_q.append(q + begin)
            found_r.append(r + row_begin)
            found_d.append(distance[q, r].astype(np.int64))
    if not found_q:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(found_q), np.concatenate(found_r), np.concatenate(found_d)


def _column_distance(
    candidate: np.ndarray, query_words: np.ndarray, query_index: np.ndarray, word: int
) -> np.ndarray:
    """Popcount of one 64-bit word per candidate; column-wise is ~10x faster than sum(axis=1)."""
    if len(query_words) == 1:
        return np.bitwise_count(candidate[:, word] ^ query_words[0, word])
    return np.bitwise_count(candidate[:, word] ^ np.take(query_words[:, word], query_index))


@dataclass(frozen=True)
class PdqSegment:
    """Read-only MIH tables over n hashes; rows are sorted by chunk 0 (see module docstring)."""

    hashes: np.ndarray  # (n, 32) uint8, the canonical bytes of each hash
    entry_ids: np.ndarray  # (n,) <u4 or <i8, the bank entry each row belongs to
    offsets: np.ndarray  # (16, 65537) <u4, bucket start per chunk value
    postings: np.ndarray  # (15, n) <u4, rows sorted by chunks 1..15

    @classmethod
    def build(cls, hashes: np.ndarray, entry_ids: np.ndarray) -> PdqSegment:
        hashes = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        ids = entry_id_array(entry_ids)
        if len(ids) != len(hashes):
            raise InvalidInput(f"{len(hashes)} hashes but {len(ids)} entry ids")
        if len(hashes) >= 2**32:
            raise InvalidInput("a segment holds at most 2**32 - 1 hashes")
        order = np.argsort(hashes.view("<u2")[:, 0], kind="stable")
        hashes = np.take(hashes, order, axis=0)
        ids = np.take(ids, order)
        chunk_values = hashes.view("<u2")
        offsets = np.zeros((CHUNKS, BUCKETS + 1), dtype="<u4")
        postings = np.empty((CHUNKS - 1, len(hashes)), dtype="<u4")
        for chunk in range(CHUNKS):
            column = np.ascontiguousarray(chunk_values[:, chunk])
            np.cumsum(np.bincount(column, minlength=BUCKETS), out=offsets[chunk, 1:])
            if chunk:
                postings[chunk - 1] = np.argsort(column, kind="stable")
        return cls(hashes, ids, offsets, postings)

    @classmethod
    def rebuild_offsets(cls, hashes: np.ndarray) -> np.ndarray:
        """Offsets are cheap to recount (16 bincounts), so the file format does not store them."""
        offsets = np.zeros((CHUNKS, BUCKETS + 1), dtype="<u4")
        chunk_values = hashes.view("<u2")
        for chunk in range(CHUNKS):
            column = np.ascontiguousarray(chunk_values[:, chunk])
            np.cumsum(np.bincount(column, minlength=BUCKETS), out=offsets[chunk, 1:])
        return offsets

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def nbytes(self) -> int:
        return int(
            self.hashes.nbytes + self.entry_ids.nbytes + self.offsets.nbytes + self.postings.nbytes
        )

    @property
    def words(self) -> np.ndarray:
        return self.hashes.view("<u8")

    def search(
        self, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, row, distance) for every stored row within `threshold`; exact, deduped."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if len(self) == 0 or len(queries) == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        if threshold > MAX_MIH_THRESHOLD:
            return hamming_scan(self.words.T, queries.view("<u8"), threshold)
        plan_chunks, plan_flips = probe_plan(threshold)
        expected = len(plan_chunks) * (len(self) / BUCKETS + 1)
        per_batch = max(1, int(_CANDIDATE_BUDGET // expected))
        parts = [
            self._search_batch(
                queries[begin : begin + per_batch], threshold, plan_chunks, plan_flips
            )
            for begin in range(0, len(queries), per_batch)
        ]
        if len(parts) == 1:
            return parts[0]
        shift = np.cumsum([0] + [per_batch] * (len(parts) - 1))
        return (
            np.concatenate([part[0] + offset for part, offset in zip(parts, shift, strict=True)]),
            np.concatenate([part[1] for part in parts]),
            np.concatenate([part[2] for part in parts]),
        )

    def _search_batch(
        self, queries: np.ndarray, threshold: int, plan_chunks: np.ndarray, plan_flips: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(self)
        count = len(queries)
        # Probe-major order (probe, query): chunk 0's probes come first for every query.
        keys = (queries.view("<u2")[:, plan_chunks] ^ plan_flips).T.astype(np.int64)
        keys += (plan_chunks * (BUCKETS + 1))[:, None]
        flat_offsets = self.offsets.reshape(-1)
        starts = np.take(flat_offsets, keys).astype(np.int64)
        lengths = np.take(flat_offsets, keys + 1) - starts
        # Chunk 0's bucket positions are row numbers (rows are sorted by chunk 0); the other
        # chunks' positions index their postings, laid end to end.
        in_chunk0 = int(np.count_nonzero(plan_chunks == 0))
        starts[in_chunk0:] += ((plan_chunks[in_chunk0:] - 1) * n)[:, None]
        positions, probe = expand_ranges(starts.ravel(), lengths.ravel())
        split = int(lengths[:in_chunk0].sum())
        rows = positions
        rows[split:] = np.take(self.postings.reshape(-1), positions[split:])
        query_words = queries.view("<u8")
        candidate = np.take(self.words, rows, axis=0)
        query_index = np.zeros(len(rows), dtype=np.int64) if count == 1 else probe % count
        distance = _column_distance(candidate, query_words, query_index, 0)
        distance += _column_distance(candidate, query_words, query_index, 1)
        # Two words (128 bits) already reject nearly every random candidate; finish the rest.
        keep = np.flatnonzero(distance <= threshold)
        candidate, query_index, rows = candidate[keep], query_index[keep], rows[keep]
        distance = distance[keep]
        distance += _column_distance(candidate, query_words, query_index, 2)
        distance += _column_distance(candidate, query_words, query_index, 3)
        keep = np.flatnonzero(distance <= threshold)
        query_index, rows, distance = query_index[keep], rows[keep], distance[keep].astype(np.int64)
        _, first = np.unique(query_index * n + rows, return_index=True)
        return query_index[first], rows[first], distance[first]
