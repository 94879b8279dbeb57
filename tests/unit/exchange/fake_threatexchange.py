"""A loopback fake of the ThreatExchange Graph API, as the fixture README describes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx

UPDATES = Path(__file__).parents[2] / "fixtures" / "exchange" / "threatexchange" / "updates.json"
GRAPH = "https://graph.test/v26.0"
TOKEN = "1234567890|fakefakefakefakefakefake"


class FakeThreatExchange:
    def __init__(self, privacy_group: str = "303") -> None:
        self.updates: list[dict[str, Any]] = json.loads(UPDATES.read_text())
        self.privacy_group = privacy_group
        self.faults: list[str] = []
        self.requests: list[dict[str, str]] = []
        self.reactions: list[tuple[str, str]] = []

    def touch(self, indicator_id: str, **changes: Any) -> None:
        latest = max(u["last_updated"] for u in self.updates)
        for update in self.updates:
            if update["id"] == indicator_id:
                update.update(changes, last_updated=latest + 10)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _error(self, status: int, message: str, code: int) -> httpx.Response:
        body = {"error": {"message": message, "type": "OAuthException", "code": code}}
        return httpx.Response(status, json=body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if request.method == "POST":
            params.update({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        if params.get("access_token") != TOKEN:
            return self._error(400, "Invalid OAuth access token.", 190)
        path = request.url.path.removeprefix("/v26.0/").strip("/")
        if request.method == "GET" and path == f"{self.privacy_group}/threat_updates":
            return self._threat_updates(params)
        descriptors = {
            d["id"]: u for u in self.updates for d in (u.get("descriptors") or {}).get("data", [])
        }
        if request.method == "POST" and path in descriptors:
            self.reactions.append((path, params["reactions"]))
            return httpx.Response(200, json={"success": True})
        if request.method == "GET" and any(u["id"] == path for u in self.updates):
            update = next(u for u in self.updates if u["id"] == path)
            data = [{"id": d["id"]} for d in update["descriptors"]["data"]]
            return httpx.Response(200, json={"id": path, "descriptors": {"data": data}})
        return self._error(400, "Unsupported request.", 100)

    def _threat_updates(self, params: dict[str, str]) -> httpx.Response:
        self.requests.append(params)
        if self.faults:
            fault = self.faults.pop(0)
            if fault == "truncate":
                return httpx.Response(
                    200,
                    content=b'{"data": [{"id": "50',
                    headers={"Content-Type": "application/json"},
                )
            return self._error(int(fault), "An unexpected error has occurred.", 2)
        ordered = sorted(self.updates, key=lambda u: (u["last_updated"], u["id"]))
        if params.get("start_time"):
            ordered = [u for u in ordered if u["last_updated"] >= int(params["start_time"])]
        if params.get("types"):
            wanted = set(params["types"].split(","))
            ordered = [u for u in ordered if u["type"] in wanted]
        start = int(base64.b64decode(params["after"]).decode()) if params.get("after") else 0
        limit = int(params.get("limit") or 25)
        page = ordered[start : start + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            cursors = {
                "before": base64.b64encode(str(start).encode()).decode(),
                "after": base64.b64encode(str(start + len(page)).encode()).decode(),
            }
            body["paging"] = {"cursors": cursors}
            if start + len(page) < len(ordered):
                query = urlencode({**params, "after": cursors["after"]})
                body["paging"]["next"] = f"{GRAPH}/{self.privacy_group}/threat_updates/?{query}"
        return httpx.Response(200, json=body)
