"""A loopback fake of the DSA Transparency Database API (format: tests/fixtures/tdb/README.md),
as an httpx MockTransport handler: it stores statements, refuses duplicates and invalid
batches as the real one does, and can fail requests or lose a response after committing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

REQUIRED = (
    "decision_ground",
    "content_type",
    "category",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
TOKEN = "X|fake-token"


class FakeTdb:
    def __init__(self) -> None:
        self.statements: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.fail_next = 0  # answer 503 to the next N requests
        self.lose_next_response = False  # commit, then time out instead of answering

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            self.requests.append((request.method, path, 401))
            return httpx.Response(401, json={"message": "Unauthenticated."})
        if self.fail_next:
            self.fail_next -= 1
            self.requests.append((request.method, path, 503))
            return httpx.Response(503, json={"message": "Service Unavailable"})
        try:
            response = self._route(request, path)
        except httpx.ReadTimeout:
            self.requests.append((request.method, path, 0))
            raise
        self.requests.append((request.method, path, response.status_code))
        return response

    def _route(self, request: httpx.Request, path: str) -> httpx.Response:
        prefix = "/api/v1/statement/existing-puid/"
        if request.method == "GET" and path.startswith(prefix):
            found = self.statements.get(path[len(prefix) :])
            if found is None:
                return httpx.Response(404, json={"message": "statement of reason not found"})
            return httpx.Response(302, json=found)
        if request.method == "POST" and path == "/api/v1/statements":
            return self._create(json.loads(request.content)["statements"], request)
        return httpx.Response(404, json={"message": "not found"})

    def _create(self, batch: list[dict[str, Any]], request: httpx.Request) -> httpx.Response:
        if not 1 <= len(batch) <= 100:
            return httpx.Response(422, json={"message": "1 to 100 statements"})
        errors: dict[str, dict[str, list[str]]] = {}
        for n, body in enumerate(batch):
            problems = {f: [f"The {f} field is required."] for f in REQUIRED if not body.get(f)}
            if body.get("puid") in self.statements:
                problems["puid"] = ["The identifier given is not unique within this platform."]
            if problems:
                errors[f"statement_{n}"] = problems
        if errors:
            return httpx.Response(422, json={"errors": errors})
        created = []
        for body in batch:
            stored = {**body, "uuid": str(uuid.uuid4())}
            self.statements[body["puid"]] = stored
            created.append(stored)
        if self.lose_next_response:
            self.lose_next_response = False
            raise httpx.ReadTimeout("response lost", request=request)
        return httpx.Response(201, json={"statements": created})
