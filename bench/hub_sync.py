"""Syncing a node from a local hub: wall time and peak memory of `takedown sync` for N entries,
and how soon a newly committed entry is matchable on a serving node.

Set-up (not timed): a hub database is filled with N random PDQ entries and served by
`takedown hub serve` in its own process. Measured:

* `sync_seconds`, `sync_peak_rss_mb`: `takedown sync` in a fresh process (its peak RSS from
  wait4), pulling all N entries into an empty node.
* `sync_cpu_seconds`: the sync process's own CPU time (user + system), which, unlike wall
  time, does not grow when other jobs share the cores (`load_average_1min_at_end` says how busy
  the machine was).
* `fetch_only_seconds`: the baseline, the same pages fetched and parsed by the hub client with
  nothing written; `ratio_sync_to_fetch` is what committing costs over downloading.
* `match_delay_*`: a serving node (Runtime with the N entries loaded, bank follower running)
  gets new entries committed; seconds from the commit to the entry being matchable, median and
  max of `--probes` probes, for a commit by this process's exchange follower (`same_process`,
  which puts the page's entries straight into its matcher) and by another writer
  (`other_writer`, picked up by the bank follower when the bank change signal fires:
  SQLite's data_version here, NOTIFY on PostgreSQL; the one-second poll is only the fallback).

Targets on a 2-core machine: sync of 1,000,000 entries <= 60 s and <= 500 MB, delay <= 1 s.

    python bench/hub_sync.py --json [--entries 1000000] [--page-size 10000] [--probes 9]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from takedown.config import Settings
from takedown.exchange.client import DeltaPage, ExchangeEntry
from takedown.exchange.hub_client import HubClient
from takedown.exchange.hub_members import HubRole, Member, add_member
from takedown.exchange.hub_schema import migrate_hub
from takedown.exchange.hub_store import submit
from takedown.exchange.hub_tables import hub_members
from takedown.services.exchange_sync import apply
from takedown.services.runtime import Runtime
from takedown.signals.pdq import is_degenerate_pdq
from takedown.signals.registry import default_registry
from takedown.storage.db import make_engine
from takedown.storage.exchange_tables import exchange_sources
from takedown.storage.tables import events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fill_hub(url: str, n: int, rng: random.Random) -> tuple[str, str, float]:
    engine = make_engine(url)
    migrate_hub(engine)
    with engine.begin() as conn:
        contributor = add_member(conn, "bench-contributor", HubRole.CONTRIBUTOR)
        reader = add_member(conn, "bench-node", HubRole.READER)
        row = conn.execute(select(hub_members).where(hub_members.c.name == "bench-contributor"))
        member = Member(int(row.one().id), "bench-contributor", HubRole.CONTRIBUTOR)
    registry = default_registry()
    started = time.perf_counter()
    for start in range(0, n, 20_000):
        items = [
            {"signal_type": "pdq", "value": f"{rng.getrandbits(256):064x}", "label": "TVEC1"}
            for _ in range(min(20_000, n - start))
        ]
        with engine.begin() as conn:
            submit(conn, member, items, registry)
    engine.dispose()
    return contributor, reader, time.perf_counter() - started


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the hub exited during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the hub did not start")


def run_sync(env: dict[str, str]) -> tuple[float, float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "takedown.cli.main", "sync", "--no-send", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"takedown sync failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def fetch_only(url: str, token: str, page_size: int) -> tuple[float, int]:
    client = HubClient(url, token)
    started = time.perf_counter()
    cursor, count = None, 0
    while True:
        page = client.fetch(cursor, limit=page_size)
        count += len(page.entries)
        cursor = page.cursor
        if not page.more:
            break
    client.close()
    return time.perf_counter() - started, count


def textured_pdq(rng: random.Random) -> str:
    """A random PDQ value the matcher will look up: about 1 in 370 random values has too few
    or too many bits set to come from a textured picture, and is never matched on purpose."""
    while True:
        value = f"{rng.getrandbits(256):064x}"
        if not is_degenerate_pdq(value):
            return value


def probe_delays(runtime: Runtime, probes: int, rng: random.Random) -> dict[str, list[float]]:
    """Commit entries as the follower would, and time until the matcher finds each."""
    node = runtime.exchange
    assert node is not None
    source = node.sources[0]
    delays: dict[str, list[float]] = {"same_process": [], "other_writer": []}
    for n in range(probes * 2):
        mode = "same_process" if n % 2 == 0 else "other_writer"
        value = textured_pdq(rng)
        entry = ExchangeEntry(f"probe-{n}", "pdq", value, label="TVEC1", contributor="probe")
        with runtime.engine.connect() as conn:
            cursor = conn.execute(select(events.c.seq).order_by(events.c.seq.desc())).first()
        with runtime.engine.connect() as conn:
            after = conn.execute(select(exchange_sources.c.cursor)).scalar_one()
        page = DeltaPage([entry], after, False)
        result = apply(runtime.engine, source, runtime.registry, page, after)
        if mode == "same_process":
            node._committed(source, result)
        with runtime.engine.connect() as conn:
            committed = conn.execute(
                select(events.c.at).where(events.c.seq > (cursor.seq if cursor else 0))
            ).scalar_one()
        deadline = time.monotonic() + 10
        while not runtime.matcher.lookup("pdq", [value], 0)[0]:
            if time.monotonic() > deadline:
                raise SystemExit(f"probe {n} not matchable within 10 s")
            time.sleep(0.005)
        delays[mode].append((datetime.now(UTC) - committed).total_seconds())
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument("--probes", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="hub-sync-") as tmp:
        root = Path(tmp)
        hub_url = f"sqlite:///{root / 'hub.db'}"
        contributor, reader, fill_seconds = fill_hub(hub_url, args.entries, rng)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "TAKEDOWN_DATA_DIR": str(root / "node"),
            "TAKEDOWN_HUB_DATABASE_URL": hub_url,
            "TAKEDOWN_HUB_RATE_PER_MINUTE": "1000000",
            "TAKEDOWN_CLASSIFIER": "off",
        }
        sources = root / "sources.yaml"
        sources.write_text(
            "sources:\n  - name: hub\n    kind: takedown\n    bank: hub\n"
            f"    page_size: {args.page_size}\n    wait: 5\n"
            f"    options: {{url: '{base}', token: '{reader}'}}\n"
        )
        env["TAKEDOWN_EXCHANGE_SOURCES"] = str(sources)
        hub = subprocess.Popen(
            [sys.executable, "-m", "takedown.cli.main", "hub", "serve", "--port", str(port)],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(base, hub)
            fetch_seconds, fetched = fetch_only(base, reader, args.page_size)
            sync_seconds, peak_mb, sync_cpu = run_sync(env)
            print(
                f"sync: {sync_seconds:.1f} s wall, {sync_cpu:.1f} s CPU, {peak_mb:.0f} MB peak; "
                f"fetch-only {fetch_seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            settings = Settings(data_dir=root / "node", classifier=False, exchange_sources=sources)
            started = time.perf_counter()
            runtime = Runtime(settings)
            load_seconds = time.perf_counter() - started
            loaded = runtime.matcher.entry_count()
            runtime.start(workers=False, delivery=False)
            try:
                delays = probe_delays(runtime, args.probes, rng)
            finally:
                runtime.close()
        finally:
            hub.terminate()
            _pid, _status, hub_usage = os.wait4(hub.pid, 0)
    hub_cpu = hub_usage.ru_utime + hub_usage.ru_stime
    result = {
        "entries": args.entries,
        "page_size": args.page_size,
        "hub_fill_seconds": round(fill_seconds, 2),
        "fetch_only_seconds": round(fetch_seconds, 2),
        "fetched": fetched,
        "sync_seconds": round(sync_seconds, 2),
        "sync_entries_per_second": round(args.entries / sync_seconds),
        "sync_peak_rss_mb": round(peak_mb, 1),
        "sync_cpu_seconds": round(sync_cpu, 2),
        "hub_cpu_seconds_all_phases": round(hub_cpu, 2),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "ratio_sync_to_fetch": round(sync_seconds / fetch_seconds, 2),
        "node_index_load_seconds": round(load_seconds, 2),
        "node_entries_loaded": loaded,
        **{
            f"match_delay_{mode}_{stat}_seconds": round(fn(values), 3)
            for mode, values in delays.items()
            for stat, fn in (("median", statistics.median), ("max", max))
        },
        "targets": {"sync_seconds": 60, "sync_peak_rss_mb": 500, "match_delay_seconds": 1.0},
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
