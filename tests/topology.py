"""The documented multi-process topology on loopback: API processes and workers as separate
`takedown` processes, a webhook receiver that can go down, and a client load that fails over
between the API processes. Shared by the chaos and deployment tests."""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx

from private_services import _wait, free_port


def wait_for(what: str, predicate: Callable[[], bool], limit: float = 30.0) -> float:
    waited = _wait(what, predicate, limit)
    print(f"wait: {what}: {waited:.1f} s", flush=True)
    return waited


class Receiver:
    """A webhook receiver on a fixed port that can be taken down and brought back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.seen: dict[str, list[dict[str, object]]] = defaultdict(list)
        self.account_messages: list[dict[str, object]] = []
        self.lock = threading.Lock()
        self.server: http.server.ThreadingHTTPServer | None = None
        self.up()

    def up(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                with receiver.lock:
                    if body.get("item_id") is None:  # an account decision, not an item's
                        receiver.account_messages.append(body)
                    else:
                        receiver.seen[str(body["item_id"])].append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def delivered(self) -> set[int]:
        with self.lock:
            return {int(b["decision_id"]) for bodies in self.seen.values() for b in bodies}


class Deployment:
    """Two API processes (as behind a load balancer) and N workers, all started at once."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.ports = [free_port(), free_port()]
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.apis: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        out = self.log.open("ab")
        return subprocess.Popen([sys.executable, "-m", "takedown.cli.main", *args],
                                env=self.env, stdout=out, stderr=out)

    def start_api(self, n: int) -> subprocess.Popen[bytes]:
        proc = self._spawn("serve", "--no-worker", "--port", str(self.ports[n]))
        self.apis.append(proc)
        return proc

    def ready(self, n: int) -> bool:
        try:
            return httpx.get(f"{self.urls[n]}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def start_worker(self) -> None:
        self.workers.append(self._spawn("worker"))

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self) -> None:
        procs = [*self.apis, *self.workers]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


class Load:
    """A client posting batches of new items to either API process; a failed request is resent
    with the same ids (idempotent) to the other one until accepted, as an integrator's load
    balancer and retry policy would."""

    def __init__(self, urls: list[str], key: str, *, pause: float = 0.1) -> None:
        self.urls, self.key, self.pause = urls, key, pause
        self.accepted: set[str] = set()
        self.failures = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        n = 0
        turn = 0
        with httpx.Client(headers=headers, timeout=5) as http:
            while not self.stop.is_set():
                batch = [{"id": f"c-{n + i}", "kind": "text", "account_id": f"a{(n + i) % 9}",
                          "text": f"message {n + i}"} for i in range(10)]
                n += 10
                while True:
                    turn += 1
                    url = self.urls[turn % len(self.urls)]
                    try:
                        response = http.post(f"{url}/v1/submissions", json={"items": batch})
                        if response.status_code in (200, 202):
                            self.accepted.update(item["id"] for item in batch)
                            break
                    except httpx.HTTPError:
                        pass
                    self.failures += 1
                    time.sleep(0.05)
                self.stop.wait(self.pause)
