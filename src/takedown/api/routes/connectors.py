"""Platform connectors. Mastodon's admin webhooks arrive here: the `X-Hub-Signature` is the
authentication (no API key), the body is verified raw before it is parsed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from takedown.api.routes.review import casework_of
from takedown.core.errors import Unavailable
from takedown.services import ingest

router = APIRouter(prefix="/v1/connectors", tags=["connectors"])


@router.post("/mastodon/webhook", status_code=202)
async def mastodon_webhook(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    connector = runtime.mastodon
    if connector is None:
        raise Unavailable(
            "the Mastodon connector is not configured",
            hint="set TAKEDOWN_MASTODON_URL, _TOKEN and _WEBHOOK_SECRET",
        )
    event = connector.receive(request.headers, await request.body())
    accepted = ingest.accept(
        runtime.engine, runtime.queue, list(event.submissions), source="mastodon",
        actor="mastodon",
    )
    reported: list[dict[str, Any]] = []
    if event.report is not None:
        report = event.report
        reason = f"{report.category}: {report.comment}".strip(": ")
        reporter = f"mastodon:{report.reporter_account_id or 'remote'}"
        with casework_of(request).acting() as service:
            for item in event.submissions:
                reported.append(
                    service.report(item.item_id, reporter=reporter, reason=reason or "reported",
                                   actor="mastodon")
                )
    return JSONResponse(
        {"event": event.event, "items": [a.item_id for a in accepted], "reports": len(reported)},
        status_code=202,
    )
