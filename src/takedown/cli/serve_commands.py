"""`takedown serve` (API, UI and in-process worker) and `takedown worker` (workers only)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from takedown.api.ops import configure_json_logging
from takedown.cli._common import settings_from_env
from takedown.services.metrics import serve_metrics
from takedown.services.runtime import Runtime


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="serve the API and UI with an in-process worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="load a demo bank and demo submissions, and print demo API keys",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="serve only; run `takedown worker` processes separately",
    )
    serve.set_defaults(func=cmd_serve)
    worker = subparsers.add_parser("worker", help="run workers and webhook delivery only")
    worker.add_argument("--threads", type=int, default=None)
    worker.add_argument(
        "--nice",
        type=int,
        default=None,
        help="run the worker threads this much nicer than the API (TAKEDOWN_WORKER_NICE)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics",
    )
    worker.add_argument("--metrics-host", default="127.0.0.1")
    worker.set_defaults(func=cmd_worker)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from takedown.api.app import create_app

    settings = settings_from_env()
    if settings.json_logs:
        configure_json_logging()
    runtime = Runtime(settings)
    if args.demo:
        from takedown.services.demo import load_demo

        info = load_demo(runtime)
        print(info.describe(f"http://{args.host}:{args.port}"), file=sys.stderr, flush=True)
    app = create_app(settings, runtime=runtime, start_workers=not args.no_worker)
    print(
        f"takedown: serving on http://{args.host}:{args.port} (data: {settings.data_dir})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    runtime.close()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    if args.threads:
        settings = settings.with_(worker_threads=args.threads)
    if args.nice is not None:
        settings = settings.with_(worker_nice=args.nice)
    if settings.json_logs:
        configure_json_logging()
    runtime = Runtime(settings)
    if args.metrics_port is not None:
        serve_metrics(runtime, args.metrics_host, args.metrics_port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runtime.start()
    print("takedown: worker running", file=sys.stderr, flush=True)
    stop.wait()
    runtime.close()
    return 0
