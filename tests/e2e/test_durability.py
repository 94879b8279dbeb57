"""SIGKILL the worker while 1,000 submissions are in flight, restart it, and check that every
accepted submission has exactly one decision and every decision's webhook arrived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from takedown.config import Settings
from takedown.core.banks import Bank
from takedown.core.content import ContentKind, make_submission
from takedown.core.events import verify_chain
from takedown.core.taxonomy import TvecLabel
from takedown.services import ingest
from takedown.services.runtime import Runtime
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.ledger import iter_events
from takedown.storage.tables import decisions, outbox, submissions

N = 1000


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "takedown.cli.main", "worker"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _done(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(submissions).where(submissions.c.status == "done")
            ).scalar_one()
        )


@pytest.mark.slow
def test_sigkill_mid_work_loses_nothing_and_decides_once(
    tmp_path: Path, database_url: str, webhook_sink: object
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    runtime = Runtime(settings)
    with runtime.engine.begin() as conn:
        bank_store.upsert_bank(conn, Bank("known", TvecLabel.PRAISE), actor="test")
        bank_store.add_entries(
            conn,
            "known",
            [("text_sha256", text_sha256(f"message {n}"), None) for n in range(0, N, 10)],
            actor="test",
        )
    items = [
        make_submission(
            item_id=f"item-{n}", kind=ContentKind.TEXT, account_id=f"a{n % 7}", text=f"message {n}"
        )
        for n in range(N)
    ]
    ingest.accept(runtime.engine, runtime.queue, items)
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(settings.data_dir),
        "TAKEDOWN_DATABASE_URL": database_url,
        "TAKEDOWN_WEBHOOK_URLS": webhook_sink.url,  # type: ignore[attr-defined]
        "TAKEDOWN_WEBHOOK_SECRET": "k",
        "TAKEDOWN_LEASE_SECONDS": "2",
        "TAKEDOWN_WEBHOOK_BACKOFF_SECONDS": "0.2",
        "TAKEDOWN_WORKER_THREADS": "2",
    }
    log = tmp_path / "worker.log"
    kills = 0
    for threshold in (N // 5, N // 2):
        worker = _start_worker(env, log)
        deadline = time.monotonic() + 120
        while _done(runtime) < threshold and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    assert kills == 2 and _done(runtime) < N, "the kills should land while work is in flight"
    worker = _start_worker(env, log)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with runtime.engine.connect() as conn:
                pending = conn.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))
                ).scalar_one()
            if _done(runtime) == N and pending == 0:
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    with runtime.engine.connect() as conn:
        per_item = conn.execute(
            select(decisions.c.submission_id, func.count()).group_by(decisions.c.submission_id)
        ).all()
        removes = conn.execute(
            select(func.count()).select_from(decisions).where(decisions.c.action == "remove")
        ).scalar_one()
        decision_ids = {int(r) for r in conn.execute(select(decisions.c.id)).scalars()}
        assert verify_chain(iter_events(conn)) is None
    runtime.close()
    assert len(per_item) == N and {count for _, count in per_item} == {1}
    assert removes == N // 10
    seen: dict[str, set[int]] = defaultdict(set)
    for request in webhook_sink.requests:  # type: ignore[attr-defined]
        if request["json"]["type"] != "decision":
            continue  # account decisions (#12) share the webhook stream
        seen[request["json"]["item_id"]].add(request["json"]["decision_id"])
    assert len(seen) == N, "every decision reached the platform"
    assert all(len(ids) == 1 for ids in seen.values()), "never two different decisions per item"
    assert set().union(*seen.values()) == decision_ids
