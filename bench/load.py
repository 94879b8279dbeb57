"""Sustained load through the HTTP API: accepted/s, decided/s and latencies, by worker count.

Starts, on loopback only, one API process (`takedown serve --no-worker`) and W worker processes
(`takedown worker`) on a fresh SQLite file or a fresh PostgreSQL database with a private Redis
stream; C client threads post batches of short texts (and a share of small images) for S
seconds; then the run drains (bounded) and everything it started is stopped. Figures:

* accepted_per_s — items the API accepted per second of load;
* decided_per_s — automated decisions committed per second over the same window;
* accept_ms p50/p99 — request latency of one batch POST;
* decide_ms p50/p99 — submit-to-decision (received_at → decision created_at, from the database).

`--matrix` runs W = 1, 2, 4 for each backend given, plus a baseline in the same run: W = 1 with
batches of one (the old per-item claim-and-commit path), and prints ratios to it.

    python bench/load.py --seconds 15 --workers 2 --json
    python bench/load.py --matrix --backends sqlite,postgres --seconds 15 --json --out runs.json
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image
from sqlalchemy import create_engine, func, select, text

from takedown.core.banks import Bank
from takedown.core.taxonomy import TvecLabel
from takedown.signals.exact import text_sha256
from takedown.storage import banks as bank_store
from takedown.storage.db import make_engine, migrate
from takedown.storage.keys import Role, create_key
from takedown.storage.tables import decisions, submissions


def _shared_data() -> Path:
    """`TAKEDOWN_BENCH_DATA`, else the first `shared/data` beside the checkout or one level
    up: a git worktree (`wt/NAME`) sits a level deeper than the main checkout, and without the
    real posts the bench would silently send synthetic ones."""
    if os.environ.get("TAKEDOWN_BENCH_DATA"):
        return Path(os.environ["TAKEDOWN_BENCH_DATA"])
    root = Path(__file__).resolve().parents[1]
    candidates = [root.parent / "shared" / "data", root.parent.parent / "shared" / "data"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = _shared_data()
PG_ADMIN = os.environ.get(
    "TAKEDOWN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("TAKEDOWN_BENCH_REDIS", "redis://127.0.0.1:6379/14")
DRAIN_LIMIT = 60.0
"""Default bound on the drain after the load window (--drain-seconds)."""


TEXTS_SOURCE = ["synthetic"]
"""What `load_texts` found ("real" or "synthetic"), reported with every run."""


def load_texts(limit: int = 5000) -> list[str]:
    """Short real posts (HateCheck cases, CONAN hate speech and counter-speech) when the shared
    data is present, else synthetic sentences."""
    texts: list[str] = []
    sources = [
        (SHARED / "hatecheck-en" / "test_suite_cases.csv", ["test_case"]),
        (SHARED / "conan-counter-narratives" / "CONAN.csv", ["hateSpeech", "counterSpeech"]),
    ]
    for path, columns in sources:
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts.extend(row[c][:280] for c in columns if row.get(c))
    TEXTS_SOURCE[0] = "real" if texts else "synthetic"
    if not texts:
        words = ["the", "a", "people", "city", "news", "today", "video", "post", "share",
                 "watch", "join", "read"]
        rng = random.Random(1)
        texts = [" ".join(rng.choices(words, k=12)) for _ in range(limit)]
    random.Random(2).shuffle(texts)
    return texts[:limit]


def make_image(n: int) -> str:
    """A unique 128x128 PNG (base64) per item, so nothing is deduplicated."""
    rng = np.random.default_rng(n)
    pixels = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((128, 128), Image.Resampling.BILINEAR).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@dataclass
class Config:
    backend: str
    workers: int
    seconds: float
    clients: int = 2
    batch: int = 20
    images: float = 0.05
    classifier: bool = False
    worker_batch: int = 64
    drain: float = DRAIN_LIMIT
    rate: float = 0.0
    worker_nice: int = 0
    label: str = ""


@dataclass
class Deployment:
    """Everything one run started; `stop` ends all of it."""

    env: dict[str, str]
    url: str
    key: str
    engine: Any
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    cleanup: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.engine.dispose()
        for step in reversed(self.cleanup):
            step()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deploy(config: Config, workdir: Path, texts: list[str]) -> Deployment:
    env = {**os.environ, "TAKEDOWN_DATA_DIR": str(workdir / "data"),
           "TAKEDOWN_CLASSIFIER": "on" if config.classifier else "off",
           "TAKEDOWN_WORKER_BATCH": str(config.worker_batch), "TAKEDOWN_JSON_LOGS": "off",
           "TAKEDOWN_LEASE_SECONDS": "30", "TAKEDOWN_WORKER_NICE": str(config.worker_nice)}
    cleanup: list[Any] = []
    if config.backend == "postgres":
        name = f"takedown_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        cleanup.append(drop)
        env["TAKEDOWN_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        stream = f"bench:{name}"
        env["TAKEDOWN_QUEUE_URL"] = f"{REDIS}?stream={stream}&claim_idle_ms=30000"

        def drop_stream() -> None:
            import redis

            client = redis.Redis.from_url(REDIS)
            client.delete(stream, f"{stream}:dead")
            client.close()

        cleanup.append(drop_stream)
        engine = make_engine(env["TAKEDOWN_DATABASE_URL"])
    else:
        engine = make_engine(f"sqlite:///{(workdir / 'data' / 'takedown.db').resolve()}")
    migrate(engine)
    with engine.begin() as conn:
        key = create_key(conn, Role.INTEGRATOR)
        bank_store.upsert_bank(conn, Bank("bench", TvecLabel.PRAISE), actor="bench")
        banked = [("text_sha256", text_sha256(t), None) for t in texts[::40]]
        bank_store.add_entries(conn, "bench", banked, actor="bench")
    port = _free_port()
    deployment = Deployment(env, f"http://127.0.0.1:{port}", key, engine, cleanup=cleanup)
    log = (workdir / "processes.log").open("ab")
    cmd = [sys.executable, "-m", "takedown.cli.main"]
    deployment.procs.append(subprocess.Popen(
        [*cmd, "serve", "--no-worker", "--port", str(port)], env=env, stdout=log, stderr=log))
    for _ in range(config.workers):
        deployment.procs.append(subprocess.Popen([*cmd, "worker"], env=env, stdout=log,
                                                 stderr=log))
    deadline = time.monotonic() + 180  # model loading is slow on a loaded machine
    while True:
        try:
            if httpx.get(f"{deployment.url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or deployment.procs[0].poll() is not None:
            deployment.stop()
            raise SystemExit(f"the API did not start; see {workdir / 'processes.log'}")
        time.sleep(0.1)
    return deployment


def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process and its waited-for children (OCR subprocesses) have used
    (Linux /proc), robust to other jobs' load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _decided(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())


def _wait_workers_warm(deployment: Deployment, config: Config) -> None:
    """One probe item decided means a worker is up; then wait until every process is idle
    (CPU use flat), so start-up work (imports, model and bank loading) is not measured."""
    headers = {"Authorization": f"Bearer {deployment.key}"}
    httpx.post(f"{deployment.url}/v1/submissions", headers=headers,
               json={"id": "warm-up", "kind": "text", "text": "warm up"}, timeout=30)
    deadline = time.monotonic() + 180
    while _decided(deployment.engine) < 1:
        if time.monotonic() > deadline:
            raise SystemExit("workers did not start in time")
        time.sleep(0.1)
    previous = [_cpu_seconds(p.pid) for p in deployment.procs]
    while time.monotonic() < deadline:
        time.sleep(1.0)
        current = [_cpu_seconds(p.pid) for p in deployment.procs]
        if all(c - p < 0.1 for c, p in zip(current, previous, strict=True)):
            return
        previous = current


def drive(deployment: Deployment, config: Config, texts: list[str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {deployment.key}"}
    latencies: list[float] = []
    accepted = [0]
    errors = [0]
    lock = threading.Lock()
    images = [make_image(n) for n in range(200)]
    stop_at = time.monotonic() + config.seconds

    # With --rate each client sends one request every `interval` seconds (open loop, on a
    # fixed schedule, so a slow answer does not lower the offered load); else back to back.
    interval = config.batch * config.clients / config.rate if config.rate > 0 else 0.0

    def client(worker: int) -> None:
        rng = random.Random(worker)
        sent = 0
        next_at = time.monotonic() + interval * worker / max(1, config.clients)
        with httpx.Client(base_url=deployment.url, headers=headers, timeout=30) as http:
            while time.monotonic() < stop_at:
                if interval:
                    time.sleep(max(0.0, next_at - time.monotonic()))
                    next_at += interval
                items = []
                for _ in range(config.batch):
                    sent += 1
                    item_id = f"c{worker}-{sent}"
                    if rng.random() < config.images:
                        image = images[sent % len(images)]
                        items.append({"id": item_id, "kind": "image", "content_base64": image,
                                      "text": rng.choice(texts)[:40]})
                    else:
                        items.append({"id": item_id, "kind": "text", "text": rng.choice(texts),
                                      "account_id": f"acct-{rng.randrange(500)}"})
                started = time.perf_counter()
                try:
                    response = http.post("/v1/submissions", json={"items": items})
                    ok = response.status_code in (200, 202)
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    if ok:
                        latencies.append(elapsed)
                        accepted[0] += len(items)
                    else:
                        errors[0] += 1

    before = _decided(deployment.engine)
    cpu_before = [_cpu_seconds(p.pid) for p in deployment.procs]
    client_before = time.process_time()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(config.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    window = time.monotonic() - started
    decided_in_window = _decided(deployment.engine) - before
    cpu = [_cpu_seconds(p.pid) - b for p, b in zip(deployment.procs, cpu_before, strict=True)]
    client_cpu = time.process_time() - client_before
    drain_started = time.monotonic()
    total = accepted[0] + before
    while _decided(deployment.engine) < total and time.monotonic() - drain_started < config.drain:
        time.sleep(0.1)
    drained = time.monotonic() - drain_started
    with deployment.engine.connect() as conn:
        rows = conn.execute(
            select(submissions.c.received_at, decisions.c.created_at)
            .join(decisions, decisions.c.submission_id == submissions.c.id)
            .where(submissions.c.item_id != "warm-up")
        ).all()
    waits = sorted((d - r).total_seconds() * 1000 for r, d in rows)
    lat_ms = sorted(x * 1000 for x in latencies)
    return {
        "label": config.label, "backend": config.backend, "workers": config.workers,
        "classifier": config.classifier, "worker_batch": config.worker_batch,
        "clients": config.clients, "request_batch": config.batch, "image_share": config.images,
        "offered_per_s": config.rate or None, "worker_nice": config.worker_nice,
        "texts": TEXTS_SOURCE[0],
        "seconds": round(window, 2),
        "accepted": accepted[0], "request_errors": errors[0],
        "accepted_per_s": round(accepted[0] / window, 1),
        "decided_per_s": round(decided_in_window / window, 1),
        "decided_total": len(waits), "drain_s": round(drained, 2),
        "accept_ms_p50": _pct(lat_ms, 50), "accept_ms_p99": _pct(lat_ms, 99),
        "decide_ms_p50": _pct(waits, 50), "decide_ms_p99": _pct(waits, 99),
        "api_cpu_ms_per_item": round(1000 * cpu[0] / max(1, accepted[0]), 3),
        "worker_cpu_ms_per_item": round(1000 * sum(cpu[1:]) / max(1, decided_in_window), 3),
        # The load generator shares the two cores: its CPU, and its share of all the CPU the
        # run's own processes (client, API, workers) used in the window.
        "client_cpu_ms_per_item": round(1000 * client_cpu / max(1, accepted[0]), 3),
        "client_cpu_share": round(client_cpu / max(1e-9, client_cpu + sum(cpu)), 3),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(len(values) * pct / 100))], 1)


def run(config: Config, texts: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="takedown-load-") as tmp:
        deployment = deploy(config, Path(tmp), texts)
        try:
            _wait_workers_warm(deployment, config)
            return drive(deployment, config, texts)
        finally:
            deployment.stop()


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """decided/s and accepted/s against W per backend, the baseline as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))

    def series(r: dict[str, Any]) -> str:
        return r["backend"] + (" + classifier" if r.get("classifier") else ", hash only")

    for n, name in enumerate(sorted({series(r) for r in results})):
        colour = f"C{n}"
        mine = [r for r in results if series(r) == name]
        runs = sorted((r for r in mine if not r["label"].startswith("baseline")),
                      key=lambda r: r["workers"])
        workers = [r["workers"] for r in runs]
        axes[0].plot(workers, [r["decided_per_s"] for r in runs], "o-", color=colour,
                     label=f"{name}: decided/s")
        axes[0].plot(workers, [r["accepted_per_s"] for r in runs], "s:", color=colour,
                     label=f"{name}: accepted/s")
        capacity = [2000 / (r["api_cpu_ms_per_item"] + r["worker_cpu_ms_per_item"])
                    for r in runs if r.get("worker_cpu_ms_per_item")]
        if capacity:
            axes[1].plot(workers[: len(capacity)], capacity, "o-", color=colour, label=name)
        for r in mine:
            if r["label"].startswith("baseline"):
                axes[0].axhline(r["decided_per_s"], color=colour, linestyle="--", linewidth=1,
                                label=f"{name}: per-item baseline, decided/s")
    axes[0].set(xlabel="worker processes (W)", ylabel="items per second",
                title="Measured (shared 2-core machine)")
    axes[1].set(xlabel="worker processes (W)", ylabel="items per second",
                title="Capacity of 2 idle cores from CPU per item")
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xticks([1, 2, 4])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--backends", default="sqlite,postgres", help="with --matrix")
    parser.add_argument("--matrix", action="store_true", help="W = 1, 2, 4 and a baseline")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20, help="items per request")
    parser.add_argument("--images", type=float, default=0.05, help="share of image items")
    parser.add_argument("--classifier", choices=["on", "off"], default="off")
    parser.add_argument("--worker-batch", type=int, default=64)
    parser.add_argument("--drain-seconds", type=float, default=DRAIN_LIMIT,
                        help="bound on the drain after the load (decide latencies count only "
                        "what was decided by then)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offered items/s over all clients (0: as fast as answered)")
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="run the workers' threads this much nicer (TAKEDOWN_WORKER_NICE)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="also write results here")
    parser.add_argument("--plot", type=Path, default=None, help="write a scaling plot (PNG)")
    parser.add_argument("--replot", type=Path, nargs="+", default=None,
                        help="only plot the runs saved by earlier --out files (with --plot)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 600:
        parser.error("--seconds must be in (0, 600]")
    if args.replot:
        if not args.plot:
            parser.error("--replot needs --plot")
        plot([r for f in args.replot for r in json.loads(f.read_text())["runs"]], args.plot)
        return 0
    texts = load_texts()
    base = Config(args.backend, args.workers, args.seconds, clients=args.clients,
                  batch=args.batch, images=args.images, classifier=args.classifier == "on",
                  worker_batch=args.worker_batch, drain=args.drain_seconds, rate=args.rate,
                  worker_nice=args.worker_nice)
    configs: list[Config] = []
    if args.matrix:
        for backend in args.backends.split(","):
            configs.append(Config(**{**base.__dict__, "backend": backend, "workers": 1,
                                     "worker_batch": 1, "label": "baseline: per-item path"}))
            for workers in (1, 2, 4):
                configs.append(Config(**{**base.__dict__, "backend": backend,
                                         "workers": workers, "label": f"W={workers}"}))
    else:
        configs.append(Config(**{**base.__dict__, "label": f"W={args.workers}"}))
    results = []
    for config in configs:
        result = run(config, texts)
        results.append(result)
        if not args.json:
            print(f"{config.backend:8} {config.label:24} accepted/s {result['accepted_per_s']:8}"
                  f"  decided/s {result['decided_per_s']:8}  accept p99 "
                  f"{result['accept_ms_p99']} ms  decide p99 {result['decide_ms_p99']} ms",
                  flush=True)
    for result in results:
        baseline = next((r for r in results if r["backend"] == result["backend"]
                         and r["label"].startswith("baseline")), None)
        if baseline and baseline["decided_per_s"]:
            result["decided_vs_baseline"] = round(
                result["decided_per_s"] / baseline["decided_per_s"], 2)
    report = {"runs": results, "cpus": os.cpu_count(),
              "load_average": os.getloadavg()[0]}
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    if args.plot:
        plot(results, args.plot)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
