"""Redis Streams operations against the real server: dead letters, trimming, consumer
pruning, a lost group, and an unreachable Redis at publish time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from takedown.queue.redis_streams import RedisStreamQueue


@pytest.fixture
def stream(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    client = redis.Redis.from_url(redis_url)
    name = f"test:{uuid.uuid4().hex}"
    yield client, name
    client.delete(name, f"{name}:dead")
    client.close()


def _wait(predicate, limit: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_acked_entries_leave_the_stream_and_maxlen_bounds_it(
    stream: tuple[redis.Redis, str],
) -> None:
    client, name = stream
    queue = RedisStreamQueue(client, stream=name, consumer="w", maxlen=100)
    queue.publish(list(range(1, 51)))
    got = queue.receive(1.0)
    assert len(got) == 50
    queue.ack([tag for tag, _ in got])
    assert queue.depth() == {"length": 0, "pending": 0, "dead": 0}
    queue.publish(list(range(5000)))
    assert client.xlen(name) < 1000  # approximate trimming keeps it near maxlen


def test_an_entry_delivered_too_often_goes_to_the_dead_letter_stream(
    stream: tuple[redis.Redis, str],
) -> None:
    client, name = stream
    workers = [
        RedisStreamQueue(client, stream=name, consumer=f"w{n}", claim_idle_ms=20,
                         max_deliveries=3)
        for n in range(2)
    ]
    workers[0].publish([42])
    assert [row for _, row in workers[0].receive(1.0)] == [42]  # delivery 1, never acked
    deliveries = 1
    deadline = time.monotonic() + 10
    while workers[0].depth()["dead"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.03)
        deliveries += len(workers[deliveries % 2].receive(0.05))
    assert deliveries == 3
    dead = client.xrange(f"{name}:dead")
    assert len(dead) == 1 and dead[0][1][b"row_id"] == b"42"
    assert dead[0][1][b"deliveries"] == b"3"
    assert workers[0].depth()["length"] == 0 and workers[0].depth()["pending"] == 0


def test_idle_consumers_are_taken_over_then_removed(stream: tuple[redis.Redis, str]) -> None:
    client, name = stream
    dead = RedisStreamQueue(client, stream=name, consumer="dead", claim_idle_ms=20)
    dead.publish([1, 2])
    assert len(dead.receive(1.0)) == 2
    alive = RedisStreamQueue(client, stream=name, consumer="alive", claim_idle_ms=20,
                             prune_idle_ms=50)
    taken: list[tuple[str, int]] = []
    _wait(lambda: bool(taken.extend(alive.receive(0.05)) or len(taken) == 2))
    alive.ack([tag for tag, _ in taken])
    _wait(lambda: "dead" in alive.prune_consumers() or not any(
        c["name"] == b"dead" for c in client.xinfo_consumers(name, "takedown-workers")))
    names = {c["name"] for c in client.xinfo_consumers(name, "takedown-workers")}
    assert b"dead" not in names


def test_a_lost_group_is_recreated_and_publish_survives_an_outage(
    stream: tuple[redis.Redis, str],
) -> None:
    client, name = stream
    queue = RedisStreamQueue(client, stream=name, consumer="w")
    client.delete(name)  # as after a Redis restart without persistence
    assert queue.receive(0.05) == []
    queue.publish([7])
    assert [row for _, row in queue.receive(1.0)] == [7]
    queue.client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                               retry=Retry(NoBackoff(), 0))
    queue.publish([8])  # logged, not raised: the row is in the database and will be swept


def test_url_options_are_parsed_and_removed(redis_url: str) -> None:
    queue = RedisStreamQueue.from_url(
        f"{redis_url}?claim_idle_ms=1234&max_deliveries=9&stream=test:opts-{uuid.uuid4().hex}"
    )
    try:
        assert (queue.claim_idle_ms, queue.max_deliveries) == (1234, 9)
        queue.ping()
    finally:
        queue.client.delete(queue.stream)
        queue.close()
