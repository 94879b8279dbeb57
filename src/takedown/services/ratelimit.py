"""Per-key rate limits: a token bucket per API key, so one integrator cannot starve the others.

Each request costs one token; a bucket holds `burst` tokens and refills at `per_second`. An
empty bucket answers `RateLimited` with the seconds until a token is back, which the API sends
as 429 with `Retry-After`. With one process the buckets live in memory; when Redis is
configured (the queue URL is redis://) they live in Redis, updated by one Lua script using
Redis's own clock, so every API process on every machine draws from the same bucket. If Redis
cannot be reached the request is let through and a warning logged: a limiter outage must not
become an API outage.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from takedown.core.errors import RateLimited

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def check(self, key: str) -> None:
        """Take one token for `key` or raise RateLimited."""


class NoLimit:
    def check(self, key: str) -> None:
        return None


class MemoryTokenBucket:
    """Buckets in this process; thread-safe; idle buckets are forgotten after they refill."""

    def __init__(
        self, per_second: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a token bucket needs per_second > 0 and burst >= 1")
        self.per_second = per_second
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > 10_000:
                    self._forget_full(now)
                return
            self._buckets[key] = (tokens, now)
        raise _limited(key, (1.0 - tokens) / self.per_second)

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.per_second
        for name in [k for k, (_, stamp) in self._buckets.items() if now - stamp > refill]:
            del self._buckets[name]


_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local data = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(data[1]) or burst
local stamp = tonumber(data[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisTokenBucket:
    """The same bucket, shared by every process that uses this Redis."""

    def __init__(self, client: Any, per_second: float, burst: int, *, prefix: str) -> None:
        self.client = client
        self.per_second = per_second
        self.burst = burst
        self.prefix = prefix
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def from_url(
        cls, url: str, per_second: float, burst: int, *, prefix: str = "takedown:rate:"
    ) -> RedisTokenBucket:
        import redis

        from takedown.queue.redis_streams import connection_url

        client = redis.Redis.from_url(connection_url(url), socket_timeout=1.0,
                                      socket_connect_timeout=1.0)
        return cls(client, per_second, burst, prefix=prefix)

    def check(self, key: str) -> None:
        try:
            wait = float(
                self._script(keys=[self.prefix + key], args=[self.per_second, self.burst])
            )
        except Exception as error:  # noqa: BLE001 - fail open: see the module docstring
            log.warning("rate limiter unavailable (%s); request allowed", type(error).__name__)
            return
        if wait > 0:
            raise _limited(key, wait)


def _limited(key: str, wait: float) -> RateLimited:
    seconds = max(1, math.ceil(wait))
    return RateLimited(
        f"too many requests for key {key}",
        retry_after=seconds,
        hint=f"retry after {seconds} s, or ask for a higher TAKEDOWN_RATE_LIMIT_PER_SECOND",
    )


def make_limiter(per_second: float, burst: int, redis_url: str | None) -> RateLimiter:
    """No limit when `per_second` is 0; Redis-backed when `redis_url` is a Redis URL."""
    if per_second <= 0:
        return NoLimit()
    burst = max(1, burst)
    if redis_url and redis_url.startswith(("redis://", "rediss://")):
        return RedisTokenBucket.from_url(redis_url, per_second, burst)
    return MemoryTokenBucket(per_second, burst)
