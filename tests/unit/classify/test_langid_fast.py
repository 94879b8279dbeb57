"""Language id loads its model once, even when several worker threads make their first call
together, and `warm` loads it ahead of the first item."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from takedown.classify.langid_fast import LanguageIdentifier


def _counting(monkeypatch: pytest.MonkeyPatch, ident: LanguageIdentifier) -> list[int]:
    builds: list[int] = []
    real = ident._build

    def build() -> Any:
        builds.append(threading.get_ident())
        return real()

    monkeypatch.setattr(ident, "_build", build)
    return builds


def test_concurrent_first_calls_load_the_model_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ident = LanguageIdentifier()
    builds = _counting(monkeypatch, ident)
    threads = 6
    start = threading.Barrier(threads)
    answers: list[str] = []
    lock = threading.Lock()

    def first_call() -> None:
        start.wait(timeout=30)
        answer = ident.identify("the people of the city read the news today")
        with lock:
            answers.append(answer)

    workers = [threading.Thread(target=first_call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert len(builds) == 1  # the model takes ~1 s to build: unlocked, every thread would
    assert answers == ["en"] * threads


def test_warm_loads_ahead_of_the_first_item(monkeypatch: pytest.MonkeyPatch) -> None:
    ident = LanguageIdentifier()
    builds = _counting(monkeypatch, ident)
    ident.warm()
    assert len(builds) == 1
    assert ident.identify("les gens de la ville lisent les nouvelles") == "fr"
    assert ident.identify("12345 !!!") == "und"
    assert len(builds) == 1


def test_prefetch_builds_once_off_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    ident = LanguageIdentifier()
    builds = _counting(monkeypatch, ident)
    ident.prefetch()
    ident.prefetch()  # a second call while the first load runs starts nothing
    deadline = time.monotonic() + 60
    while not builds and time.monotonic() < deadline:  # the background load has begun
        time.sleep(0.01)
    assert ident.identify("die Leute der Stadt lesen heute die Zeitung") == "de"
    assert len(builds) == 1
    assert builds[0] != threading.get_ident()
    ident.prefetch()  # already loaded: nothing to do
    assert len(builds) == 1
