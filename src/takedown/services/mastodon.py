"""Mastodon wiring: webhooks in become submissions (and user reports), decisions out become
admin-API calls, carried by the same durable outbox as webhooks so they survive restarts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from takedown.actions.mastodon import MastodonConnector
from takedown.actions.mastodon_events import MastodonRef
from takedown.core.content import Submission
from takedown.core.decisions import ActionKind, Decision
from takedown.storage.outbox import OutboxMessage, enqueue

TOPIC = "mastodon"


def is_mastodon_item(submission: Submission) -> bool:
    return isinstance(submission.metadata.get("mastodon"), dict)


def enqueue_action(
    conn: Connection,
    submission: Submission,
    decision: Decision,
    decision_id: int,
    *,
    reverses: ActionKind | None = None,
) -> None:
    """Queue the admin-API calls for a decision on an item that came from Mastodon."""
    if not is_mastodon_item(submission) or decision.action in (ActionKind.NONE, ActionKind.QUEUE):
        return
    ref = MastodonRef.from_submission(submission)
    payload: dict[str, Any] = {
        "decision": decision.to_json(),
        "decision_id": decision_id,
        "ref": ref.to_json(),
        "reverses": reverses.value if reverses else None,
    }
    enqueue(conn, key=f"mastodon-{decision_id}", target="mastodon", topic=TOPIC, payload=payload)


def sender_for(connector: MastodonConnector) -> Any:
    def send(message: OutboxMessage) -> None:
        payload = message.payload
        reverses = payload.get("reverses")
        connector.execute(
            Decision.from_json(payload["decision"]),
            MastodonRef.from_json(payload["ref"]),
            decision_id=str(payload["decision_id"]),
            reverses=ActionKind(reverses) if reverses else None,
        )

    return send
