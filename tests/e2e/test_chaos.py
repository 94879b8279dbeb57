"""Chaos under load on the production backends (PostgreSQL + Redis Streams): kill -9 a worker
and the API, drop every Redis and PostgreSQL connection the deployment holds, and take the
webhook receiver down — then 0 lost submissions, 0 lost actions, 0 conflicting decisions, and
every action delivered within seconds of the receiver's recovery.

Redis itself is shared with other test runs on this machine, so it is not restarted; its
connections are dropped with CLIENT KILL (what clients see when Redis restarts), restricted to
this test's private database number. Every wait is on a condition, with a generous limit.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select, text

from takedown.core.banks import Bank
from takedown.core.events import verify_chain
from takedown.core.taxonomy import TvecLabel
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.db import make_engine, migrate
from takedown.storage.keys import Role, create_key
from takedown.storage.ledger import iter_events
from takedown.storage.tables import decisions, metadata, outbox, submissions

REDIS_DB = 12
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def wait_for(what: str, predicate: Callable[[], bool], limit: float = 30.0) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > limit:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    print(f"chaos: {what}: {time.monotonic() - started:.1f} s", flush=True)
    return time.monotonic() - started


class Receiver:
    """A webhook receiver on a fixed port that can be taken down and brought back."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.seen: dict[str, list[dict[str, object]]] = defaultdict(list)
        self.account_messages: list[dict[str, object]] = []
        self.lock = threading.Lock()
        self.server: http.server.ThreadingHTTPServer | None = None
        self.up()

    def up(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver.lock:
                    if body.get("item_id") is None:  # an account decision, not an item's
                        receiver.account_messages.append(body)
                    else:
                        receiver.seen[str(body["item_id"])].append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def delivered(self) -> set[int]:
        with self.lock:
            return {int(b["decision_id"]) for bodies in self.seen.values() for b in bodies}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Deployment:
    """Two API processes (as behind a load balancer) and N workers, all started at once."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.ports = [_free_port(), _free_port()]
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.apis: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        out = self.log.open("ab")
        return subprocess.Popen([sys.executable, "-m", "takedown.cli.main", *args],
                                env=self.env, stdout=out, stderr=out)

    def start_api(self, n: int) -> subprocess.Popen[bytes]:
        proc = self._spawn("serve", "--no-worker", "--port", str(self.ports[n]))
        self.apis.append(proc)
        return proc

    def ready(self, n: int) -> bool:
        try:
            return httpx.get(f"{self.urls[n]}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(self) -> None:
        self.workers.append(self._spawn("worker"))

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        procs = [*self.apis, *self.workers]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


class Load:
    """A client posting batches of new items to either API process; a failed request is resent
    with the same ids (idempotent) to the other one until accepted, as an integrator's load
    balancer and retry policy would."""

    def __init__(self, urls: list[str], key: str) -> None:
        self.urls, self.key = urls, key
        self.accepted: set[str] = set()
        self.failures = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        n = 0
        turn = 0
        with httpx.Client(headers=headers, timeout=5) as http:
            while not self.stop.is_set():
                batch = [{"id": f"c-{n + i}", "kind": "text", "account_id": f"a{(n + i) % 9}",
                          "text": f"message {n + i}"} for i in range(10)]
                n += 10
                while True:
                    turn += 1
                    url = self.urls[turn % len(self.urls)]
                    try:
                        response = http.post(f"{url}/v1/submissions", json={"items": batch})
                        if response.status_code in (200, 202):
                            self.accepted.update(item["id"] for item in batch)
                            break
                    except httpx.HTTPError:
                        pass
                    self.failures += 1
                    time.sleep(0.05)
                self.stop.wait(0.02)


@pytest.fixture
def chaos_db(pg_database_url: str) -> Iterator[str]:
    engine = make_engine(pg_database_url)
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield pg_database_url


def test_kills_outages_and_a_down_receiver_lose_nothing(
    chaos_db: str, redis_url: str, tmp_path: Path
) -> None:
    stream = f"chaos:{uuid.uuid4().hex}"
    redis_base = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    receiver = Receiver()
    engine = make_engine(chaos_db)
    migrate(engine)
    with engine.begin() as conn:
        key = create_key(conn, Role.INTEGRATOR)
        bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="test")
        bank_store.add_entries(conn, "known", [("text_sha256", text_sha256(f"message {n}"), None)
                                               for n in range(0, 20_000, 5)], actor="test")
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(tmp_path / "data"),
        "TAKEDOWN_DATABASE_URL": chaos_db,
        "TAKEDOWN_QUEUE_URL": f"{redis_base}?stream={stream}&claim_idle_ms=1500",
        "TAKEDOWN_WEBHOOK_URLS": receiver.url,
        "TAKEDOWN_WEBHOOK_BACKOFF_SECONDS": "0.05",
        "TAKEDOWN_WEBHOOK_MAX_ATTEMPTS": "10000",
        "TAKEDOWN_LEASE_SECONDS": "2",
        "TAKEDOWN_CLASSIFIER": "off",
        "TAKEDOWN_JSON_LOGS": "off",
    }
    deployment = Deployment(env, tmp_path / "processes.log")
    admin = redis.Redis.from_url(redis_url)
    load: Load | None = None
    try:
        deployment.start_api(0)
        deployment.start_api(1)
        deployment.start_worker()
        deployment.start_worker()
        wait_for("both API processes", lambda: deployment.ready(0) and deployment.ready(1), 90)
        load = Load(deployment.urls, key)
        load.thread.start()

        def decided() -> int:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())

        wait_for("first decisions", lambda: decided() >= 50, 90)
        deployment.kill(deployment.workers[0])  # kill -9 a worker mid-batch
        deployment.start_worker()  # its replacement joins when it has started
        mark = decided()
        wait_for("progress after the worker kill", lambda: decided() >= mark + 30)

        deployment.kill(deployment.apis[0])  # kill -9 an API process under load
        failures = load.failures
        wait_for("a request hitting the dead API", lambda: load.failures > failures, 10)
        deployment.start_api(0)
        mark = decided()
        wait_for("progress after the API kill", lambda: decided() >= mark + 30)

        dropped = 0
        for client in admin.client_list():  # every connection of this deployment to Redis
            if int(client.get("db", -1)) == REDIS_DB:
                admin.client_kill_filter(_id=client["id"])
                dropped += 1
        assert dropped >= 1
        mark = decided()
        wait_for("progress after Redis dropped its clients", lambda: decided() >= mark + 30)

        database = chaos_db.rsplit("/", 1)[1]
        with engine.connect() as conn:
            terminated = conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": database}).scalar_one()
        assert terminated >= 1
        mark = decided()
        wait_for("progress after PostgreSQL dropped its clients", lambda: decided() >= mark + 30)

        receiver.down()
        mark = decided()
        wait_for("decisions while the receiver is down", lambda: decided() >= mark + 60)
        load.stop.set()
        load.thread.join(timeout=30)
        accepted = set(load.accepted)
        wait_for("every accepted item decided", lambda: decided() >= len(accepted), 60)
        receiver.up()
        recovered = time.monotonic()

        def all_delivered() -> bool:
            with engine.connect() as conn:
                ids = set(conn.execute(select(decisions.c.id)).scalars())
            return ids <= receiver.delivered()

        wait_for("every action delivered after recovery", all_delivered, 45)
        delivery_after_recovery = time.monotonic() - recovered
        wait_for("the restarted API", lambda: deployment.ready(0), 60)
    finally:
        if load is not None:
            load.stop.set()
        deployment.stop()
        admin.delete(stream, f"{stream}:dead")
        admin.close()
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
    assert accepted <= stored, "0 lost submissions"
    assert {count for _item, count in per_item} == {1}, "0 conflicting decisions"
    assert {item for item, _ in per_item} == stored, "every stored item decided"
    assert removes and removes <= receiver.delivered(), "0 lost actions"
    assert undelivered == 0
    for bodies in receiver.seen.values():  # resends repeat the same decision, never another
        assert len({b["decision_id"] for b in bodies}) == 1
    assert chain_ok
    # Exponential backoff grew while the receiver was down (base 0.05 s); 5-15 s measured on
    # the shared, overloaded machine, so the limit is generous.
    assert delivery_after_recovery < 30, delivery_after_recovery
