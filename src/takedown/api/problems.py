"""Errors as RFC 9457 problem+json, mapped from the TakedownError tree in this one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from takedown.core.errors import (
    AuthError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
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
    (RateLimited, 429),
    (Unavailable, 503),
)


def status_for(error: TakedownError) -> int:
    for cls, code in STATUS:
        if isinstance(error, cls):
            return code
    return 500


def problem(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(TakedownError)
    async def _takedown_error(_request: Request, error: TakedownError) -> JSONResponse:
        extra = {"hint": error.hint} if error.hint else {}
        headers = (
            {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
        )
        return problem(status_for(error), error.title, error.message, headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in error.errors()]
        return problem(
            422, "Invalid request", "the request does not match the schema", errors=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, "HTTP error", str(error.detail))

    @app.exception_handler(DataError)
    async def _data(_request: Request, error: DataError) -> JSONResponse:
        # Input checks refuse what databases cannot store; this is the backstop. The driver's
        # message can quote the value, so only its class is logged.
        log.warning("database refused a value: %s", type(error.orig).__name__)
        return problem(
            400, "Invalid input", "the database cannot store a value in this request",
            hint="check for NUL characters, lone surrogates or out-of-range numbers",
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, error: IntegrityError) -> JSONResponse:
        log.warning("integrity conflict: %s", type(error.orig).__name__)
        return problem(
            409, "Conflict", "a concurrent request changed the same record", hint="retry"
        )

    @app.exception_handler(UnicodeError)
    async def _unicode(_request: Request, _error: UnicodeError) -> JSONResponse:
        return problem(400, "Invalid input", "a value in this request is not valid Unicode")

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, _error: OverflowError) -> JSONResponse:
        return problem(
            400, "Invalid input", "a number in this request is out of range",
            hint="identifiers and counts fit in signed 64 bits",
        )

    @app.exception_handler(RecursionError)
    async def _recursion(_request: Request, _error: RecursionError) -> JSONResponse:
        return problem(400, "Invalid input", "a value in this request is nested too deeply")
