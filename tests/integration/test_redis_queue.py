"""Redis Streams queue against the real Redis server."""

from __future__ import annotations

import time
import uuid

import redis

from takedown.queue.redis_streams import RedisStreamQueue


def test_publish_receive_ack_and_takeover_of_a_dead_consumer(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    stream = f"test:{uuid.uuid4().hex}"
    try:
        dead = RedisStreamQueue(client, stream=stream, consumer="dead", claim_idle_ms=50)
        dead.publish([1, 2, 3])
        got = dead.receive(1.0)
        assert [row for _, row in got] == [1, 2, 3]
        dead.ack([got[0][0]])

        time.sleep(0.1)
        alive = RedisStreamQueue(client, stream=stream, consumer="alive", claim_idle_ms=50)
        taken = alive.receive(1.0)
        assert sorted(row for _, row in taken) == [2, 3]
        alive.ack([tag for tag, _ in taken])
        time.sleep(0.1)
        assert alive.receive(0.1) == []
    finally:
        client.delete(stream)
        client.close()
