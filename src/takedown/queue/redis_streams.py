"""Redis Streams backend: one stream, one consumer group, many worker processes.

Entries are acknowledged (XACK) only after the worker committed the item's decision. Entries a
dead consumer left pending are taken over with XAUTOCLAIM once idle past `claim_idle_ms`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

import redis

from takedown.core.errors import Unavailable

STREAM = "takedown:submissions"
GROUP = "takedown-workers"


class RedisStreamQueue:
    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str = STREAM,
        group: str = GROUP,
        consumer: str | None = None,
        claim_idle_ms: int = 60_000,
    ) -> None:
        self.client = client
        self.stream = stream
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.claim_idle_ms = claim_idle_ms
        try:
            client.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        except redis.ConnectionError as error:
            raise Unavailable(f"Redis is not reachable: {error}") from error

    @classmethod
    def from_url(cls, url: str) -> RedisStreamQueue:
        return cls(redis.Redis.from_url(url))

    def publish(self, row_ids: Sequence[int]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for row_id in row_ids:
            pipe.xadd(self.stream, {"row_id": str(row_id)})
        pipe.execute()

    def receive(self, timeout: float) -> list[tuple[str, int]]:
        claimed = self.client.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=64,
        )
        entries: list[Any] = list(claimed[1]) if claimed else []
        if not entries:
            response = self.client.xreadgroup(
                self.group,
                self.consumer,
                {self.stream: ">"},
                count=64,
                block=max(1, int(timeout * 1000)),
            )
            streams: list[Any] = list(response or [])
            for _stream, stream_entries in streams:
                entries.extend(stream_entries)
        out: list[tuple[str, int]] = []
        for entry_id, fields in entries:
            if not fields:
                continue
            tag = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            raw = fields.get(b"row_id", fields.get("row_id"))
            out.append((tag, int(raw)))
        return out

    def ack(self, tags: Sequence[str]) -> None:
        if tags:
            self.client.xack(self.stream, self.group, *tags)

    def close(self) -> None:
        self.client.close()
