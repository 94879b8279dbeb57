"""The small protocol queue backends implement, and the factory that picks one by URL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from takedown.core.errors import InvalidInput


class WorkQueue(Protocol):
    def publish(self, row_ids: Sequence[int]) -> None:
        """Announce committed submissions (called after the commit, never before)."""
        ...

    def receive(self, timeout: float) -> list[tuple[str, int]]:
        """Wait up to `timeout` seconds; return (delivery tag, row id) pairs."""
        ...

    def ack(self, tags: Sequence[str]) -> None:
        """Acknowledge deliveries once their results are committed."""
        ...

    def close(self) -> None: ...


def make_queue(url: str | None) -> WorkQueue:
    if not url or url == "embedded":
        from takedown.queue.embedded import EmbeddedQueue

        return EmbeddedQueue()
    if url.startswith("redis://") or url.startswith("rediss://"):
        from takedown.queue.redis_streams import RedisStreamQueue

        return RedisStreamQueue.from_url(url)
    raise InvalidInput(
        f"unsupported queue URL {url!r}", hint="use 'embedded' or redis://host:port/db"
    )
