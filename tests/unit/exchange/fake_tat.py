"""A loopback fake of TCAP's hash list API v2, as tests/fixtures/exchange/tat/README.md describes.

It is an `httpx.MockTransport` handler, so the client's real HTTP code runs against it. Faults
can be queued: an HTTP status for the next list request, or a page cut off mid-body.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

RECORDS = Path(__file__).parents[2] / "fixtures" / "exchange" / "tat" / "records.json"
BASE = "https://tat.test/"


def _checkpoint(record: dict[str, Any]) -> str:
    stamp = record["updated_on"]
    stamp_text = str(int(stamp)) if float(stamp).is_integer() else repr(stamp)
    return f"{stamp_text},{record['id']}"


def _key(checkpoint: str) -> tuple[float, int]:
    stamp, _, record_id = checkpoint.partition(",")
    return float(stamp), int(record_id)


class FakeTat:
    def __init__(self, username: str = "platform", password: str = "secret") -> None:
        self.records: list[dict[str, Any]] = json.loads(RECORDS.read_text())
        self.username, self.password = username, password
        self.tokens: set[str] = set()
        self.faults: list[str] = []
        self.list_requests: list[dict[str, str]] = []
        self.logins = 0

    def update(self, record_id: int, **changes: Any) -> None:
        """Change a record the way TAT does: it moves to the end with a later updated_on."""
        latest = max(r["updated_on"] for r in self.records)
        for record in self.records:
            if record["id"] == record_id:
                record.update(changes, updated_on=latest + 60)

    def add(self, record: dict[str, Any]) -> None:
        latest = max(r["updated_on"] for r in self.records)
        self.records.append({**record, "updated_on": latest + 60})

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/token-auth/tcap/":
            body = json.loads(request.content or b"{}")
            if body.get("username") != self.username or body.get("password") != self.password:
                return httpx.Response(400, json={"non_field_errors": ["Unable to log in."]})
            self.logins += 1
            token = f"jwt-{self.logins}"
            self.tokens.add(token)
            return httpx.Response(200, json={"token": token, "user": {"username": self.username}})
        if request.method == "GET" and path == "/api/hash-list/v2/all":
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
                return httpx.Response(401, json={"detail": "Invalid token."})
            return self._page(request)
        return httpx.Response(404, json={"detail": "Not found."})

    def _page(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.list_requests.append(params)
        if self.faults:
            fault = self.faults.pop(0)
            if fault == "truncate":
                page = self._body(params)
                text = json.dumps(page)
                return httpx.Response(
                    200,
                    content=text[: len(text) // 2].encode(),
                    headers={"Content-Type": "application/json"},
                )
            return httpx.Response(int(fault), json={"detail": "Service unavailable."})
        return httpx.Response(200, json=self._body(params))

    def _body(self, params: dict[str, str]) -> dict[str, Any]:
        ordered = sorted(self.records, key=lambda r: (r["updated_on"], r["id"]))
        if params.get("order") == "desc":
            ordered.reverse()
        if params.get("ideology") and params["ideology"] != "all":
            ordered = [r for r in ordered if r["ideology"] == params["ideology"]]
        if params.get("after"):
            after = _key(params["after"])
            ordered = [r for r in ordered if (r["updated_on"], r["id"]) > after]
        limit = int(params.get("limit") or 100)
        offset = int(params.get("offset") or 0)
        page = ordered[offset : offset + limit]
        base = {k: v for k, v in params.items() if k not in ("limit", "offset")}

        def link(at: int) -> str:
            return f"{BASE}api/hash-list/v2/all?{urlencode({**base, 'limit': limit, 'offset': at})}"

        return {
            "count": len(ordered),
            "next": link(offset + limit) if offset + limit < len(ordered) else None,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "checkpoint": _checkpoint(page[-1]) if page else "",
            "results": page,
        }
