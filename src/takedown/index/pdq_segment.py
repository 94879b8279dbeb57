"""An immutable multi-index-hashing segment over 256-bit PDQ hashes, in plain numpy.

Why this shape (measured in bench/pdq_index.py, written up in docs/performance.md):

* **Pigeonhole over 8 pairs of 16-bit chunks.** If two hashes differ in at most t bits and
  t = 8·L + a (0 ≤ a < 8), then one of the first a+1 pairs of chunks (32 bits) differs in at
  most L bits, or some pair differs in at most L-1 bits (otherwise the total would exceed t).
  In a pair within L bits, one of its two chunks is within ⌊L/2⌋ bits. For t = 31 (L = 3)
  that means probing every chunk's bucket and its 16 one-bit neighbours: 272 bucket probes,
  and every true match is among the candidates. Smaller thresholds probe fewer buckets.
* **A signature filter before any row is read.** A candidate found through chunk c must be
  within L bits on the pair (c, c^1), so the 8 bits of the partner chunk that each posting
  carries may differ in at most L - d(c) places. That rejects ~85% of random candidates with
  sequential reads, before the random reads of whole hashes; survivors get an exact popcount.
* **CSR postings, not hash maps.** Per chunk: `offsets[c]` (65,537 of them) and `postings[c]`
  (row numbers sorted by that chunk's value, 24 bits of row + 8 bits of signature in a
  uint32). Rows themselves are sorted by chunk 0, so chunk 0 needs no postings: 32 B hash +
  15 × 4 B + the entry id = 96 B per hash with 32-bit entry ids, plus 3 MiB of offsets.
  faiss's IndexBinaryMultiHash keeps hash maps of 64-bit ids instead (HMA: ~677 B per hash).
  Beyond 2**24 rows postings hold plain 32-bit rows and the signature filter is skipped.
* **Vectorised verification.** Candidates are gathered with `np.take` (much faster than fancy
  indexing on a 2-D array) and compared a uint64 word column at a time with
  `np.bitwise_count`; two words already reject nearly every remaining non-match.

Thresholds above 31 fall back to an exact linear scan, so a query is never approximate.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from takedown.core.errors import InvalidInput

HASH_BYTES = 32
CHUNKS = 16
BUCKETS = 1 << 16
MAX_MIH_THRESHOLD = 31
_FLIPS = np.array([0] + [1 << bit for bit in range(16)], dtype=np.uint16)
# Postings hold a row number in their low 24 bits and, while rows fit, 8 bits of the partner
# chunk in the top 8: a signature that rejects most candidates before their rows are read.
ROW_BITS = 24
MAX_PACKED_ROWS = (1 << ROW_BITS) - 1
_ROW_MASK = np.uint32((1 << ROW_BITS) - 1)
# Candidates materialised at once. Small, so the temporaries stay in cache: measured, batches
# ran 1.5x (1M hashes) to 2x (10M) faster than with 2,000,000.
_CANDIDATE_BUDGET = 100_000


@functools.lru_cache(maxsize=64)
def probe_plan(threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(chunk, bit-flip mask, signature budget) per probe, chunk-major (see module docstring)."""
    if not 0 <= threshold <= MAX_MIH_THRESHOLD:
        raise ValueError(f"multi-index probing covers thresholds 0..31, not {threshold}")
    pair_limit, extra = divmod(threshold, CHUNKS // 2)
    chunks: list[int] = []
    flips: list[int] = []
    budgets: list[int] = []
    for pair in range(CHUNKS // 2):
        limit = pair_limit if pair <= extra else pair_limit - 1
        if limit < 0:
            continue
        masks = _FLIPS if limit >= 2 else _FLIPS[:1]
        for chunk in (2 * pair, 2 * pair + 1):
            for mask in masks.tolist():
                chunks.append(chunk)
                flips.append(mask)
                budgets.append(limit - int(mask).bit_count())
    # Chunk 0 first (its candidates are rows, not postings), then the rest by falling budget,
    # so each budget's candidates form one contiguous run that one comparison filters.
    order = sorted(range(len(chunks)), key=lambda i: (chunks[i] != 0, -budgets[i]))
    return (
        np.array([chunks[i] for i in order], dtype=np.int64),
        np.array([flips[i] for i in order], dtype=np.uint16),
        np.array([budgets[i] for i in order], dtype=np.uint32),
    )


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
            if len(part) == 1:  # 1-D with scalars: several times faster than broadcasting
                low = np.bitwise_count(columns[0] ^ part[0, 0])
                low += np.bitwise_count(columns[1] ^ part[0, 1])
                r = np.flatnonzero(low <= threshold)
                q = np.zeros(len(r), dtype=np.int64)
                low = low[None, :]
            else:
                low = np.bitwise_count(columns[0][None, :] ^ part[:, 0, None])
                low += np.bitwise_count(columns[1][None, :] ^ part[:, 1, None])
                # Half the bits already rule out nearly every pair; finish only survivors.
                q, r = np.nonzero(low <= threshold)
            distance = low[q, r].astype(np.int16)
            distance += np.bitwise_count(columns[2][r] ^ part[q, 2])
            distance += np.bitwise_count(columns[3][r] ^ part[q, 3])
            keep = np.flatnonzero(distance <= threshold)
            found_q.append(q[keep] + begin)
            found_r.append(r[keep] + row_begin)
            found_d.append(distance[keep].astype(np.int64))
    if not found_q:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(found_q), np.concatenate(found_r), np.concatenate(found_d)


def _column_distance(
    candidate: np.ndarray, query_words: np.ndarray, query_index: np.ndarray, word: int
) -> np.ndarray:
    """Popcount of one 64-bit word per candidate; column-wise is ~10x faster than sum(axis=1)."""
    column: np.ndarray = candidate[:, word]
    if len(query_words) == 1:
        counts: np.ndarray = np.bitwise_count(column ^ query_words[0, word])
    else:
        # One take per column of the queries: cheaper than gathering whole query rows.
        counts = np.bitwise_count(column ^ np.take(query_words[:, word], query_index))
    return counts


class PdqSegment:
    """Read-only MIH tables over n hashes; rows are sorted by chunk 0 (see module docstring).

    hashes     (n, 32) uint8     the canonical bytes of each hash
    entry_ids  (n,) <u4 or <i8   the bank entry each row belongs to
    offsets    (16, 65537) <u4   bucket start per chunk value (held as 3 bytes each while
                                 n < 2**24: 1 MiB less, which is 1 B per hash at 1M hashes)
    postings   (15, n) <u4       rows (and signatures) sorted by chunks 1..15
    """

    def __init__(
        self, hashes: np.ndarray, entry_ids: np.ndarray, offsets: np.ndarray, postings: np.ndarray
    ) -> None:
        self.hashes = hashes
        self.entry_ids = entry_ids
        self.postings = postings
        self._flat_postings = postings.reshape(-1)
        self._plans: dict[int, _Plan] = {}
        flat = np.ascontiguousarray(offsets, dtype="<u4").reshape(-1)
        if len(hashes) <= MAX_PACKED_ROWS:
            packed = np.zeros(flat.size * 3 + 1, dtype=np.uint8)
            packed[:-1].reshape(-1, 3)[:] = flat.view(np.uint8).reshape(-1, 4)[:, :3]
            self._offset_store = packed
            # Overlapping unaligned 4-byte reads at a 3-byte stride; the mask drops byte 4.
            self._flat_offsets = np.ndarray((flat.size,), dtype="<u4", buffer=packed, strides=(3,))
            self._offset_mask = np.uint32(0xFFFFFF)
        else:
            self._offset_store = flat
            self._flat_offsets = flat
            self._offset_mask = np.uint32(0xFFFFFFFF)

    @property
    def offsets(self) -> np.ndarray:
        return (self._flat_offsets & self._offset_mask).reshape(CHUNKS, BUCKETS + 1)

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
                order = np.argsort(column, kind="stable")
                if len(hashes) <= MAX_PACKED_ROWS:
                    partner = chunk_values[:, chunk ^ 1] & 0xFF
                    order |= np.take(partner, order).astype(np.int64) << ROW_BITS
                postings[chunk - 1] = order
        return cls(hashes, ids, offsets, postings)

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def nbytes(self) -> int:
        return int(
            self.hashes.nbytes
            + self.entry_ids.nbytes
            + self._offset_store.nbytes
            + self.postings.nbytes
        )

    @property
    def words(self) -> np.ndarray:
        return self.hashes.view("<u8")

    def _plan(self, threshold: int) -> _Plan:
        plans = self._plans
        plan = plans.get(threshold)
        if plan is None:
            chunks, flips, budgets = probe_plan(threshold)
            # Chunk 0's bucket positions are row numbers (rows are sorted by chunk 0); the
            # other chunks' positions index their postings, laid end to end.
            plan = plans[threshold] = _Plan(
                chunks=chunks,
                flips=flips,
                key_base=chunks * (BUCKETS + 1),
                position_base=np.where(chunks == 0, 0, (chunks - 1) * len(self)),
                partners=chunks ^ 1,
                budget_runs=_runs(budgets, int(np.count_nonzero(chunks == 0))),
                in_chunk0=int(np.count_nonzero(chunks == 0)),
            )
        return plan

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
        plan = self._plan(threshold)
        expected = len(plan.chunks) * (len(self) / BUCKETS + 1)
        per_batch = max(1, int(_CANDIDATE_BUDGET // expected))
        if len(queries) <= per_batch:
            return self._search_batch(queries, threshold, plan)
        parts = [
            self._search_batch(queries[begin : begin + per_batch], threshold, plan)
            for begin in range(0, len(queries), per_batch)
        ]
        return (
            np.concatenate([part[0] + i * per_batch for i, part in enumerate(parts)]),
            np.concatenate([part[1] for part in parts]),
            np.concatenate([part[2] for part in parts]),
        )

    def _search_batch(
        self, queries: np.ndarray, threshold: int, plan: _Plan
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # Array methods rather than np.* wrappers: a lone query is ~60 numpy calls, and the
        # wrappers' Python overhead is a visible share of it.
        count = len(queries)
        probes = len(plan.chunks)
        query_chunks = queries.view("<u2")
        flat_offsets = self._flat_offsets
        # Probe-major order (probe, query), so chunk 0's probes come first for every query.
        if count == 1:
            keys = (query_chunks[0, plan.chunks] ^ plan.flips) + plan.key_base
            position_base = plan.position_base
            partner_bytes = query_chunks[0, plan.partners]
        else:
            keys = ((query_chunks[:, plan.chunks] ^ plan.flips).T + plan.key_base[:, None]).ravel()
            position_base = np.repeat(plan.position_base, count)
            partner_bytes = query_chunks[:, plan.partners].T.ravel()
        # Fancy indexing, not np.take: take would copy the strided offsets whole every call.
        starts = flat_offsets[keys]
        starts &= self._offset_mask
        lengths = flat_offsets[keys + 1]
        lengths &= self._offset_mask
        lengths -= starts
        ends = lengths.cumsum(dtype=np.int64)
        total = int(ends[-1])
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        first_rest = plan.in_chunk0 * count
        split = int(ends[first_rest - 1])
        shift = starts - ends
        shift += lengths
        shift += position_base
        positions = shift.repeat(lengths)
        positions += _arange(total)
        rows0 = positions[:split]
        postings = self._flat_postings.take(positions[split:])
        rest_lengths = lengths[first_rest:]
        if len(self) <= MAX_PACKED_ROWS:
            # Signature filter: the partner chunk's 8 stored bits may differ in at most
            # `budget` places, or the pair (and so this probe) cannot hold a match.
            signature = partner_bytes[first_rest:].astype(np.uint32).repeat(rest_lengths)
            signature <<= ROW_BITS
            signature ^= postings
            signature >>= ROW_BITS
            differing = np.bitwise_count(signature.astype(np.uint8))
            parts = []
            for begin_probe, end_probe, budget in plan.budget_runs:
                begin = int(ends[begin_probe * count - 1]) - split
                end = int(ends[end_probe * count - 1]) - split
                parts.append((differing[begin:end] <= budget).nonzero()[0] + begin)
            passed = np.concatenate(parts) if len(parts) > 1 else parts[0]
            rows1 = postings[passed] & _ROW_MASK
        else:
            passed = None
            rows1 = postings
        rows = np.concatenate([rows0, rows1])
        if count == 1:
            query_index = np.zeros(0, dtype=np.int64)
        else:
            pattern = np.arange(count)
            query0 = np.repeat(np.tile(pattern, plan.in_chunk0), lengths[:first_rest])
            query1 = np.repeat(np.tile(pattern, probes - plan.in_chunk0), rest_lengths)
            query_index = np.concatenate([query0, query1 if passed is None else query1[passed]])
        return self._verify(queries, threshold, rows, query_index)

    def _verify(
        self, queries: np.ndarray, threshold: int, rows: np.ndarray, query_index: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact distances for the candidates; keep those within the threshold, once each."""
        candidate = self.words.take(rows, axis=0)
        query_words = queries.view("<u8")
        distance = _column_distance(candidate, query_words, query_index, 0)
        distance += _column_distance(candidate, query_words, query_index, 1)
        # Two words (128 bits) already reject nearly every random candidate; finish the rest.
        keep = (distance <= threshold).nonzero()[0]
        if len(queries) == 1:  # few survivors: whole-row popcounts, fewer numpy calls
            full = np.bitwise_count(candidate[keep] ^ query_words[0]).sum(axis=1, dtype=np.int64)
            within = full <= threshold
            rows, full = rows[keep][within].astype(np.int64), full[within]
            if len(rows) > 1:
                rows, first = np.unique(rows, return_index=True)
                full = full[first]
            return np.zeros(len(rows), dtype=np.int64), rows, full
        candidate, rows, distance = candidate[keep], rows[keep], distance[keep]
        query_index = query_index[keep]
        distance += _column_distance(candidate, query_words, query_index, 2)
        distance += _column_distance(candidate, query_words, query_index, 3)
        keep = (distance <= threshold).nonzero()[0]
        rows = rows[keep].astype(np.int64)
        query_index, distance = query_index[keep], distance[keep].astype(np.int64)
        if len(rows) > 1:  # a near hash can show up through several chunks
            _, first = np.unique(query_index * len(self) + rows, return_index=True)
            query_index, rows, distance = query_index[first], rows[first], distance[first]
        return query_index, rows, distance


class _Plan(NamedTuple):
    chunks: np.ndarray
    flips: np.ndarray
    key_base: np.ndarray
    position_base: np.ndarray
    partners: np.ndarray
    budget_runs: list[tuple[int, int, int]]  # (first probe, end probe, budget) after chunk 0
    in_chunk0: int


def _runs(budgets: np.ndarray, skip: int) -> list[tuple[int, int, int]]:
    runs: list[tuple[int, int, int]] = []
    for probe in range(skip, len(budgets)):
        budget = int(budgets[probe])
        if runs and runs[-1][2] == budget:
            runs[-1] = (runs[-1][0], probe + 1, budget)
        else:
            runs.append((probe, probe + 1, budget))
    return runs


_ARANGE = np.arange(1 << 16, dtype=np.int64)


def _arange(length: int) -> np.ndarray:
    """A read-only prefix of one shared arange; allocating a fresh one per query costs."""
    global _ARANGE
    if length > len(_ARANGE):
        _ARANGE = np.arange(max(length, 2 * len(_ARANGE)), dtype=np.int64)
    return _ARANGE[:length]
