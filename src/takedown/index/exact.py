"""Exact index for signal types where only equality counts (md5, sha256, text_sha256, urls).

A dict from value to entry ids is already O(1) and exact; anything cleverer would only add
ways to be wrong. Values are compared case-insensitively, because hex digests arrive in both
cases from peers and exchanges.
"""

from __future__ import annotations

from collections.abc import Sequence

from takedown.core.errors import InvalidInput
from takedown.index.base import Match


class ExactIndex:
    """Maps each value to the set of entries holding it; distance is always 0."""

    def __init__(self, signal_type: str = "exact") -> None:
        self.signal_type = signal_type
        self._by_value: dict[str, set[int]] = {}
        self._value_of: dict[int, str] = {}

    @staticmethod
    def _key(value: str) -> str:
        if not isinstance(value, str):
            raise InvalidInput(
                f"signal value must be a string, not {type(value).__name__}",
                hint="pass the hex digest or normalised text hash as a str",
            )
        return value.strip().lower()

    def add(self, entry_id: int, value: str) -> None:
        key = self._key(value)
        self.remove(entry_id)
        self._by_value.setdefault(key, set()).add(int(entry_id))
        self._value_of[int(entry_id)] = key

    def add_many(self, entry_ids: Sequence[int], values: Sequence[str]) -> None:
        """Same shape as `PdqIndex.add_many`, so callers load any index in one call."""
        for entry_id, value in zip(entry_ids, values, strict=True):
            self.add(entry_id, value)

    def remove(self, entry_id: int) -> bool:
        key = self._value_of.pop(int(entry_id), None)
        if key is None:
            return False
        ids = self._by_value[key]
        ids.discard(int(entry_id))
        if not ids:
            del self._by_value[key]
        return True

    def query(self, value: str, threshold: int = 0) -> list[Match]:
        if threshold < 0:
            raise InvalidInput(f"threshold must be >= 0, got {threshold}")
        return [(0, entry_id) for entry_id in sorted(self._by_value.get(self._key(value), ()))]

    def query_many(self, values: Sequence[str], threshold: int = 0) -> list[list[Match]]:
        return [self.query(value, threshold) for value in values]

    def __len__(self) -> int:
        return len(self._value_of)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._value_of
