"""The batched hot path: one claim, one pipeline run and one commit per batch, without letting
one bad item spoil its neighbours; bulk acceptance of a 1,000-item request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, func, select

from takedown.api.app import create_app
from takedown.config import Settings
from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.decisions import Decision
from takedown.core.events import verify_chain
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.queue.embedded import EmbeddedQueue
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.services.worker import MAX_ATTEMPTS
from takedown.storage.keys import Role, create_key
from takedown.storage.ledger import iter_events
from takedown.storage.tables import decisions, events, submissions


class Poisoned:
    """Raises on items whose text says so; counts batch calls."""

    name = "poisoned"
    version = "1"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        if submission.text and "poison" in submission.text:
            raise RuntimeError("detector broke on this item")
        return []

    def detect_batch(
        self, submissions: Sequence[Submission], signals: Sequence[Sequence[Signal]]
    ) -> list[list[Finding]]:
        self.batches.append(len(submissions))
        return [self.detect(s, sig) for s, sig in zip(submissions, signals, strict=True)]


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return settings.with_(classifier=False, lease_seconds=0.2, worker_batch=64)


def _items(n: int, *, poison: int | None = None) -> list[Submission]:
    return [
        make_submission(
            item_id=f"t{i}",
            kind=ContentKind.TEXT,
            account_id=f"a{i % 7}",
            text="poison pill" if i == poison else f"an ordinary post number {i}",
        )
        for i in range(n)
    ]


def _status_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(submissions.c.status, func.count()).group_by(submissions.c.status))
    return {str(s): int(n) for s, n in rows}


def test_a_batch_commits_together_and_a_failing_item_fails_alone(fast_settings: Settings) -> None:
    detector = Poisoned()
    runtime = Runtime(fast_settings, extra_detectors=[detector])
    try:
        ingest.accept(runtime.engine, runtime.queue, _items(40, poison=7))
        assert runtime.worker.run_once() == 40
        assert detector.batches == [40]  # one detect_batch call; the retry per item follows
        with runtime.engine.connect() as conn:
            assert _status_counts(conn) == {"done": 39, "processing": 1}
            poisoned = conn.execute(
                select(submissions.c.last_error).where(submissions.c.item_id == "t7")
            ).scalar_one()
            chain = list(iter_events(conn))
        assert "RuntimeError" in poisoned
        assert verify_chain(chain) is None
        assert sum(e.type == "decision.made" for e in chain) == 39
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            runtime.worker.run_once()
            with runtime.engine.connect() as conn:
                if _status_counts(conn) == {"done": 40}:
                    break
            time.sleep(0.05)
        with runtime.engine.connect() as conn:
            assert _status_counts(conn) == {"done": 40}
            rows = conn.execute(
                select(submissions.c.attempts, decisions.c.body)
                .join(decisions, decisions.c.submission_id == submissions.c.id)
                .where(submissions.c.item_id == "t7")
            ).all()
        assert len(rows) == 1 and rows[0].attempts == MAX_ATTEMPTS + 1
        assert Decision.from_json(rows[0].body).provenance.rule == "processing-failed"
    finally:
        runtime.close()


def test_a_storage_failure_in_a_batch_is_retried_item_by_item(fast_settings: Settings) -> None:
    runtime = Runtime(fast_settings)

    def refuse_one(conn: Connection, submission: Submission, decision: Decision, _id: int) -> None:
        if submission.item_id == "t3":
            raise RuntimeError("connector refused")

    runtime.worker.actioners.append(refuse_one)
    try:
        ingest.accept(runtime.engine, runtime.queue, _items(10))
        runtime.worker.run_once()
        with runtime.engine.connect() as conn:
            assert _status_counts(conn) == {"done": 9, "processing": 1}
            decided = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
            chain = list(iter_events(conn))
        assert decided == 9
        assert verify_chain(chain) is None
    finally:
        runtime.close()


def test_huge_text_is_analysed_up_to_the_cap(fast_settings: Settings) -> None:
    runtime = Runtime(fast_settings.with_(max_text_chars=5_000))
    try:
        big = make_submission(item_id="big", kind=ContentKind.TEXT, text="word " * 200_000)
        ingest.accept(runtime.engine, runtime.queue, [big])
        started = time.monotonic()
        assert runtime.worker.run_once() == 1
        assert time.monotonic() - started < 10
        with runtime.engine.connect() as conn:
            row = conn.execute(
                select(submissions.c.status, submissions.c.last_error, submissions.c.text)
            ).one()
        assert row.status == "done" and len(row.text) == 1_000_000
        assert "first 5000 of 1000000 characters" in row.last_error
    finally:
        runtime.close()


def test_an_exhausted_time_budget_hands_the_rest_back(fast_settings: Settings) -> None:
    runtime = Runtime(fast_settings.with_(batch_budget_seconds=0.0))
    try:
        ingest.accept(runtime.engine, runtime.queue, _items(5))
        assert runtime.worker.run_once() == 5
        with runtime.engine.connect() as conn:
            assert _status_counts(conn) == {"done": 1, "pending": 4}
            attempts = conn.execute(
                select(submissions.c.attempts).where(submissions.c.status == "pending")
            ).scalars().all()
        assert set(attempts) == {0}
    finally:
        runtime.close()


@pytest.fixture
def client(fast_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(fast_settings, start_workers=False)) as test_client:
        yield test_client


def test_a_thousand_item_batch_is_accepted_in_well_under_a_second(client: TestClient) -> None:
    """Counted in SQL statements, which no load on the machine changes; the time is only a
    sanity bound (measured ~0.1-0.2 s on SQLite on the shared 2-core machine)."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.engine.begin() as conn:
        headers = {"Authorization": f"Bearer {create_key(conn, Role.INTEGRATOR)}"}
    body = {"items": [{"id": f"b{i}", "kind": "text", "text": f"post {i}"} for i in range(1000)]}
    client.post("/v1/submissions", headers=headers, json={"id": "warm", "text": "x"})
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        for attempt in range(2):
            statements.clear()
            started = time.perf_counter()
            response = client.post("/v1/submissions", headers=headers, json=body)
            elapsed = time.perf_counter() - started
            assert response.status_code == (202 if attempt == 0 else 200), response.text
            items = response.json()["items"]
            assert len(items) == 1000 and all(i["created"] is (attempt == 0) for i in items)
            assert all(i["status"] == "pending" for i in items)
            # key lookup, known ids, multi-row insert (batched by the driver), ledger head and
            # append, transaction control: a few dozen at most, never thousands.
            assert len(statements) < 40, len(statements)
            assert elapsed < 20
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    with runtime.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(submissions)).scalar_one()
        received = conn.execute(
            select(func.count()).select_from(events).where(events.c.type == "submission.received")
        ).scalar_one()
        chain = list(iter_events(conn))
    assert stored == received == 1001
    assert verify_chain(chain) is None


def test_a_worker_starts_on_a_backlog_without_waiting_on_its_queue(
    fast_settings: Settings,
) -> None:
    """A `takedown worker` process with the embedded queue never hears of the API's commits:
    it must find the backlog by sweeping at once, not after its idle wait (here 300 s, past
    the test's limit)."""
    runtime = Runtime(fast_settings)
    deaf = EmbeddedQueue()
    stop = threading.Event()
    thread = threading.Thread(target=runtime.worker.run_forever, args=(stop, deaf),
                              kwargs={"idle": 300.0})
    try:
        ingest.accept(runtime.engine, runtime.queue, _items(150))
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with runtime.engine.connect() as conn:
                if _status_counts(conn) == {"done": 150}:
                    break
            time.sleep(0.05)
        with runtime.engine.connect() as conn:
            assert _status_counts(conn) == {"done": 150}
    finally:
        stop.set()
        deaf.close()
        thread.join(timeout=60)
        runtime.close()
    assert not thread.is_alive()
