"""The hub's HTTP API (`takedown hub serve`): a FastAPI app on the hub's own database.

Endpoints (all need `Authorization: Bearer thub_...`; 401 without a valid token, 403 for the
wrong role, 429 with Retry-After past a member's rate):

  POST   /v1/hub/entries                 contributor: submit or update entries (batch)
  GET    /v1/hub/deltas?cursor=&limit=&wait=&crisis=   any member: changes after a cursor;
                                          `wait` long-polls up to that many seconds for the next
                                          change; `crisis=true` reads only crisis entries
  GET    /v1/hub/stream?cursor=&crisis=&seconds=   any member: the same feed as server-sent
                                          events (`text/event-stream`, resumable by
                                          Last-Event-ID), for up to `seconds` (300)
  GET    /v1/hub/entries/{id}            any member: one entry with its votes
  POST   /v1/hub/entries/{id}/feedback   any member: seen / true_positive / false_positive
  DELETE /v1/hub/entries/{id}            its contributor (or an admin): retract
  POST   /v1/hub/members                 admin: add a member, returns its token once
  GET    /v1/hub/ledger/verify           admin: check the audit ledger's hash chain

Long-polling is how crisis entries reach nodes within seconds: a follower holds one request
open, and a commit on this process wakes it at once (other hub processes are seen within the
poll interval). Rate limits are per process, or shared by all of them through Redis when
`TAKEDOWN_HUB_REDIS_URL` is set.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine

import takedown
from takedown.core.errors import (
    AuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TakedownError,
)
from takedown.core.errors import RateLimited as CoreRateLimited
from takedown.core.events import verify_chain
from takedown.exchange import hub_members, hub_store
from takedown.exchange.hub_members import HubRole, Member
from takedown.exchange.hub_schema import migrate_hub
from takedown.exchange.hub_store import HubVerdict
from takedown.signals.registry import SignalRegistry, default_registry
from takedown.storage.db import make_engine, reading
from takedown.storage.ledger import iter_events

MAX_PAGE = 10_000
MAX_WAIT_SECONDS = 30.0
POLL_SECONDS = 0.25
MAX_STREAM_SECONDS = 300.0
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True)
class HubConfig:
    database_url: str
    dispute_votes: int = 2
    rate_per_minute: int = 600
    # With a Redis URL every hub process draws a member's requests from one bucket there.
    redis_url: str | None = None


class MemberLimiter(Protocol):
    def take(self, member_id: int) -> float:
        """0 when admitted, else the seconds until the next request would be."""


class SharedLimiter:
    """The node API's Redis token bucket (`services.ratelimit`), keyed by member, so a
    member's rate holds across every hub process; fails open like the node's."""

    def __init__(self, rate_per_minute: int, redis_url: str, *, prefix: str) -> None:
        from takedown.services.ratelimit import RedisTokenBucket

        rate = max(1, rate_per_minute)
        self.bucket = RedisTokenBucket.from_url(redis_url, rate / 60.0, rate, prefix=prefix)

    def take(self, member_id: int) -> float:
        try:
            self.bucket.check(f"member:{member_id}")
        except CoreRateLimited as limited:
            return float(limited.retry_after)
        return 0.0


class RateLimiter:
    """A token bucket per member: `rate` requests a minute, bursts up to the same number."""

    def __init__(self, rate_per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(1, rate_per_minute))
        self.refill = self.capacity / 60.0
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, member_id: int) -> float:
        """0 when admitted, else the seconds until the next request would be."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(member_id, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill)
            if tokens >= 1.0:
                self._buckets[member_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[member_id] = (tokens, now)
            return (1.0 - tokens) / self.refill


class RateLimited(TakedownError):
    title = "Too many requests"

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"rate limit reached; retry in {math.ceil(retry_after)} s",
            hint="slow down, or ask the hub operator for a higher rate",
        )
        self.retry_after = retry_after


