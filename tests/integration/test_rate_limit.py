"""Per-key rate limits: 429 with Retry-After once a key's bucket is empty, other keys unaffected,
and with Redis one bucket shared by every API process."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.errors import RateLimited
from takedown.services.ratelimit import MemoryTokenBucket, RedisTokenBucket, make_limiter
from takedown.storage.keys import Role, create_key


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refuses_until_it_refills() -> None:
    clock = Clock()
    bucket = MemoryTokenBucket(2.0, 3, clock=clock)
    for _ in range(3):
        bucket.check("a")
    with pytest.raises(RateLimited) as refused:
        bucket.check("a")
    assert refused.value.retry_after == 1
    bucket.check("b")
    clock.now += 0.5
    bucket.check("a")
    with pytest.raises(RateLimited):
        bucket.check("a")


def test_the_api_answers_429_with_retry_after_per_key(tmp_path: object) -> None:
    settings = Settings(
        data_dir=tmp_path,  # type: ignore[arg-type]
        classifier=False,
        rate_limit_per_second=0.01,
        rate_limit_burst=2,
    )
    with TestClient(create_app(settings, start_workers=False)) as client:
        with client.app.state.runtime.engine.begin() as conn:  # type: ignore[attr-defined]
            first = {"Authorization": f"Bearer {create_key(conn, Role.INTEGRATOR)}"}
            second = {"Authorization": f"Bearer {create_key(conn, Role.INTEGRATOR)}"}
        for n in range(2):
            response = client.post(
                "/v1/submissions", json={"id": f"r{n}", "text": "hello"}, headers=first
            )
            assert response.status_code == 202
        refused = client.post("/v1/submissions", json={"id": "r9", "text": "x"}, headers=first)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert client.get("/v1/submissions/r0", headers=second).status_code != 429


def test_no_limit_when_disabled() -> None:
    limiter = make_limiter(0, 10, None)
    for _ in range(10_000):
        limiter.check("k")


def test_redis_buckets_are_shared_between_processes(redis_url: str) -> None:
    prefix = f"takedown:test:rate:{uuid.uuid4().hex}:"
    one = RedisTokenBucket.from_url(redis_url, 0.01, 3, prefix=prefix)
    two = RedisTokenBucket.from_url(redis_url, 0.01, 3, prefix=prefix)
    one.check("k")
    two.check("k")
    one.check("k")
    with pytest.raises(RateLimited) as refused:
        two.check("k")
    assert refused.value.retry_after >= 1
    two.check("other")


def test_a_queue_url_with_stream_options_still_limits(redis_url: str) -> None:
    """The API builds its limiter from the queue URL, which carries the stream's options."""
    stream = f"takedown:test:{uuid.uuid4().hex}"
    limiter = make_limiter(0.01, 2, f"{redis_url}?stream={stream}&claim_idle_ms=30000")
    limiter.check("k")
    limiter.check("k")
    with pytest.raises(RateLimited):
        limiter.check("k")


def test_an_unreachable_redis_lets_requests_through() -> None:
    limiter = RedisTokenBucket.from_url("redis://127.0.0.1:1/0", 0.01, 1, prefix="x:")
    for _ in range(3):
        limiter.check("k")
