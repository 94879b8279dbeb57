"""The case service wakes webhook delivery only for work that committed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from takedown.config import Settings
from takedown.core.errors import NotFound
from takedown.services.casework import Casework
from takedown.storage.db import make_engine, migrate


def _casework(tmp_path: Path) -> tuple[Casework, threading.Event]:
    engine = make_engine(f"sqlite:///{tmp_path / 'takedown.db'}")
    migrate(engine)
    wake = threading.Event()
    return Casework(engine, Settings(data_dir=tmp_path), wake), wake


def test_a_failed_action_rolls_back_and_wakes_nothing(tmp_path: Path) -> None:
    casework, wake = _casework(tmp_path)
    with pytest.raises(NotFound), casework.acting() as service:
        service.report("no-such-item", reporter="u1", reason="spam", actor="test")
    assert not wake.is_set()
    assert casework.queue() == []


def test_reads_answer_outside_any_action(tmp_path: Path) -> None:
    casework, wake = _casework(tmp_path)
    assert casework.queue(["open", "escalated"]) == [] and casework.appeals() == []
    with pytest.raises(NotFound):
        casework.case(1)
    with pytest.raises(NotFound):
        casework.statement(1, tenant="forum")
    with casework.acting():
        pass
    assert wake.is_set()
