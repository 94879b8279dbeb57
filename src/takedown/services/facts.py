"""Facts about an item that live in storage, for the policy: user reports, account history,
removal orders. Read at decision time so the policy itself stays pure.

The worker calls `prefetch` with a whole batch first: two grouped queries instead of two per
item; `__call__` then answers from that cache (and reads storage for anything not prefetched).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from sqlalchemy import Engine, func, select

from takedown.core.content import Submission
from takedown.core.tenancy import account_key
from takedown.policy import ItemFacts
from takedown.storage.account_tables import accounts
from takedown.storage.db import reading
from takedown.storage.tables import decisions, reports, submissions

ENFORCING = ("remove", "suspend")
MAX_CACHED = 10_000
"""Prefetched facts of items that then failed are never used; the cache is dropped past this."""


class StoredFacts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: dict[tuple[str, str], ItemFacts] = {}
        self._lock = threading.Lock()

    def prefetch(self, items: Sequence[Submission]) -> None:
        """Read the facts of many items at once; each is used once by `__call__`. Reports and
        account history count within the item's tenant only: another integrator's item "42"
        or account "u1" is somebody else's."""
        item_ids = sorted({s.item_id for s in items})
        tenants = sorted({s.tenant for s in items})
        accounts = sorted({s.account_id for s in items if s.account_id})
        with reading(self.engine) as conn:
            reported: dict[tuple[str, str], int] = {
                (str(tenant), str(item)): int(n)
                for tenant, item, n in conn.execute(
                    select(submissions.c.tenant, submissions.c.item_id, func.count())
                    .select_from(
                        reports.join(submissions, submissions.c.id == reports.c.submission_id)
                    )
                    .where(submissions.c.item_id.in_(item_ids), submissions.c.tenant.in_(tenants))
                    .group_by(submissions.c.tenant, submissions.c.item_id)
                ).all()
            }
            prior: dict[tuple[str, str], int] = {}
            own: set[tuple[str, str]] = set()
            if accounts:
                enforcing = decisions.join(
                    submissions, submissions.c.id == decisions.c.submission_id
                )
                prior = {
                    (str(tenant), str(account)): int(n)
                    for tenant, account, n in conn.execute(
                        select(
                            submissions.c.tenant,
                            submissions.c.account_id,
                            func.count(func.distinct(decisions.c.submission_id)),
                        )
                        .select_from(enforcing)
                        .where(
                            submissions.c.account_id.in_(accounts),
                            submissions.c.tenant.in_(tenants),
                            decisions.c.action.in_(ENFORCING),
                        )
                        .group_by(submissions.c.tenant, submissions.c.account_id)
                    ).all()
                }
                own = {
                    (str(tenant), str(item))
                    for tenant, item in conn.execute(
                        select(submissions.c.tenant, submissions.c.item_id)
                        .select_from(enforcing)
                        .where(
                            submissions.c.item_id.in_(item_ids),
                            submissions.c.tenant.in_(tenants),
                            decisions.c.action.in_(ENFORCING),
                        )
                    ).all()
                }
        facts = {
            (s.tenant, s.item_id): ItemFacts(
                report_count=int(reported.get((s.tenant, s.item_id), 0)),
                removal_order=bool(s.metadata.get("removal_order")),
                account_risk=account_risk(
                    prior.get((s.tenant, s.account_id), 0) - ((s.tenant, s.item_id) in own)
                    if s.account_id else 0
                ),
            )
            for s in items
        }
        with self._lock:
            if len(self._cache) > MAX_CACHED:
                self._cache.clear()
            self._cache.update(facts)

    def __call__(self, submission: Submission) -> ItemFacts:
        with self._lock:
            cached = self._cache.pop((submission.tenant, submission.item_id), None)
        if cached is not None:
            return cached
        mine = submissions.c.tenant == submission.tenant
        with reading(self.engine) as conn:
            report_count = conn.execute(
                select(func.count())
                .select_from(reports.join(submissions, submissions.c.id == reports.c.submission_id))
                .where(submissions.c.item_id == submission.item_id, mine)
            ).scalar_one()
            prior = 0
            if submission.account_id:
                prior = conn.execute(
                    select(func.count(func.distinct(decisions.c.submission_id)))
                    .select_from(
                        decisions.join(submissions, submissions.c.id == decisions.c.submission_id)
                    )
                    .where(
                        submissions.c.account_id == submission.account_id,
                        mine,
                        submissions.c.item_id != submission.item_id,
                        decisions.c.action.in_(ENFORCING),
                    )
                ).scalar_one()
            stored = 0.0
            if submission.account_id:
                key = account_key(submission.tenant, submission.account_id)
                stored = conn.execute(select(accounts.c.risk).where(
                    accounts.c.account_id == key)).scalar() or 0.0
        return ItemFacts(
            report_count=int(report_count),
            removal_order=bool(submission.metadata.get("removal_order")),
            account_risk=max(account_risk(int(prior)), min(1.0, float(stored))),
        )


def account_risk(prior_removals: int) -> float:
    """0 for a clean account, ½ after one removal, ¾ after two, approaching 1."""
    return 1.0 - 0.5 ** max(0, prior_removals)
