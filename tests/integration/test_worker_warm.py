"""The worker warms its pipeline before it claims anything, and a failing warm costs only a log
line: the worker still processes the backlog."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, func, select

from takedown.config import Settings
from takedown.core.content import ContentKind, Submission, make_submission
from takedown.core.findings import Finding
from takedown.core.signals import Signal
from takedown.queue.embedded import EmbeddedQueue
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.storage.tables import submissions


def _items(n: int) -> list[Submission]:
    return [
        make_submission(item_id=f"w{i}", kind=ContentKind.TEXT, text=f"an ordinary post {i}")
        for i in range(n)
    ]


def _status_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(submissions.c.status, func.count()).group_by(submissions.c.status))
    return {str(s): int(n) for s, n in rows}


class Recording:
    """Notes the table's state when warmed; optionally fails to warm."""

    name, version = "recording", "1"

    def __init__(self, runtime_ref: list[Runtime], *, fail: bool = False) -> None:
        self._runtime = runtime_ref
        self.fail = fail
        self.seen_at_warm: dict[str, int] | None = None

    def warm(self) -> None:
        with self._runtime[0].engine.connect() as conn:
            self.seen_at_warm = _status_counts(conn)
        if self.fail:
            raise RuntimeError("cannot load the model")

    def detect(self, submission: Submission, signals: Sequence[Signal]) -> list[Finding]:
        return []


def _run_until_done(runtime: Runtime, n: int) -> dict[str, int]:
    stop = threading.Event()
    queue = EmbeddedQueue()
    thread = threading.Thread(target=runtime.worker.run_forever, args=(stop, queue))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        counts: dict[str, int] = {}
        while time.monotonic() < deadline:
            with runtime.engine.connect() as conn:
                counts = _status_counts(conn)
            if counts == {"done": n}:
                break
            time.sleep(0.05)
        return counts
    finally:
        stop.set()
        queue.close()
        thread.join(timeout=60)


@pytest.mark.parametrize("fail", [False, True])
def test_warm_runs_before_the_first_claim(settings: Settings, fail: bool,
                                          caplog: pytest.LogCaptureFixture) -> None:
    ref: list[Runtime] = []
    detector = Recording(ref, fail=fail)
    runtime = Runtime(settings.with_(classifier=False), extra_detectors=[detector])
    ref.append(runtime)
    try:
        ingest.accept(runtime.engine, runtime.queue, _items(30))
        with caplog.at_level(logging.WARNING):
            counts = _run_until_done(runtime, 30)
    finally:
        runtime.close()
    assert detector.seen_at_warm == {"pending": 30}  # nothing claimed before the warm
    assert counts == {"done": 30}
    warned = any("warming detector recording failed" in r.getMessage() for r in caplog.records)
    assert warned is fail


def test_a_pipeline_whose_warm_raises_still_processes(settings: Settings,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    runtime = Runtime(settings.with_(classifier=False))

    def broken() -> None:
        raise OSError("model folder unreadable")

    monkeypatch.setattr(runtime.pipeline, "warm", broken)
    try:
        ingest.accept(runtime.engine, runtime.queue, _items(10))
        with caplog.at_level(logging.WARNING, logger="takedown.services.worker"):
            counts = _run_until_done(runtime, 10)
    finally:
        runtime.close()
    assert counts == {"done": 10}
    assert any("warming the pipeline failed" in r.getMessage() for r in caplog.records)
