"""The reviewer's work behind one door: the JSON API, the reviewer UI and the Mastodon connector
read queues, cases, media and statements, and act on cases, through this service rather than
through storage, so the rules that go with each (tenancy, one transaction per action, waking
webhook delivery once it has committed) live in one place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

from takedown.config import Settings
from takedown.core.errors import NotFound
from takedown.review.appeals import AppealService
from takedown.review.statement import statement_from_facts
from takedown.storage import casework, statements
from takedown.storage import submissions as submission_store
from takedown.storage.reviews import SqlReviewStore


class Casework:
    def __init__(self, engine: Engine, settings: Settings, delivery_wake: threading.Event) -> None:
        self.engine = engine
        self.settings = settings
        self.delivery_wake = delivery_wake

    @contextmanager
    def acting(self, *, tenant: str | None = None) -> Iterator[AppealService]:
        """One transaction for decisions, escalations, reports and appeals; `tenant` limits
        which items reports and appeals may name (an integrator's own). Delivery is woken
        only after the commit, so the webhooks it finds are the ones just decided."""
        with self.engine.begin() as conn:
            yield AppealService(
                SqlReviewStore(conn, tenant=tenant),
                webhook_urls=self.settings.webhook_urls,
                tenant_webhooks=self.settings.tenant_webhook_urls,
            )
        self.delivery_wake.set()

    def queue(self, states: Sequence[str] = ("open",), limit: int = 200) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return casework.queue(conn, states=states, limit=limit)

    def appeals(
        self, *, state: str = "open", assignee: int | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return casework.appeal_queue(conn, state=state, assignee=assignee, limit=limit)

    def case(self, case_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return casework.case_detail(conn, case_id)

    def media(self, case_id: int) -> tuple[str, bytes, dict[str, Any]]:
        with self.engine.connect() as conn:
            return statements.media(conn, case_id)

    def statement(self, decision_id: int, *, tenant: str | None = None) -> dict[str, Any]:
        """The statement of reasons (DSA Art 17) for one decision; a tenant reads only
        statements about its own items, and another's is as absent as a missing one."""
        with self.engine.connect() as conn:
            if tenant is not None and submission_store.tenant_of_decision(
                conn, decision_id
            ) != tenant:
                raise NotFound(f"no decision {decision_id}")
            return statement_from_facts(statements.statement_facts(conn, decision_id))
