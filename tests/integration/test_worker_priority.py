"""`TAKEDOWN_WORKER_NICE`: worker threads run nicer than the rest of the process (the API's
threads in `takedown serve`), and 0 leaves every priority alone."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from takedown.config import Settings
from takedown.services.priority import MAX_NICE, lower_thread_priority
from takedown.services.runtime import Runtime

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="per-thread nice values are a Linux feature")


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _in_thread(increment: int) -> tuple[int, int | None, int]:
    seen: list[tuple[int, int | None, int]] = []

    def body() -> None:
        before = _own_nice()
        result = lower_thread_priority(increment)
        seen.append((before, result, _own_nice()))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(timeout=30)
    return seen[0]


@linux_only
def test_only_the_calling_thread_is_lowered() -> None:
    main_before = _own_nice()
    before, result, after = _in_thread(3)
    assert after == min(MAX_NICE, before + 3) == result
    assert _own_nice() == main_before


def test_zero_changes_nothing() -> None:
    before, result, after = _in_thread(0)
    assert result is None and after == before


@linux_only
def test_runtime_worker_threads_take_the_setting(settings: Settings) -> None:
    runtime = Runtime(settings.with_(classifier=False, worker_nice=4, worker_threads=2))
    seen: list[int] = []
    done = threading.Event()
    lock = threading.Lock()

    def record(stop: threading.Event, queue: object) -> None:
        with lock:
            seen.append(_own_nice())
            if len(seen) == 2:
                done.set()

    runtime.worker.run_forever = record  # type: ignore[method-assign]
    main_before = _own_nice()
    try:
        runtime.start(delivery=False)
        assert done.wait(timeout=30)
    finally:
        runtime.close()
    assert seen == [min(MAX_NICE, main_before + 4)] * 2
    assert _own_nice() == main_before
