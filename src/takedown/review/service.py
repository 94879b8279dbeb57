"""The case service: decide, escalate, bulk-decide and user reports (appeals: review.appeals).

Each method runs inside one transaction the caller opened (the store wraps it), so a decision,
its case transition, its webhooks and its ledger events are committed together or not at all.
Case moves are compare-and-set on the state, so two reviewers racing on one case cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from takedown.core.cases import CaseEvent, CaseState, transition
from takedown.core.decisions import ActionKind, Decision, webhook_key, webhook_targets
from takedown.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.review.ports import ReviewStore, Row
from takedown.review.rules import (
    MAX_PRIORITY,
    REPORT_CASE_PRIORITY,
    REPORT_PRIORITY_CAP,
    REPORT_PRIORITY_STEP,
    clean_reason,
    false_positive_targets,
    human_decision,
)

MAX_BULK = 200


@dataclass(frozen=True)
class Reviewer:
    """The person acting: their key id (for 'a different reviewer'), ledger actor, and rank."""

    key_id: int
    actor: str
    is_lead: bool = False


@dataclass(frozen=True)
class Outcome:
    case_id: int
    decision_id: int
    decision: Decision

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "decision_id": self.decision_id,
            "decision": self.decision.to_json(),
        }


class CaseService:
    def __init__(
        self,
        store: ReviewStore,
        *,
        webhook_urls: Sequence[str] = (),
        tenant_webhooks: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`webhook_urls` hear of every decision; each (tenant, url) of `tenant_webhooks`
        only of decisions on that tenant's items."""
        self.store = store
        self.webhook_urls = tuple(webhook_urls)
        self.tenant_webhooks = tuple(tenant_webhooks)

    # -- reviewing -------------------------------------------------------------------------

    def _case(self, case_id: int) -> Row:
        case = self.store.case(case_id, lock=True)
        if case is None:
            raise NotFound(f"no case {case_id}")
        return case

    def _move(self, case: Row, event: CaseEvent, **values: Any) -> CaseState:
        state = CaseState(case["state"])
        new = transition(state, event)
        if not self.store.move_case(int(case["id"]), state.value, new.value, **values):
            raise Conflict(f"case {case['id']} changed while you were deciding; reload it")
        return new

    def decide(
        self, case_id: int, reviewer: Reviewer, *, action: str, label: str, reason: str
    ) -> Outcome:
        case = self._case(case_id)
        if case["state"] == CaseState.ESCALATED.value and not reviewer.is_lead:
            raise Forbidden(
                f"case {case_id} is escalated; only a lead can decide it",
                hint="ask a lead, or use a lead's key",
            )
        submission_id = int(case["submission_id"])
        prior = self.store.latest_decision(submission_id)
        decision = human_decision(
            action=action,
            label=label,
            reason=reason,
            actor=reviewer.actor,
            stage="review",
            prior=prior[2] if prior else None,
        )
        self._move(case, CaseEvent.DECIDE, label=decision.label, assignee=reviewer.actor)
        decision_id = self._write(
            submission_id, "review", decision, case_id, supersedes=prior[0] if prior else None
        )
        self.store.insert_review(
            case_id=case_id,
            kind="decide",
            key_id=reviewer.key_id,
            actor=reviewer.actor,
            decision_id=decision_id,
            reason=decision.grounds,
        )
        self.store.append_event(
            "case.decided",
            f"case:{case_id}",
            {"decision_id": decision_id, "action": decision.action.value, "label": decision.label},
            actor=reviewer.actor,
        )
        if decision.action is ActionKind.RESTORE and prior is not None:
            self._false_positive(prior[0], prior[2], submission_id, "review", reviewer.actor)
        return Outcome(case_id, decision_id, decision)

    def escalate(self, case_id: int, reviewer: Reviewer, *, reason: str) -> None:
        case = self._case(case_id)
        text = clean_reason(reason)
        self._move(case, CaseEvent.ESCALATE, priority=max(int(case["priority"]), MAX_PRIORITY))
        self.store.insert_review(
            case_id=case_id,
            kind="escalate",
            key_id=reviewer.key_id,
            actor=reviewer.actor,
            decision_id=None,
            reason=text,
        )
        self.store.append_event(
            "case.escalated", f"case:{case_id}", {"reason": text}, actor=reviewer.actor
        )

    def bulk_decide(
        self, case_ids: Sequence[int], reviewer: Reviewer, *, action: str, label: str, reason: str
    ) -> list[Outcome]:
        """All or nothing: one bad case rolls the whole batch back with the caller's transaction."""
        ids = list(dict.fromkeys(case_ids))
        if not ids:
            raise InvalidInput("select at least one case")
        if len(ids) > MAX_BULK:
            raise InvalidInput(f"at most {MAX_BULK} cases at once, got {len(ids)}")
        return [
            self.decide(case_id, reviewer, action=action, label=label, reason=reason)
            for case_id in ids
        ]

    # -- notices (user reports) ------------------------------------------------------------

    def report(self, item_id: str, *, reporter: str, reason: str, actor: str) -> dict[str, Any]:
        """A user report raises the item's case priority, or opens a case if it has none."""
        sub = self.store.submission(item_id)
        if sub is None:
            raise NotFound(
                f"no submitted item {item_id!r}",
                hint="submit the item through POST /v1/submissions first",
            )
        reporter = reporter.strip()
        if not reporter or len(reporter) > 256:
            raise InvalidInput("'reporter' must be 1 to 256 characters")
        text = clean_reason(reason)
        submission_id = int(sub["id"])
        case = self.store.latest_case(submission_id)
        opened = False
        if case is None:
            prior = self.store.latest_decision(submission_id)
            label = prior[2].label if prior else "TVEC0"
            case_id = self.store.open_case(
                submission_id,
                state=CaseState.OPEN.value,
                priority=REPORT_CASE_PRIORITY,
                label=label,
                reason=f"User report: {text}"[:2000],
            )
            priority, opened = REPORT_CASE_PRIORITY, True
            self.store.append_event(
                "case.opened",
                f"case:{case_id}",
                {"item_id": item_id, "priority": priority, "label": label, "source": "user_report"},
                actor=actor,
            )
        else:
            case_id, priority = int(case["id"]), int(case["priority"])
            if case["state"] in (CaseState.OPEN.value, CaseState.ESCALATED.value):
                priority = max(priority, min(REPORT_PRIORITY_CAP, priority + REPORT_PRIORITY_STEP))
                self.store.set_priority(case_id, priority)
        report_id = self.store.insert_report(
            submission_id=submission_id, case_id=case_id, reporter=reporter, reason=text
        )
        self.store.append_event(
            "report.received",
            f"item:{item_id}",
            {
                "report_id": report_id,
                "source": "user_report",
                "reporter": reporter,
                "reason": text,
                "case_id": case_id,
                "case_opened": opened,
                "priority": priority,
            },
            actor=actor,
        )
        return {
            "report_id": report_id,
            "case_id": case_id,
            "case_opened": opened,
            "priority": priority,
            "reports": self.store.report_count(submission_id),
        }

    # -- shared ----------------------------------------------------------------------------

    def _write(
        self,
        submission_id: int,
        stage: str,
        decision: Decision,
        case_id: int,
        *,
        supersedes: int | None,
        appeal_id: int | None = None,
    ) -> int:
        taken = self.store.stage_decision(submission_id, stage)
        if taken is not None:
            raise Conflict(f"the item already has a {stage} decision ({taken})")
        sub = self.store.submission_by_row(submission_id)
        decision_id = self.store.insert_decision(submission_id, stage, decision)
        body = decision.to_json()
        context = {"case_id": case_id, "supersedes": supersedes, "appeal_id": appeal_id}
        self.store.append_event(
            "decision.made",
            f"item:{sub['item_id']}",
            {
                "decision_id": decision_id,
                "stage": stage,
                "account_id": sub["account_id"],
                "kind": sub["kind"],
                "decision": body,
                **context,
            },
            actor=decision.provenance.actor,
        )
        payload = {
            "type": "decision",
            "item_id": sub["item_id"],
            "account_id": sub["account_id"],
            "decision_id": decision_id,
            "stage": stage,
            "decision": body,
            **context,
        }
        topic = "restore" if decision.action is ActionKind.RESTORE else "decision"
        for target in webhook_targets(self.webhook_urls, self.tenant_webhooks, sub["tenant"]):
            key = webhook_key(decision_id, target)
            self.store.enqueue_webhook(
                key=key, target=target, topic=topic, payload={**payload, "id": key}
            )
        return decision_id

    def _false_positive(
        self, wrong_id: int, wrong: Decision, submission_id: int, source: str, actor: str
    ) -> None:
        """Charge the error to the bank entries or detectors the wrong decision rested on, so
        curators and model owners see error rates and hub feedback can be sent."""
        targets = false_positive_targets(wrong)
        for entry_id, detector in targets:
            self.store.insert_false_positive(
                decision_id=wrong_id,
                submission_id=submission_id,
                entry_id=entry_id,
                detector=detector,
                source=source,
            )
        sub = self.store.submission_by_row(submission_id)
        self.store.append_event(
            "feedback.false_positive",
            f"item:{sub['item_id']}",
            {
                "decision_id": wrong_id,
                "source": source,
                "entry_ids": [e for e, _ in targets if e is not None],
                "detectors": list(wrong.provenance.detectors),
                "rule": wrong.provenance.rule,
                "policy": wrong.provenance.policy,
                "policy_version": wrong.provenance.policy_version,
            },
            actor=actor,
        )
