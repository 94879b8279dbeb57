"""Chaos under load on the production backends (PostgreSQL + Redis Streams): kill -9 a worker
and an API process, restart Redis (losing the stream and its consumer group) and crash-restart
PostgreSQL, all while the webhook receiver is down for minutes — then 0 lost submissions, 0 lost
actions, 0 conflicting decisions, an intact ledger, and every action delivered within seconds of
the receiver's recovery (the retry backoff is capped at 10 s).

The shared servers on 5432/6379 serve other test runs, so this test restarts private ones it
started itself (tests/private_services.py). The receiver's outage lasts
TAKEDOWN_CHAOS_OUTAGE_SECONDS (120 by default). Every wait is on a condition, with a generous
limit; the only timed wait is the outage itself, which is the scenario.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from private_services import PrivatePostgres, PrivateRedis
from takedown.core.banks import Bank
from takedown.core.events import verify_chain
from takedown.core.taxonomy import TvecLabel
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.db import make_engine, migrate
from takedown.storage.keys import Role, create_key
from takedown.storage.ledger import iter_events
from takedown.storage.tables import decisions, outbox, submissions
from topology import Deployment, Load, Receiver, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
OUTAGE = float(os.environ.get("TAKEDOWN_CHAOS_OUTAGE_SECONDS", "120"))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    postgres = PrivatePostgres()
    queue = PrivateRedis(tmp_path / "redis")
    try:
        postgres.start()
        queue.start()
        yield postgres, queue
    finally:
        queue.kill()
        postgres.close()


def test_kills_restarts_and_a_long_receiver_outage_lose_nothing(
    servers: tuple[PrivatePostgres, PrivateRedis], tmp_path: Path
) -> None:
    postgres, queue = servers
    stream = f"chaos:{uuid.uuid4().hex}"
    receiver = Receiver()
    engine = make_engine(postgres.url)
    migrate(engine)
    with engine.begin() as conn:
        key = create_key(conn, Role.INTEGRATOR)
        bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="test")
        bank_store.add_entries(conn, "known", [("text_sha256", text_sha256(f"message {n}"), None)
                                               for n in range(0, 20_000, 5)], actor="test")
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(tmp_path / "data"),
        "TAKEDOWN_DATABASE_URL": postgres.url,
        "TAKEDOWN_QUEUE_URL": f"{queue.url}?stream={stream}&claim_idle_ms=1500",
        "TAKEDOWN_WEBHOOK_URLS": receiver.url,
        # The shipped retry settings (2 s base, 10 s cap, 360 attempts): the outage is long
        # enough for the backoff to reach its cap, as it would in production.
        "TAKEDOWN_LEASE_SECONDS": "2",
        "TAKEDOWN_CLASSIFIER": "off",
        "TAKEDOWN_JSON_LOGS": "off",
    }
    for name in ("TAKEDOWN_WEBHOOK_BACKOFF_SECONDS", "TAKEDOWN_WEBHOOK_MAX_BACKOFF_SECONDS",
                 "TAKEDOWN_WEBHOOK_MAX_ATTEMPTS"):
        env.pop(name, None)
    deployment = Deployment(env, tmp_path / "processes.log")
    load: Load | None = None

    def decided() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())

    def undelivered_now() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outbox)
                                    .where(outbox.c.delivered_at.is_(None))).scalar_one())

    try:
        deployment.start_api(0)
        deployment.start_api(1)
        deployment.start_worker()
        deployment.start_worker()
        wait_for("both API processes", lambda: deployment.ready(0) and deployment.ready(1), 120)
        load = Load(deployment.urls, key)
        load.thread.start()

        wait_for("first decisions", lambda: decided() >= 50, 120)
        deployment.kill(deployment.workers[0])  # kill -9 a worker mid-batch
        deployment.start_worker()  # its replacement joins when it has started
        mark = decided()
        wait_for("progress after the worker kill", lambda: decided() >= mark + 30, 60)

        deployment.kill(deployment.apis[0])  # kill -9 an API process under load
        failures = load.failures
        wait_for("a request hitting the dead API", lambda: load.failures > failures, 30)
        deployment.start_api(0)
        mark = decided()
        wait_for("progress after the API kill", lambda: decided() >= mark + 30, 60)

        receiver.down()
        outage_started = time.monotonic()

        # Redis replaced by an empty one: the stream, its group and every pending entry are
        # gone. Workers sweep the table meanwhile and recreate the group when it answers.
        queue.restart()
        mark = decided()
        wait_for("progress after the Redis restart", lambda: decided() >= mark + 30, 90)
        fresh = redis.Redis.from_url(queue.url)
        try:
            wait_for("the consumer group recreated on the new Redis",
                     lambda: _has_group(fresh, stream), 60)
        finally:
            fresh.close()

        # PostgreSQL crashes (immediate stop: no clean shutdown, recovery at start) and stays
        # down until the load has seen it refuse work.
        postgres.stop("immediate")
        failures = load.failures
        wait_for("requests refused while PostgreSQL is down", lambda: load.failures > failures, 60)
        postgres.start()
        mark = decided()
        wait_for("progress after the PostgreSQL restart", lambda: decided() >= mark + 30, 120)

        # The load keeps running until the outage has a backlog to deliver: how many actions
        # pile up in a given time depends on the machine, so the test waits on the count.
        wait_for("a backlog of undelivered actions", lambda: undelivered_now() >= 100, 120)
        load.stop.set()
        load.thread.join(timeout=30)
        accepted = set(load.accepted)
        wait_for("every accepted item decided", lambda: decided() >= len(accepted), 120)
        left = OUTAGE - (time.monotonic() - outage_started)
        print(f"chaos: receiver stays down {max(0.0, left):.0f} s more ({OUTAGE:.0f} s outage)")
        wait_for("the receiver's outage to run its course",
                 lambda: time.monotonic() - outage_started >= OUTAGE, OUTAGE + 60)
        with engine.connect() as conn:
            waiting, most_attempts = conn.execute(
                select(func.count(), func.max(outbox.c.attempts))
                .where(outbox.c.delivered_at.is_(None))).one()
        assert waiting >= 100, "the outage left a backlog to deliver"
        receiver.up()
        recovered = time.monotonic()
        wait_for("the first delivery after recovery", lambda: bool(receiver.delivered()), 30)
        first_delivery = time.monotonic() - recovered

        def all_delivered() -> bool:
            with engine.connect() as conn:
                ids = set(conn.execute(select(decisions.c.id)).scalars())
            return ids <= receiver.delivered()

        wait_for("every action delivered after recovery", all_delivered, 120)
        delivery_after_recovery = time.monotonic() - recovered
        wait_for("the restarted API", lambda: deployment.ready(0), 60)
    finally:
        if load is not None:
            load.stop.set()
        deployment.stop()
        if receiver.server is not None:
            receiver.down()

    with engine.connect() as conn:
        stored = set(conn.execute(select(submissions.c.item_id)).scalars())
        per_item = conn.execute(
            select(submissions.c.item_id, func.count(decisions.c.id))
            .join(decisions, decisions.c.submission_id == submissions.c.id)
            .group_by(submissions.c.item_id)
        ).all()
        removes = set(conn.execute(
            select(decisions.c.id).where(decisions.c.action == "remove")).scalars())
        undelivered = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))
        ).scalar_one()
        chain_ok = verify_chain(iter_events(conn)) is None
    engine.dispose()
    print(f"chaos: {len(stored)} items, {waiting} messages waited out the outage "
          f"(up to {most_attempts} attempts each); first delivery {first_delivery:.1f} s and "
          f"all {len(receiver.delivered())} delivered {delivery_after_recovery:.1f} s after "
          "recovery", flush=True)
    assert accepted <= stored, "0 lost submissions"
    assert {count for _item, count in per_item} == {1}, "0 conflicting decisions"
    assert {item for item, _ in per_item} == stored, "every stored item decided"
    assert removes and removes <= receiver.delivered(), "0 lost actions"
    assert undelivered == 0
    for bodies in receiver.seen.values():  # resends repeat the same decision, never another
        assert len({b["decision_id"] for b in bodies}) == 1
    assert chain_ok
    # Retries kept going through the outage, each at most 10 s after the last (the cap), so
    # the first retry after recovery comes within the cap plus scheduling noise.
    assert most_attempts >= 3
    assert first_delivery < 20, first_delivery
    # The first success wakes the whole backlog; a generous limit for a loaded CI machine.
    assert delivery_after_recovery < 60, delivery_after_recovery


def _has_group(client: redis.Redis, stream: str) -> bool:
    try:
        return any(g["name"] in (b"takedown-workers", "takedown-workers")
                   for g in client.xinfo_groups(stream))
    except redis.ResponseError:
        return False
