"""In-process queue for the embedded default: a condition variable over a list of ids.

Bounded: an API process serving without in-process workers (`serve --no-worker`) has nobody
consuming it, and a notification only saves a worker its next table sweep, so beyond `MAX_IDS`
the oldest are dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

MAX_IDS = 100_000


class EmbeddedQueue:
    def __init__(self) -> None:
        self._ids: list[int] = []
        self._cond = threading.Condition()

    def publish(self, row_ids: Sequence[int]) -> None:
        with self._cond:
            self._ids.extend(row_ids)
            if len(self._ids) > MAX_IDS:
                del self._ids[: len(self._ids) - MAX_IDS]
            self._cond.notify_all()

    def receive(self, timeout: float) -> list[tuple[str, int]]:
        with self._cond:
            if not self._ids:
                self._cond.wait(timeout)
            taken, self._ids = self._ids[:256], self._ids[256:]
        return [(str(row_id), row_id) for row_id in taken]

    def ack(self, tags: Sequence[str]) -> None:
        """Nothing to do: the database lease is the real acknowledgement."""

    def close(self) -> None:
        with self._cond:
            self._cond.notify_all()
