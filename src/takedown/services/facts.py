"""Facts about an item that live in storage, for the policy: user reports, account history,
removal orders. Read at decision time so the policy itself stays pure."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from takedown.core.content import Submission
from takedown.policy import ItemFacts
from takedown.storage.account_tables import accounts
from takedown.storage.db import reading
from takedown.storage.tables import decisions, reports, submissions

ENFORCING = ("remove", "suspend")


class StoredFacts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, submission: Submission) -> ItemFacts:
        with reading(self.engine) as conn:
            report_count = conn.execute(
                select(func.count())
                .select_from(reports.join(submissions, submissions.c.id == reports.c.submission_id))
                .where(submissions.c.item_id == submission.item_id)
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
                        submissions.c.item_id != submission.item_id,
                        decisions.c.action.in_(ENFORCING),
                    )
                ).scalar_one()
            stored = 0.0
            if submission.account_id:
                stored = conn.execute(select(accounts.c.risk).where(
                    accounts.c.account_id == submission.account_id)).scalar() or 0.0
        return ItemFacts(
            report_count=int(report_count),
            removal_order=bool(submission.metadata.get("removal_order")),
            account_risk=max(account_risk(int(prior)), min(1.0, float(stored))),
        )


def account_risk(prior_removals: int) -> float:
    """0 for a clean account, ½ after one removal, ¾ after two, approaching 1."""
    return 1.0 - 0.5 ** max(0, prior_removals)
