"""A loopback Mastodon for tests: a real HTTP server implementing the admin endpoints the
connector uses, keeping state (statuses, accounts, reports) and answering the way Mastodon's
controllers do (401 on a bad token, 404 "Record not found", 422 on an unknown action type)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

TOKEN = "admin-token"
SECRET = "webhook-secret"
ACCOUNT_TYPES = {"none", "sensitive", "disable", "silence", "suspend"}
NOT_FOUND = {"error": "Record not found"}


@dataclass
class FakeMastodon:
    statuses: dict[str, dict] = field(default_factory=dict)  # id -> {"account": id, ...}
    accounts: dict[str, set[str]] = field(default_factory=dict)  # id -> states
    reports: dict[str, dict] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def handle(self, method: str, path: str, form: dict[str, str], auth: str | None
               ) -> tuple[int, object]:
        if method == "GET" and path.startswith("/media/"):
            data = self.media.get(path[len("/media/"):])
            return (200, data) if data is not None else (404, NOT_FOUND)
        self.requests.append((method, path, form))
        if auth != f"Bearer {TOKEN}":
            return 401, {"error": "The access token is invalid"}
        if m := re.fullmatch(r"/api/v1/admin/statuses/(\w+)/action", path):
            status = self.statuses.get(m[1])
            if status is None or status.get("deleted"):
                return 404, NOT_FOUND
            if form.get("type") not in ("delete", "sensitive"):
                return 422, {"error": "Record invalid"}
            status["deleted" if form["type"] == "delete" else "sensitive"] = True
            self._resolve(form.get("report_id"))
            return 200, {}
        if m := re.fullmatch(r"/api/v1/admin/statuses/(\w+)/unsensitive", path):
            self.statuses[m[1]]["sensitive"] = False
            return 200, {"id": m[1]}
        if m := re.fullmatch(r"/api/v1/statuses/(\w+)", path):
            status = self.statuses.get(m[1])
            if status is None or status.get("deleted") or status["account"] != "owner-of-token":
                return 404, NOT_FOUND
            status["deleted"] = True
            return 200, {"id": m[1]}
        if m := re.fullmatch(r"/api/v1/admin/accounts/(\w+)/action", path):
            if m[1] not in self.accounts:
                return 404, NOT_FOUND
            if form.get("type") not in ACCOUNT_TYPES:
                return 422, {"error": "Record invalid"}
            self.accounts[m[1]].add(form["type"])
            for report in self.reports.values():
                if report["target"] == m[1]:
                    report["action_taken"] = True
            return 200, {}
        if m := re.fullmatch(r"/api/v1/admin/accounts/(\w+)/(unsuspend|unsilence|unsensitive)",
                             path):
            states = self.accounts[m[1]]
            undone = {"unsuspend": "suspend", "unsilence": "silence",
                      "unsensitive": "sensitive"}[m[2]]
            if m[2] == "unsuspend" and undone not in states:
                return 403, {"error": "This action is not allowed"}
            states.discard(undone)
            return 200, {"id": m[1]}
        if m := re.fullmatch(r"/api/v1/admin/reports/(\w+)/resolve", path):
            if m[1] not in self.reports:
                return 404, NOT_FOUND
            self._resolve(m[1])
            return 200, {"id": m[1], "action_taken": True}
        return 404, "<html>The page you are looking for isn't here.</html>"

    def _resolve(self, report_id: str | None) -> None:
        if report_id in self.reports:
            self.reports[report_id]["action_taken"] = True


@pytest.fixture
def mastodon() -> Iterator[tuple[FakeMastodon, str]]:
    state = FakeMastodon()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            form = dict(parse_qsl(raw))
            status, payload = state.handle(self.command, self.path, form,
                                           self.headers.get("Authorization"))
            data = payload if isinstance(payload, bytes) else (
                json.dumps(payload) if not isinstance(payload, str) else payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
