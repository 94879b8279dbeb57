"""Operations endpoints and request logging: `/livez`, `/readyz` (`/healthz` stays as the
liveness alias), Prometheus `/metrics`, and one JSON log line per request.

Liveness answers from the event loop without touching anything, so a busy worker pool cannot
make a healthy process look dead; readiness checks the database and queue with a short timeout,
so a load balancer stops sending work to a process that cannot store it. The request log holds
method, route, status, duration and a request id — never bodies, query strings or headers,
which may carry content or keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import takedown
from takedown.services.metrics import install_state_collector, metrics
from takedown.storage.db import reading

access_log = logging.getLogger("takedown.access")

READY_TIMEOUT = 2.0


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any `extra` fields."""

    _skip = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_json_logging(level: int = logging.INFO) -> None:
    """Route every logger through one JSON handler on stderr (entry points call this)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class RequestLogMiddleware:
    """Times every request; logs one line and feeds the latency histogram (ASGI, no buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics().requests.labels(scope["method"], route, str(status["code"])).observe(elapsed)
            if route not in ("/livez", "/healthz", "/metrics"):
                access_log.info(
                    "request",
                    extra={
                        "request_id": uuid.uuid4().hex[:16],
                        "method": scope["method"],
                        "route": route,
                        "path": scope.get("path", ""),
                        "status": status["code"],
                        "ms": round(elapsed * 1000, 2),
                    },
                )


def install(app: FastAPI) -> None:
    """Add the middleware and the ops routes to `app` (whose state holds the runtime)."""
    app.add_middleware(RequestLogMiddleware)
    runtime = app.state.runtime
    install_state_collector(runtime.engine, runtime.queue)

    @app.get("/livez", tags=["ops"], summary="Liveness: the process answers")
    @app.get("/healthz", tags=["ops"], summary="Alias of /livez")
    async def livez() -> dict[str, Any]:
        return {"ok": True, "version": takedown.__version__}

    @app.get("/readyz", tags=["ops"], summary="Readiness: database and queue reachable")
    async def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        for name, probe in (("database", _probe_database), ("queue", _probe_queue)):
            try:
                await asyncio.wait_for(asyncio.to_thread(probe, runtime), READY_TIMEOUT)
                checks[name] = "ok"
            except Exception as error:  # noqa: BLE001 - any failure means not ready
                checks[name] = f"unavailable: {type(error).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(metrics().registry), media_type=CONTENT_TYPE_LATEST)


def _probe_database(runtime: Any) -> None:
    with reading(runtime.engine) as conn:
        conn.execute(text("SELECT 1"))


def _probe_queue(runtime: Any) -> None:
    ping = getattr(runtime.queue, "ping", None)
    if ping is not None:
        ping()