class Notifier:
    """Wakes long-polling readers when this process commits a change."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0

    def changed(self) -> None:
        with self._cond:
            self._version += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self._version != seen, timeout=timeout)
            return self._version

    @property
    def version(self) -> int:
        return self._version


class EntryIn(BaseModel):
    signal_type: str = Field(examples=["pdq"])
    value: str = Field(max_length=hub_store.MAX_VALUE_CHARS)
    label: str = Field(examples=["TVEC1"])
    severity: int = 3
    tags: list[str] = Field(default_factory=list)
    note: str | None = None
    sharing: str = hub_store.Sharing.MEMBERS.value
    crisis: bool = False


class SubmitIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=MAX_PAGE)


class FeedbackIn(BaseModel):
    verdict: str = Field(examples=["false_positive"])
    note: str | None = None


class MemberIn(BaseModel):
    name: str
    role: str = HubRole.READER.value


def _status(error: TakedownError) -> int:
    for cls, status in (
        (RateLimited, 429),
        (InvalidInput, 400),
        (NotFound, 404),
        (Conflict, 409),
        (Forbidden, 403),
        (AuthError, 401),
    ):
        if isinstance(error, cls):
            return status
    return 502


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(TakedownError)
    async def _error(_request: Request, error: TakedownError) -> JSONResponse:
        status = _status(error)
        headers: dict[str, str] = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        body = {
            "type": "about:blank",
            "title": error.title,
            "status": status,
            "detail": error.message,
            **({"hint": error.hint} if error.hint else {}),
        }
        return JSONResponse(body, status, headers, media_type="application/problem+json")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
        )
        body = {"type": "about:blank", "title": "Invalid input", "status": 422, "detail": detail}
        return JSONResponse(body, 422, media_type="application/problem+json")


def create_hub_app(
    config: HubConfig,
    *,
    engine: Engine | None = None,
    registry: SignalRegistry | None = None,
    clock: Callable[[], float] = time.monotonic,
    rate_prefix: str = "takedown:hub-rate:",
) -> FastAPI:
    hub_engine = engine or make_engine(config.database_url)
    migrate_hub(hub_engine)
    signals = registry or default_registry()
    limiter: MemberLimiter
    if config.redis_url and config.redis_url.startswith(("redis://", "rediss://")):
        limiter = SharedLimiter(config.rate_per_minute, config.redis_url, prefix=rate_prefix)
    else:
        limiter = RateLimiter(config.rate_per_minute, clock)
    notifier = Notifier()
    app = FastAPI(title="Takedown hub", version=takedown.__version__)
    app.state.engine = hub_engine
    app.state.notifier = notifier
    _install_errors(app)

    def member(request: Request) -> Member:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("missing hub token", hint="send `Authorization: Bearer thub_...`")
        with reading(hub_engine) as conn:
            found = hub_members.authenticate(conn, token.strip())
        retry = limiter.take(found.id)
        if retry:
            raise RateLimited(retry)
        return found

    @app.post("/v1/hub/entries", status_code=201, tags=["hub"])
    def submit(body: SubmitIn, who: Member = Depends(member)) -> dict[str, Any]:
        items = [e.model_dump() for e in body.entries]
        with hub_engine.begin() as conn:
            results = hub_store.submit(conn, who, items, signals)
        notifier.changed()
        return {"entries": results}

    @app.get("/v1/hub/deltas", tags=["hub"])
    def deltas(
        cursor: str = "0",
        limit: int = Query(1000, ge=1, le=MAX_PAGE),
        wait: float = Query(0.0, ge=0.0, le=MAX_WAIT_SECONDS),
        crisis: bool = False,
        who: Member = Depends(member),
    ) -> Response:
        try:
            position = int(cursor or "0")
        except ValueError:
            raise InvalidInput(f"cursor {cursor[:40]!r} is not one this hub issued") from None
        deadline = time.monotonic() + wait
        while True:
            seen = notifier.version
            with reading(hub_engine) as conn:
                entries, after, more = hub_store.deltas(
                    conn, who, position, limit, crisis_only=crisis
                )
            remaining = deadline - time.monotonic()
            if after != position or remaining <= 0:
                break
            notifier.wait(seen, min(POLL_SECONDS, remaining))
        payload = {"entries": entries, "cursor": str(after), "more": more}
        return Response(orjson.dumps(payload), media_type="application/json")

    def read(who: Member, position: int, limit: int, crisis: bool) -> tuple[Any, int, bool]:
        with reading(hub_engine) as conn:
            return hub_store.deltas(conn, who, position, limit, crisis_only=crisis)

    async def events(
        request: Request, who: Member, cursor: int, limit: int, crisis: bool, seconds: float
    ) -> AsyncIterator[bytes]:
        """Server-sent events: each batch of changes is one `entries` event whose `id` is the
        cursor after it (a reconnecting client sends it back as Last-Event-ID), with a comment
        line after KEEPALIVE_SECONDS of quiet; other hub processes' commits are seen within
        POLL_SECONDS, this one's at once. The stream ends after `seconds`, or as soon as the
        client goes, and the client reconnects, so no connection is held forever."""
        end = time.monotonic() + seconds
        position = cursor
        sent = time.monotonic()
        yield b"retry: 1000\n\n"
        while not await request.is_disconnected():
            seen = notifier.version
            entries, after, more = await run_in_threadpool(read, who, position, limit, crisis)
            if after != position:
                position = after
                body = orjson.dumps({"entries": entries, "cursor": str(after), "more": more})
                sent = time.monotonic()
                yield b"event: entries\nid: " + str(after).encode() + b"\ndata: " + body + b"\n\n"
                if more:
                    continue
            now = time.monotonic()
            if now >= end:
                return
            if now - sent >= KEEPALIVE_SECONDS:
                sent = now
                yield b": keepalive\n\n"
            await run_in_threadpool(notifier.wait, seen, min(POLL_SECONDS, end - now))

    @app.get("/v1/hub/stream", tags=["hub"])
    def stream(
        request: Request,
        cursor: str = "0",
        limit: int = Query(1000, ge=1, le=MAX_PAGE),
        crisis: bool = False,
        seconds: float = Query(MAX_STREAM_SECONDS, gt=0.0, le=MAX_STREAM_SECONDS),
        who: Member = Depends(member),
    ) -> StreamingResponse:
        raw = request.headers.get("last-event-id") or cursor or "0"
        try:
            position = int(raw)
        except ValueError:
            raise InvalidInput(f"cursor {raw[:40]!r} is not one this hub issued") from None
        return StreamingResponse(
            events(request, who, position, limit, crisis, seconds),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.get("/v1/hub/entries/{entry_id}", tags=["hub"])
    def entry(entry_id: int, who: Member = Depends(member)) -> dict[str, Any]:
        with reading(hub_engine) as conn:
            return hub_store.get_entry(conn, who, entry_id)

    @app.post("/v1/hub/entries/{entry_id}/feedback", tags=["hub"])
    def feedback(entry_id: int, body: FeedbackIn, who: Member = Depends(member)) -> dict[str, Any]:
        verdict = hub_members.parse_enum(HubVerdict, body.verdict, "verdict")
        with hub_engine.begin() as conn:
            result = hub_store.feedback(
                conn, who, entry_id, verdict, note=body.note, dispute_votes=config.dispute_votes
            )
        notifier.changed()
        return result

    @app.delete("/v1/hub/entries/{entry_id}", tags=["hub"])
    def retract(entry_id: int, who: Member = Depends(member)) -> dict[str, Any]:
        with hub_engine.begin() as conn:
            result = hub_store.retract(conn, who, entry_id)
        notifier.changed()
        return result

    @app.post("/v1/hub/members", status_code=201, tags=["hub"])
    def add_member(body: MemberIn, who: Member = Depends(member)) -> dict[str, Any]:
        who.require(HubRole.ADMIN)
        role = hub_members.parse_enum(HubRole, body.role, "role")
        with hub_engine.begin() as conn:
            token = hub_members.add_member(conn, body.name, role, actor=who.actor)
        return {"name": body.name, "role": role.value, "token": token}

    @app.get("/v1/hub/ledger/verify", tags=["hub"])
    def verify(who: Member = Depends(member)) -> dict[str, Any]:
        who.require(HubRole.ADMIN)
        with reading(hub_engine) as conn:
            events = list(iter_events(conn))
        broken = verify_chain(events)
        return {"events": len(events), "intact": broken is None, "first_broken": broken}

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        with reading(hub_engine) as conn:
            return {"ok": True, "role": "hub", "head": hub_store.head(conn)}

    return app
