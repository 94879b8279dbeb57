"""`takedown backfill`: checkpointed partitions, resumable, shared by several processes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy import func, select

from takedown.config import Settings
from takedown.services.backfill import Options, backfill, partition_archive
from takedown.services.runtime import Runtime
from takedown.signals.pdq import example_png
from takedown.storage.tables import backfill_partitions, decisions, submissions


def _archive(root: Path) -> Path:
    root.mkdir()
    lines = [json.dumps({"id": f"old-{n}", "kind": "text", "text": f"archived post {n}"})
             for n in range(23)]
    lines[5:5] = ["{not json", json.dumps({"kind": "text"})]  # two bad records
    (root / "posts.jsonl").write_text("\n".join(lines) + "\n")
    (root / "media").mkdir()
    (root / "media" / "card.png").write_bytes(example_png())
    (root / "media" / "note.txt").write_text("a plain text file")
    return root


def _count(runtime: Runtime, table: object, *where: object) -> int:
    with runtime.engine.connect() as conn:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        return int(conn.execute(query.where(*where)).scalar_one())  # type: ignore[arg-type]


def test_partitions_cover_the_archive(tmp_path: Path) -> None:
    root = _archive(tmp_path / "archive")
    assert partition_archive(root, 10) == [
        ("posts.jsonl", 0, 10), ("posts.jsonl", 10, 20), ("posts.jsonl", 20, 25),
        ("<files>", 0, 2),
    ]


def test_a_stopped_backfill_resumes_where_it_left_off(settings: Settings, tmp_path: Path) -> None:
    root = _archive(tmp_path / "archive")
    runtime = Runtime(settings.with_(classifier=False))
    options = Options(partition_size=10, inline=True)
    try:
        stop = threading.Event()
        first = backfill(runtime, root, run="r1", options=options, stop=stop,
                         on_partition=lambda *_: stop.set())
        assert first["done"] == 1 and first["partitions"] == 4
        assert _count(runtime, submissions) == 8  # 10 lines, two of them bad
        second = backfill(runtime, root, run="r1", options=options)
        assert second == {"run": "r1", "partitions": 4, "done": 4, "items": 25, "errors": 2}
        again = backfill(runtime, root, run="r1", options=options)
        assert again == second
        assert _count(runtime, submissions) == 25
        assert _count(runtime, decisions) == 25
        assert _count(runtime, submissions, submissions.c.source == "backfill") == 25
    finally:
        runtime.close()


def test_several_backfill_processes_share_one_run(settings: Settings, tmp_path: Path) -> None:
    root = _archive(tmp_path / "archive")
    runtime = Runtime(settings.with_(classifier=False))
    seen: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def note(partition: object, *_: int) -> None:
        with lock:
            seen.append(partition.number)  # type: ignore[attr-defined]

    try:
        def one_process() -> None:
            try:
                backfill(runtime, root, run="shared", options=Options(partition_size=3),
                         on_partition=note)
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                failures.append(error)

        threads = [threading.Thread(target=one_process) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert sorted(seen) == list(range(10))  # every partition exactly once
        assert _count(runtime, backfill_partitions, backfill_partitions.c.status == "done") == 10
        assert _count(runtime, submissions) == 25
    finally:
        runtime.close()
