"""The FastAPI application: create_app(settings) wires routes, limits, errors and the runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

import takedown
from takedown.api import ops, problems
from takedown.api.guards import ErrorGuardMiddleware, InputGuardMiddleware
from takedown.api.limits import BodyLimitMiddleware
from takedown.api.routes import (
    accounts,
    appeals,
    audit,
    banks,
    connectors,
    ledger,
    lookup,
    removal_orders,
    reports,
    review,
    submissions,
)
from takedown.config import Settings
from takedown.core.redact import install_log_redaction
from takedown.services.ratelimit import make_limiter
from takedown.services.runtime import Runtime
from takedown.web.pages import mount as mount_review_ui


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, start_workers: bool = True
) -> FastAPI:
    """Build the app; with `start_workers` the in-process worker and deliverer run beside it."""
    install_log_redaction()
    owned = runtime is None
    rt = runtime or Runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            rt.start()
        try:
            yield
        finally:
            # A runtime built here is closed here, so its connection pool does not outlive
            # the app (test suites build hundreds); one passed in belongs to the caller.
            if owned:
                rt.close()
            else:
                rt.stop()

    app = FastAPI(
        title="Takedown",
        version=takedown.__version__,
        description="Find and remove terrorist propaganda quickly, fairly and transparently.",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    app.state.settings = settings
    app.state.rate_limiter = make_limiter(
        settings.rate_limit_per_second, settings.rate_limit_burst, settings.queue_url
    )
    problems.install(app)
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ErrorGuardMiddleware)
    for module in (submissions, banks, ledger, lookup, reports, appeals, review, connectors,
                   accounts):
        app.include_router(module.router)
    for module in (removal_orders, audit):  # accountability (legal/, reports/)
        app.include_router(module.router)
    mount_review_ui(app)

    ops.install(app)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return (
            "<!doctype html><title>Takedown</title><h1>Takedown</h1>"
            "<p><a href='/review/'>Review workbench</a> · API docs: <a href='/docs'>/docs</a></p>"
        )

    return app
