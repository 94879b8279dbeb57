"""Redis Streams backend: one stream, one consumer group, many worker processes.

Entries are acknowledged (XACK) only after the worker committed the item's decision, and then
deleted (XDEL), so the stream holds only work not yet done; `MAXLEN ~` on every XADD bounds it
even if acks stop (a trimmed notification only delays its item: workers also sweep the table).

Entries a dead consumer left pending are taken over once idle past `claim_idle_ms`. An entry
delivered `max_deliveries` times without an ack goes to the dead-letter stream
(`<stream>:dead`, with its row id and delivery count) instead of round again. Consumers idle
past `prune_idle_ms` with nothing pending are removed from the group (XGROUP DELCONSUMER), so
restarted or scaled-down workers do not pile up.

URL options (stripped before the URL reaches redis-py): `stream`, `maxlen`, `claim_idle_ms`,
`max_deliveries`, `prune_idle_ms`, e.g. `redis://host:6379/0?claim_idle_ms=5000`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from takedown.core.errors import InvalidInput, Unavailable

log = logging.getLogger(__name__)

STREAM = "takedown:submissions"
GROUP = "takedown-workers"
READ_COUNT = 256
PRUNE_EVERY = 30.0
_OPTIONS = {"stream", "maxlen", "claim_idle_ms", "max_deliveries", "prune_idle_ms"}


def connection_url(url: str) -> str:
    """The queue URL without the queue's own options, as redis-py expects it (it would pass
    them to every connection, which then fails to open)."""
    parts = urlsplit(url)
    rest = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in _OPTIONS])
    return urlunsplit(parts._replace(query=rest))


class RedisStreamQueue:
    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str = STREAM,
        group: str = GROUP,
        consumer: str | None = None,
        claim_idle_ms: int = 60_000,
        maxlen: int = 1_000_000,
        max_deliveries: int = 5,
        prune_idle_ms: int = 600_000,
    ) -> None:
        self.client = client
        self.stream = stream
        self.dead_stream = f"{stream}:dead"
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.claim_idle_ms = claim_idle_ms
        self.maxlen = maxlen
        self.max_deliveries = max_deliveries
        self.prune_idle_ms = prune_idle_ms
        self._last_prune = 0.0
        try:
            self._ensure_group()
        except redis.ConnectionError as error:
            raise Unavailable(f"Redis is not reachable: {error}") from error

    @classmethod
    def from_url(cls, url: str) -> RedisStreamQueue:
        parts = urlsplit(url)
        query = parse_qsl(parts.query)
        ours = {k: v for k, v in query if k in _OPTIONS}
        options: dict[str, Any] = {}
        for key, value in ours.items():
            if key == "stream":
                options[key] = value
                continue
            try:
                options[key] = int(value)
            except ValueError:
                raise InvalidInput(f"queue URL option {key} must be an integer") from None
        client = redis.Redis.from_url(
            connection_url(url), socket_timeout=10, socket_connect_timeout=5,
            health_check_interval=15,
        )
        return cls(client, **options)

    def _ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def publish(self, row_ids: Sequence[int]) -> None:
        """Announce rows; if Redis is down the rows are safe in the database and the workers'
        table sweep finds them, so this logs instead of failing the request."""
        if not row_ids:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for row_id in row_ids:
                pipe.xadd(self.stream, {"row_id": str(row_id)}, maxlen=self.maxlen,
                          approximate=True)
            pipe.execute()
        except redis.RedisError as error:
            log.warning("queue publish failed (%s); workers will find the rows by sweeping",
                        type(error).__name__)

    def receive(self, timeout: float) -> list[tuple[str, int]]:
        try:
            entries = self._take_over_idle()
            if not entries:
                response = self.client.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: ">"},
                    count=READ_COUNT,
                    block=max(1, int(timeout * 1000)),
                )
                streams: list[Any] = list(response or [])
                for _stream, stream_entries in streams:
                    entries.extend(stream_entries)
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            self._ensure_group()  # Redis restarted without its data: recreate and go on
            return []
        if time.monotonic() - self._last_prune > PRUNE_EVERY:
            self.prune_consumers()
        out: list[tuple[str, int]] = []
        for entry_id, fields in entries:
            if not fields:
                continue
            raw = fields.get(b"row_id", fields.get("row_id"))
            out.append((_text(entry_id), int(raw)))
        return out

    def _take_over_idle(self) -> list[Any]:
        """Claim entries other consumers left idle; dead-letter those delivered too often."""
        pending = self.client.xpending_range(
            self.stream, self.group, min="-", max="+", count=READ_COUNT,
            idle=self.claim_idle_ms,
        )
        if not pending:
            return []
        exhausted = [p for p in pending if int(p["times_delivered"]) >= self.max_deliveries]
        if exhausted:
            self._dead_letter([_text(p["message_id"]) for p in exhausted],
                              {_text(p["message_id"]): int(p["times_delivered"])
                               for p in exhausted})
        retry: list[Any] = [_text(p["message_id"]) for p in pending if p not in exhausted]
        if not retry:
            return []
        claimed = self.client.xclaim(
            self.stream, self.group, self.consumer, min_idle_time=self.claim_idle_ms,
            message_ids=retry,
        )
        return list(claimed or [])

    def _dead_letter(self, ids: list[str], deliveries: dict[str, int]) -> None:
        pipe = self.client.pipeline(transaction=True)
        for entry_id in ids:
            found: Any = self.client.xrange(self.stream, min=entry_id, max=entry_id)
            fields = (found[0][1] if found else None) or {}
            row = fields.get(b"row_id", fields.get("row_id", b""))
            pipe.xadd(self.dead_stream, {"row_id": _text(row), "entry": entry_id,
                                         "deliveries": str(deliveries[entry_id])},
                      maxlen=self.maxlen, approximate=True)
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
        pipe.execute()
        log.warning("queue: %d entries moved to %s after %d deliveries", len(ids),
                    self.dead_stream, self.max_deliveries)

    def ack(self, tags: Sequence[str]) -> None:
        if not tags:
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.stream, self.group, *tags)
        pipe.xdel(self.stream, *tags)
        pipe.execute()

    def prune_consumers(self) -> list[str]:
        """Remove consumers idle past `prune_idle_ms` that hold nothing pending."""
        self._last_prune = time.monotonic()
        removed: list[str] = []
        for info in self.client.xinfo_consumers(self.stream, self.group):
            name = _text(info["name"])
            if name == self.consumer or int(info["pending"]) > 0:
                continue
            if int(info["idle"]) >= self.prune_idle_ms:
                self.client.xgroup_delconsumer(self.stream, self.group, name)
                removed.append(name)
        if removed:
            log.info("queue: removed idle consumers %s", ", ".join(removed))
        return removed

    def depth(self) -> dict[str, int]:
        """Stream length, entries delivered but not acknowledged, and dead letters."""
        pipe = self.client.pipeline(transaction=False)
        pipe.xlen(self.stream)
        pipe.xpending(self.stream, self.group)
        pipe.xlen(self.dead_stream)
        length, pending, dead = pipe.execute()
        return {"length": int(length), "pending": int(pending["pending"]), "dead": int(dead)}

    def ping(self) -> None:
        self.client.ping()

    def close(self) -> None:
        self.client.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
