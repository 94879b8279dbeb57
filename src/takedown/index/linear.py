"""A linear-scan index for fuzzy signal types without a dedicated structure (TLSH, MinHash,
vPDQ video hashes): exact by construction, incremental, and fine for the bank sizes these
types see. The signal type's own `compare` defines the distance."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from takedown.index.base import Match


class LinearIndex:
    def __init__(self, signal_type: str, compare: Callable[[str, str], int]) -> None:
        self.signal_type = signal_type
        self._compare = compare
        self._values: dict[int, str] = {}
        self._lock = threading.Lock()

    def add(self, entry_id: int, value: str) -> None:
        with self._lock:
            self._values[int(entry_id)] = value

    def remove(self, entry_id: int) -> bool:
        with self._lock:
            return self._values.pop(int(entry_id), None) is not None

    def query(self, value: str, threshold: int) -> list[Match]:
        with self._lock:
            items = list(self._values.items())
        found: list[Match] = []
        for entry_id, stored in items:
            try:
                distance = self._compare(value, stored)
            except ValueError:
                continue
            if distance <= threshold:
                found.append((distance, entry_id))
        return sorted(found)

    def query_many(self, values: Sequence[str], threshold: int) -> list[list[Match]]:
        return [self.query(v, threshold) for v in values]

    def __len__(self) -> int:
        return len(self._values)
