"""ASGI guards around the whole app: bad input answered before routing, failures answered
without dropping the connection.

`InputGuardMiddleware` refuses NUL in the path or query and checks every JSON body with
`takedown.core.jsonsafe` (depth, long integers, lone surrogates, NUL, invalid UTF-8) before any
route sees it, so every endpoint, not only submissions, answers such input with a 400 and
stores nothing. The parsed body is left in the scope for routes that read the raw JSON.

`ErrorGuardMiddleware` answers any unexpected exception with a problem+json 500 and does not
re-raise it: Starlette's own last-resort handler re-raises after responding, and uvicorn then
closes the connection without a word. It logs the exception's type and route only, because the
message of a database or decoding error can quote the submitted content.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from takedown.core import jsonsafe
from takedown.core.errors import InvalidInput

log = logging.getLogger(__name__)

PARSED_JSON = "takedown.parsed_json"


async def send_problem(
    send: Send, status: int, title: str, detail: str, **extra: Any
) -> None:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            media = bytes(value).split(b";")[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            path = scope.get("path", "")
            if "\x00" in path or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
                raise InvalidInput("the URL contains a NUL character")
            jsonsafe.check_text(path, "the URL path")
        except InvalidInput as error:
            await send_problem(send, 400, error.title, error.message)
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        if raw.strip():
            try:
                scope[PARSED_JSON] = jsonsafe.loads(raw)
            except InvalidInput as error:
                extra = {"hint": error.hint} if error.hint else {}
                await send_problem(send, 400, error.title, error.message, **extra)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


class ErrorGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:  # noqa: BLE001 - the last resort: answer, never drop
            frames = traceback.extract_tb(error.__traceback__)
            log.error(
                "unhandled %s on %s %s at %s",
                type(error).__name__,
                scope.get("method"),
                scope.get("path"),
                " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-4:]),
            )
            if not started:
                await send_problem(
                    send, 500, "Internal error", "an unexpected error occurred; it was logged"
                )
