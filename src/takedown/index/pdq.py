"""The PDQ Hamming index: exact at every threshold, updated in place, ~96 bytes per hash.

Shape: one large immutable `PdqSegment` (multi-index hashing, see pdq_segment.py) plus a small
brute-force *delta buffer* of fresh additions and a *tombstone* bitmask over the segment. So:

* `add` appends to the delta buffer and `remove` sets a tombstone bit: both are visible to the
  very next query, and neither rebuilds anything.
* When the buffer grows past `delta_limit` the index *compacts*: it builds a new segment from
  the live rows of the old one plus the buffer, in a background thread by default, and swaps it
  in atomically. Changes made while it builds are carried over (a removal log and the buffer's
  tail), so nothing is lost and queries never wait for it.
* Queries read one consistent snapshot (segment, tombstones, buffer prefix) taken under a lock,
  then compute without holding it.

Entry ids are bank entry ids (ints). `add` replaces what an id held; checking for an existing
id costs nothing for ids above everything in the segment (the usual auto-increment case) and
one vectorised scan otherwise.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from takedown.core.errors import InvalidInput
from takedown.index.base import Match
from takedown.index.pdq_segment import HASH_BYTES, PdqSegment, hamming_scan

DEFAULT_THRESHOLD = 31
_NO_DEAD = np.zeros(0, dtype=np.uint8)
MAX_THRESHOLD = 256


def parse_hashes(values: Sequence[str] | str) -> np.ndarray:
    """64-character hex PDQ hashes to an (n, 32) uint8 array; a bad one names its position."""
    if isinstance(values, str):
        values = [values]
    try:
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        joined = "".join(values)
    except TypeError:
        bad = next(i for i, v in enumerate(values) if not isinstance(v, str))
        raise InvalidInput(
            f"PDQ hash #{bad} is a {type(values[bad]).__name__}, not a string",
            hint="pass 64-character hex strings",
        ) from None
    wrong = np.flatnonzero(lengths != 2 * HASH_BYTES)
    if len(wrong):
        raise InvalidInput(
            f"PDQ hash #{int(wrong[0])} has {int(lengths[wrong[0]])} characters, not 64",
            hint="a PDQ hash is 256 bits written as 64 hex digits",
        )
    try:
        raw = bytes.fromhex(joined)
    except ValueError:
        bad = next(i for i, v in enumerate(values) if not _is_hex(v))
        raise InvalidInput(
            f"PDQ hash #{bad} is not hexadecimal: {values[bad][:70]!r}",
            hint="only the digits 0-9 and a-f (either case) may appear",
        ) from None
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, HASH_BYTES)


def _is_hex(value: str) -> bool:
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return value.isascii() and " " not in value


def format_hash(row: np.ndarray) -> str:
    return bytes(np.asarray(row, dtype=np.uint8)).hex()


def _check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise InvalidInput(f"threshold must be an integer, not {threshold!r}")
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(
            f"threshold {threshold} is outside 0..256",
            hint="PDQ distances count differing bits of 256; 31 is the usual match threshold",
        )
    return int(threshold)


class _Delta:
    """Append-only buffer of recent additions; positions never move until compaction."""

    def __init__(self, capacity: int = 64) -> None:
        self.planes = np.zeros((4, capacity), dtype="<u8")  # word-major: scans read columns
        self.ids = np.zeros(capacity, dtype=np.int64)
        self.live = np.zeros(capacity, dtype=bool)
        self.size = 0
        self.live_count = 0
        self.position: dict[int, int] = {}

    def append(self, entry_ids: np.ndarray, words: np.ndarray) -> None:
        needed = self.size + len(entry_ids)
        if needed > len(self.ids):
            capacity = max(needed, 2 * len(self.ids))
            # New arrays, so a reader holding the old ones still sees a consistent prefix.
            planes = np.zeros((4, capacity), dtype="<u8")
            planes[:, : self.size] = self.planes[:, : self.size]
            ids = np.zeros(capacity, dtype=np.int64)
            ids[: self.size] = self.ids[: self.size]
            live = np.zeros(capacity, dtype=bool)
            live[: self.size] = self.live[: self.size]
            self.planes, self.ids, self.live = planes, ids, live
        end = self.size + len(entry_ids)
        self.planes[:, self.size : end] = words.T
        self.ids[self.size : end] = entry_ids
        self.live[self.size : end] = True
        for offset, entry_id in enumerate(entry_ids.tolist()):
            self.position[entry_id] = self.size + offset
        self.size = end
        self.live_count += len(entry_ids)

    def remove(self, entry_id: int) -> bool:
        position = self.position.pop(entry_id, None)
        if position is None:
            return False
        self.live[position] = False
        self.live_count -= 1
        return True

    @property
    def nbytes(self) -> int:
        # The dict costs roughly 100 bytes per buffered entry in CPython.
        return int(
            self.planes.nbytes + self.ids.nbytes + self.live.nbytes + 100 * len(self.position)
        )


class _Snapshot:
    __slots__ = ("main", "dead", "dead_count", "delta_planes", "delta_ids", "delta_live")

    def __init__(self, index: PdqIndex) -> None:
        self.main = index._main
        self.dead = index._dead
        self.dead_count = index._dead_count
        delta = index._delta
        self.delta_planes = delta.planes[:, : delta.size]
        self.delta_ids = delta.ids[: delta.size]
        self.delta_live = delta.live[: delta.size]


class PdqIndex:
    """Exact Hamming-distance index over PDQ hashes with immediate add/remove (see module doc)."""

    signal_type = "pdq"

    def __init__(
        self,
        segment: PdqSegment | None = None,
        *,
        delta_limit: int | None = None,
        background: bool = True,
    ) -> None:
        self._lock = threading.RLock()
        self._main = (
            segment
            if segment is not None
            else PdqSegment.build(np.zeros((0, 32), np.uint8), np.zeros(0, np.int64))
        )
        self._dead = _NO_DEAD  # a bit per row, allocated on the first removal
        self._dead_count = 0
        self._id_low, self._id_high = self._id_range(self._main)
        self._delta = _Delta()
        self._fixed_delta_limit = delta_limit
        self._background = background
        self._compacting: threading.Thread | None = None
        self._removal_log: list[int] | None = None

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        entry_ids: Iterable[int] | np.ndarray,
        hashes: Sequence[str] | np.ndarray,
        **options: object,
    ) -> PdqIndex:
        """Bulk-load (entry id, hash) pairs straight into a segment: the fast way to start up."""
        ids = np.asarray(entry_ids if isinstance(entry_ids, np.ndarray) else list(entry_ids))
        if ids.size == 0:
            ids = ids.astype(np.int64)
        raw = hashes if isinstance(hashes, np.ndarray) else parse_hashes(hashes)
        if len(ids) != len(raw):
            raise InvalidInput(f"{len(ids)} entry ids but {len(raw)} hashes")
        ids, raw = _last_per_id(ids, raw)
        return cls(PdqSegment.build(raw, ids), **options)  # type: ignore[arg-type]

    @staticmethod
    def _id_range(segment: PdqSegment) -> tuple[int, int]:
        if len(segment) == 0:
            return 0, -1
        return int(segment.entry_ids.min()), int(segment.entry_ids.max())

    # -- changes --------------------------------------------------------------------------

    def add(self, entry_id: int, value: str) -> None:
        self.add_many([entry_id], [value])

    def add_many(
        self, entry_ids: Sequence[int] | np.ndarray, values: Sequence[str] | np.ndarray
    ) -> None:
        """Add or replace entries, visible to the next query; a full buffer starts a compaction."""
        raw = values if isinstance(values, np.ndarray) else parse_hashes(values)
        ids = np.asarray(entry_ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(raw):
            raise InvalidInput(f"{len(ids)} entry ids but {len(raw)} hashes")
        ids, raw = _last_per_id(ids, raw)
        with self._lock:
            self._remove_locked(ids)
            self._delta.append(ids, np.ascontiguousarray(raw).view("<u8").reshape(-1, 4))
            should_compact = self._delta.size >= self.delta_limit
        if should_compact:
            self.compact(wait=not self._background)

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            return bool(self._remove_locked(np.asarray([entry_id], dtype=np.int64)))

    def remove_many(self, entry_ids: Iterable[int]) -> int:
        """Tombstone many entries with one scan of the segment; returns how many were present."""
        with self._lock:
            return self._remove_locked(np.fromiter(entry_ids, dtype=np.int64))

    def _remove_locked(self, ids: np.ndarray) -> int:
        if self._removal_log is not None:
            self._removal_log.extend(ids.tolist())
        found = sum(self._delta.remove(entry_id) for entry_id in ids.tolist())
        in_range = ids[(ids >= self._id_low) & (ids <= self._id_high)]
        if len(in_range):
            found += self._kill_rows(in_range)
        return found

    def _kill_rows(self, ids: np.ndarray) -> int:
        segment = self._main
        if len(self._dead) == 0:
            self._dead = np.zeros((len(segment) + 7) // 8, dtype=np.uint8)
        dead = self._dead
        if len(ids) == 1:
            rows = np.flatnonzero(segment.entry_ids == ids[0])
        else:
            rows = np.flatnonzero(np.isin(segment.entry_ids, ids))
        rows = rows[((dead[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1) == 0]
        np.bitwise_or.at(dead, rows >> 3, (1 << (rows & 7)).astype(np.uint8))
        self._dead_count += len(rows)
        return len(rows)

    # -- compaction -----------------------------------------------------------------------

    @property
    def delta_limit(self) -> int:
        if self._fixed_delta_limit is not None:
            return self._fixed_delta_limit
        # Each buffered entry costs every query a little brute force; each merge costs a
        # rebuild (about 1 s per million hashes, in the background): 1/512 balances the two.
        return int(min(16_384, max(2_048, len(self._main) // 512)))

    def compact(self, *, wait: bool = True) -> None:
        """Fold the delta buffer and tombstones into a fresh segment (in a thread unless `wait`)."""
        with self._lock:
            running = self._compacting
            if running is None:
                # The snapshot and the removal log must start together: the log is exactly
                # what the new segment will not know about.
                snapshot, taken = _Snapshot(self), self._delta.size
                running = threading.Thread(
                    target=self._compact, args=(snapshot, taken), name="pdq-compact", daemon=True
                )
                self._compacting = running
                self._removal_log = []
                running.start()
        if wait:
            running.join()

    def _compact(self, snapshot: _Snapshot, taken: int) -> None:
        try:
            main = snapshot.main
            if len(snapshot.dead):
                bits = np.unpackbits(snapshot.dead, bitorder="little")[: len(main)]
                alive = np.flatnonzero(bits == 0)
            else:
                alive = np.arange(len(main))
            fresh = np.flatnonzero(snapshot.delta_live)
            hashes = np.concatenate(
                [
                    np.take(main.hashes, alive, axis=0),
                    np.ascontiguousarray(snapshot.delta_planes[:, fresh].T).view(np.uint8),
                ]
            )
            ids = np.concatenate(
                [np.take(main.entry_ids, alive).astype(np.int64), snapshot.delta_ids[fresh]]
            )
            segment = PdqSegment.build(hashes, ids)
            with self._lock:
                old = self._delta
                tail = _Delta(max(64, old.size - taken))
                keep = np.arange(taken, old.size)[old.live[taken : old.size]]
                tail.append(old.ids[keep], old.planes[:, keep].T)
                self._main = segment
                self._dead = _NO_DEAD
                self._dead_count = 0
                self._id_low, self._id_high = self._id_range(segment)
                self._delta = tail
                log = np.unique(np.asarray(self._removal_log or [], dtype=np.int64))
                # Entries removed while the segment was built must stay removed.
                if len(log):
                    self._kill_rows(log)
        finally:
            with self._lock:
                self._removal_log = None
                self._compacting = None

    # -- queries --------------------------------------------------------------------------

    def search(
        self, queries: np.ndarray, threshold: int = DEFAULT_THRESHOLD
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batch form: arrays (query index, entry id, distance), sorted by query, distance, id."""
        threshold = _check_threshold(threshold)
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, HASH_BYTES)
        with self._lock:
            snap = _Snapshot(self)
        query_index, rows, distance = snap.main.search(queries, threshold)
        if snap.dead_count and len(rows):
            alive = ((snap.dead[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1) == 0
            query_index, rows, distance = query_index[alive], rows[alive], distance[alive]
        entry_ids = np.take(snap.main.entry_ids, rows).astype(np.int64)
        if len(snap.delta_ids):
            dq, drow, dd = hamming_scan(snap.delta_planes, queries.view("<u8"), threshold)
            live = snap.delta_live[drow]
            query_index = np.concatenate([query_index, dq[live]])
            entry_ids = np.concatenate([entry_ids, snap.delta_ids[drow[live]]])
            distance = np.concatenate([distance, dd[live]])
        if len(entry_ids) < 2:
            return query_index, entry_ids, distance
        order = np.lexsort((entry_ids, distance, query_index))
        return query_index[order], entry_ids[order], distance[order]

    def query(self, value: str, threshold: int = DEFAULT_THRESHOLD) -> list[Match]:
        raw = b""
        if isinstance(value, str) and len(value) == 2 * HASH_BYTES:
            with contextlib.suppress(ValueError):
                raw = bytes.fromhex(value)
        if len(raw) != HASH_BYTES:  # let the general parser explain what is wrong
            return self.query_many([value], threshold)[0]
        _, entry_ids, distance = self.search(np.frombuffer(raw, dtype=np.uint8), threshold)
        return list(zip(distance.tolist(), entry_ids.tolist(), strict=True))

    def query_many(
        self, values: Sequence[str], threshold: int = DEFAULT_THRESHOLD
    ) -> list[list[Match]]:
        query_index, entry_ids, distance = self.search(parse_hashes(values), threshold)
        results: list[list[Match]] = [[] for _ in range(len(values))]
        for q, d, entry_id in zip(
            query_index.tolist(), distance.tolist(), entry_ids.tolist(), strict=True
        ):
            results[q].append((d, entry_id))
        return results

    # -- introspection and persistence ----------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return len(self._main) - self._dead_count + self._delta.live_count

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (what `bytes_per_hash` in the benchmark divides)."""
        with self._lock:
            return int(self._main.nbytes + self._dead.nbytes + self._delta.nbytes)

    def save(self, path: str | Path) -> None:
        """Compact, then write the versioned, pickle-free `.tdx` file (see pdq_format.py)."""
        from takedown.index.pdq_format import write_segment

        while True:
            with self._lock:
                if not self._delta.size and not self._dead_count and self._compacting is None:
                    segment = self._main
                    break
            self.compact(wait=True)
        write_segment(segment, Path(path))

    @classmethod
    def load(
        cls, path: str | Path, *, mmap: bool = False, verify: bool = True, **options: object
    ) -> PdqIndex:
        """Open a `.tdx` file; `mmap=True` shares the pages between matcher processes."""
        from takedown.index.pdq_format import read_segment

        return cls(read_segment(Path(path), mmap=mmap, verify=verify), **options)  # type: ignore[arg-type]


def _last_per_id(ids: np.ndarray, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the last value given for each entry id, as a sequence of `add` calls would."""
    if len(ids) < 2:
        return ids, raw
    _, last = np.unique(ids[::-1], return_index=True)
    if len(last) == len(ids):
        return ids, raw
    keep = np.sort(len(ids) - 1 - last)
    return ids[keep], raw[keep]
