"""Errors as RFC 9457 problem+json, mapped from the TakedownError tree in this one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from takedown.core.errors import (
    AuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TakedownError,
    Unavailable,
    UnsupportedMediaType,
)

log = logging.getLogger(__name__)

STATUS: tuple[tuple[type[TakedownError], int], ...] = (
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (InvalidInput, 400),
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (AuthError, 401),
    (Unavailable, 503),
)


def status_for(error: TakedownError) -> int:
    for cls, code in STATUS:
        if isinstance(error, cls):
            return code
    return 500


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(TakedownError)
    async def _takedown_error(_request: Request, error: TakedownError) -> JSONResponse:
        extra = {"hint": error.hint} if error.hint else {}
        return problem(status_for(error), error.title, error.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in error.errors()]
        return problem(
            422, "Invalid request", "the request does not match the schema", errors=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, "HTTP error", str(error.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal error", "an unexpected error occurred; it was logged")
