"""Adapting a Policy to the pipeline's `decide(submission, findings) -> Decision` seam.

The pipeline knows the submission and its findings; the other facts a policy may use (user
report count, removal order, account risk) live in storage. They come in through `facts`, a
function the service layer supplies, so the policy package stays free of storage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from takedown.core.content import Submission
from takedown.core.decisions import Decision
from takedown.core.findings import Finding
from takedown.policy.context import context_for
from takedown.policy.engine import evaluate
from takedown.policy.model import Policy


@dataclass(frozen=True)
class ItemFacts:
    """What the platform and authorities said about an item, beside detection."""

    report_count: int = 0
    removal_order: bool = False
    account_risk: float = 0.0


NO_FACTS = ItemFacts()


class PolicyDecider:
    """Callable with the pipeline's DecideFn signature: `decider(submission, findings)`."""

    def __init__(self, policy: Policy,
                 facts: Callable[[Submission], ItemFacts] | None = None) -> None:
        self.policy = policy
        self._facts = facts

    def __call__(self, submission: Submission, findings: Sequence[Finding]) -> Decision:
        facts = self._facts(submission) if self._facts is not None else NO_FACTS
        context = context_for(
            submission,
            findings,
            account_risk=facts.account_risk,
            report_count=facts.report_count,
            removal_order=facts.removal_order,
        )
        return evaluate(self.policy, context)
