"""The Index contract every per-signal-type match index meets (DESIGN §4).

An index maps a signal value to the bank entries whose stored value lies within a distance
threshold. It follows a bank's change feed one entry at a time (`add`, `remove`), so a newly
banked hash matches at once and a withdrawn one stops matching at once, without a rebuild.
`remove` is a tombstone: the space is reclaimed later, by the index, when it suits it.

Results are `(distance, entry_id)` pairs sorted by distance, then entry id, so callers and
tests can compare them directly and the closest evidence comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

Match = tuple[int, int]
"""(distance, entry_id): 0 is identical; larger is further away in the signal's own metric."""


@runtime_checkable
class Index(Protocol):
    """A match index for one signal type, updated incrementally, exact within its threshold."""

    signal_type: str

    def add(self, entry_id: int, value: str) -> None:
        """Store `value` under `entry_id`, replacing what that id held before."""
        ...

    def remove(self, entry_id: int) -> bool:
        """Stop matching `entry_id`; returns whether it was present."""
        ...

    def query(self, value: str, threshold: int) -> list[Match]:
        """Every stored entry within `threshold` of `value`: none is missed, none is extra."""
        ...

    def query_many(self, values: Sequence[str], threshold: int) -> list[list[Match]]:
        """`query` for many values at once (one list per value, in order); faster per value."""
        ...

    def __len__(self) -> int:
        """Live entries (tombstoned ones excluded)."""
        ...
