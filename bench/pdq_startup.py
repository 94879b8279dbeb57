"""Matcher start-up with N PDQ bank entries: from the compact snapshot file against from the
database (the baseline: what every matcher did before snapshots), in the same run.

    python bench/pdq_startup.py --entries 1000000 --json
    python bench/pdq_startup.py --entries 1000000 --backend postgresql --json

Fills a fresh database (SQLite in a temporary folder, or a temporary PostgreSQL database on
--pg-admin) with N random PDQ entries, writes the snapshot (`takedown index snapshot` does the
same), then starts matchers in fresh processes, alternating the two ways, and reports the median
start-up (BankFollower.load_all: from the database, or mapping the file plus replaying the
change feed) and each process's resident memory growth. Every matcher answers the same sample
lookups, checked equal, so the faster start is not a different index.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

from takedown.core.banks import Bank
from takedown.core.taxonomy import TvecLabel
from takedown.detect.hashmatch import HashMatchDetector
from takedown.services import pdq_snapshot
from takedown.services.banks_follow import BankFollower
from takedown.storage import banks as bank_store
from takedown.storage.db import make_engine, migrate
from takedown.storage.tables import bank_entries

SAMPLES = 200


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(url: str, snapshot: str | None, samples: list[str]) -> dict[str, object]:
    """One matcher start in this (fresh) process."""
    engine = make_engine(url)
    before = rss_bytes()
    started = time.perf_counter()
    follower = BankFollower(engine, HashMatchDetector(),
                            snapshot=Path(snapshot) if snapshot else None)
    follower.load_all()
    seconds = time.perf_counter() - started
    grown = rss_bytes() - before
    matched = sum(bool(row) for row in follower.detector.lookup("pdq", samples))
    return {"seconds": seconds, "rss_mb": grown / 2**20, "matched": matched,
            "entries": follower.detector.entry_count(), "from": follower.loaded_from}


def fill(url: str, n: int, rng: np.random.Generator) -> list[str]:
    engine = make_engine(url)
    migrate(engine)
    # Banked an hour ago: a matcher replays only the feed since the snapshot (less its overlap).
    now = datetime.now(UTC) - timedelta(hours=1)
    with engine.begin() as conn:
        bank_store.upsert_bank(conn, Bank("bench", TvecLabel.PRAISE), actor="bench")
    samples: list[str] = []
    step = 50_000
    for start in range(0, n, step):
        raw = rng.integers(0, 256, (min(step, n - start), 32), dtype=np.uint8)
        values = [row.tobytes().hex() for row in raw]
        with engine.begin() as conn:
            conn.execute(bank_entries.insert(), [
                {"bank": "bench", "signal_type": "pdq", "value": v, "created_at": now}
                for v in values])
        samples.extend(values[: SAMPLES // max(1, -(-n // step))])
    engine.dispose()
    return samples[:SAMPLES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("URL", "SNAPSHOT", "SAMPLES"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, snap, samples_file = args.child
        samples = json.loads(Path(samples_file).read_text())
        print(json.dumps(child(url, None if snap == "-" else snap, samples)))
        return

    rng = np.random.default_rng(13)
    with tempfile.TemporaryDirectory() as tmp:
        admin = None
        if args.backend == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            name = f"bench_pdq_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg_admin, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.pg_admin.rsplit("/", 1)[0] + f"/{name}"
        try:
            started = time.perf_counter()
            samples = fill(url, args.entries, rng)
            fill_seconds = time.perf_counter() - started
            samples_file = Path(tmp, "samples.json")
            samples_file.write_text(json.dumps(samples))
            path = Path(tmp, "pdq-index.tdx")
            engine = make_engine(url)
            started = time.perf_counter()
            pdq_snapshot.write_snapshot(engine, path)
            snapshot_seconds = time.perf_counter() - started
            snapshot_bytes = path.stat().st_size
            engine.dispose()
            runs: dict[str, list[dict[str, object]]] = {"database": [], "file": []}
            for _ in range(args.rounds):
                for way, snap in (("database", "-"), ("file", str(path))):
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", url, snap, str(samples_file)],
                        check=True, capture_output=True, text=True).stdout
                    runs[way].append(json.loads(out.strip().splitlines()[-1]))
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    answers = {(r["matched"], r["entries"]) for rs in runs.values() for r in rs}
    assert answers == {(len(samples), args.entries)}, answers
    assert all(r["from"] != "database" for r in runs["file"])

    def median(way: str, key: str) -> float:
        return round(statistics.median(float(r[key]) for r in runs[way]), 3)  # type: ignore[arg-type]

    report = {
        "entries": args.entries,
        "backend": args.backend,
        "rounds": args.rounds,
        "fill_seconds": round(fill_seconds, 1),
        "snapshot_write_seconds": round(snapshot_seconds, 2),
        "snapshot_mb": round(snapshot_bytes / 2**20, 1),
        "startup_seconds_database": median("database", "seconds"),
        "startup_seconds_file": median("file", "seconds"),
        "rss_mb_database": median("database", "rss_mb"),
        "rss_mb_file": median("file", "rss_mb"),
        "load_average": os.getloadavg()[0],
    }
    report["ratio_database_to_file"] = round(
        report["startup_seconds_database"] / max(report["startup_seconds_file"], 1e-6), 1)  # type: ignore[operator]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
