"""Appeals (internal complaints, DSA Art 20): an appeal reopens a decided case for a reviewer
other than the one who decided it; upholding keeps the decision, overturning restores the item
(a `restore` decision and webhook) and charges the error to the bank entries or detectors the
contested decision rested on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from takedown.core.cases import CaseEvent, CaseState
from takedown.core.decisions import ActionKind
from takedown.core.errors import Conflict, InvalidInput, NotFound
from takedown.review.ports import Row
from takedown.review.rules import (
    ENFORCING,
    Candidate,
    appeal_decision,
    appealable,
    check_appeal_window,
    check_not_original_decider,
    clean_reason,
    pick_appeal_reviewer,
)
from takedown.review.service import CaseService, Outcome, Reviewer


class AppealService(CaseService):
    """The case service plus appeals; same store, same transaction."""

    def appeal(self, item_id: str, *, appellant: str, reason: str, actor: str) -> dict[str, Any]:
        sub = self.store.submission(item_id)
        if sub is None:
            raise NotFound(f"no submitted item {item_id!r}")
        appellant = appellant.strip()
        if not appellant or len(appellant) > 256:
            raise InvalidInput("'appellant' must be 1 to 256 characters")
        text = clean_reason(reason)
        submission_id = int(sub["id"])
        if self.store.stage_decision(submission_id, "appeal") is not None:
            raise Conflict(f"item {item_id!r} was already appealed and the appeal decided")
        current = self.store.latest_decision(submission_id)
        if current is None:
            raise Conflict(
                f"item {item_id!r} has no decision yet", hint="appeal after it is decided"
            )
        contested_id, _stage, contested = current
        existing = self.store.appeal_for_decision(contested_id)
        if existing is not None:
            return self._appeal_json(existing, created=False)
        appealable(contested)
        found = self.store.decision(contested_id)
        assert found is not None
        check_appeal_window(found[0]["created_at"], datetime.now(UTC))
        case = self.store.latest_case(submission_id)
        if case is None:
            case_id = self.store.open_case(
                submission_id,
                state=CaseState.DECIDED.value,
                priority=0,
                label=contested.label,
                reason=contested.grounds,
            )
            case = self.store.case(case_id, lock=True)
            assert case is not None
        if case["state"] in (CaseState.OPEN.value, CaseState.ESCALATED.value):
            raise Conflict(
                f"item {item_id!r} is still waiting for its first human review",
                hint="a reviewer will look at it anyway; appeal against that decision",
            )
        case_id = int(case["id"])
        excluded = self.store.case_decider(case_id)
        assignee = pick_appeal_reviewer(
            [Candidate(k, n) for k, n in self.store.reviewer_loads()],
            [] if excluded is None else [excluded],
        )
        self._move(case, CaseEvent.APPEAL)
        appeal_id = self.store.insert_appeal(
            case_id=case_id,
            submission_id=submission_id,
            contested_decision_id=contested_id,
            appellant=appellant,
            reason=text,
            excluded_key_id=excluded,
            assignee_key_id=assignee,
        )
        self.store.append_event(
            "appeal.filed",
            f"case:{case_id}",
            {
                "appeal_id": appeal_id,
                "item_id": item_id,
                "appellant": appellant,
                "reason": text,
                "contested_decision_id": contested_id,
                "excluded_key_id": excluded,
                "assignee_key_id": assignee,
            },
            actor=actor,
        )
        stored = self.store.appeal(appeal_id)
        assert stored is not None
        return self._appeal_json(stored, created=True)

    @staticmethod
    def _appeal_json(row: Row, *, created: bool) -> dict[str, Any]:
        return {
            "appeal_id": int(row["id"]),
            "case_id": int(row["case_id"]),
            "state": row["state"],
            "contested_decision_id": int(row["contested_decision_id"]),
            "assignee_key_id": row["assignee_key_id"],
            "created": created,
        }

    def decide_appeal(
        self,
        appeal_id: int,
        reviewer: Reviewer,
        *,
        outcome: str,
        reason: str,
        label: str | None = None,
    ) -> Outcome:
        appeal = self.store.appeal(appeal_id, lock=True)
        if appeal is None:
            raise NotFound(f"no appeal {appeal_id}")
        if appeal["state"] != "open":
            raise Conflict(f"appeal {appeal_id} is already {appeal['state']}")
        excluded = appeal["excluded_key_id"]
        check_not_original_decider(reviewer.key_id, None if excluded is None else int(excluded))
        contested_id = int(appeal["contested_decision_id"])
        found = self.store.decision(contested_id)
        assert found is not None
        contested = found[1]
        decision = appeal_decision(
            outcome=outcome, contested=contested, reason=reason, actor=reviewer.actor, label=label
        )
        case = self._case(int(appeal["case_id"]))
        event = CaseEvent.OVERTURN if outcome == "overturn" else CaseEvent.UPHOLD
        self._move(case, event, label=decision.label)
        submission_id = int(appeal["submission_id"])
        decision_id = self._write(
            submission_id,
            "appeal",
            decision,
            int(case["id"]),
            supersedes=contested_id,
            appeal_id=appeal_id,
        )
        state = "overturned" if outcome == "overturn" else "upheld"
        if not self.store.finish_appeal(
            appeal_id, state=state, outcome_decision_id=decision_id, decided_by=reviewer.actor
        ):
            raise Conflict(f"appeal {appeal_id} was decided by someone else meanwhile")
        self.store.insert_review(
            case_id=int(case["id"]),
            kind=outcome,
            key_id=reviewer.key_id,
            actor=reviewer.actor,
            decision_id=decision_id,
            reason=decision.grounds,
        )
        self.store.append_event(
            "appeal.decided",
            f"case:{case['id']}",
            {
                "appeal_id": appeal_id,
                "outcome": state,
                "decision_id": decision_id,
                "contested_decision_id": contested_id,
            },
            actor=reviewer.actor,
        )
        if decision.action is ActionKind.RESTORE and contested.action in ENFORCING:
            self._false_positive(contested_id, contested, submission_id, "appeal", reviewer.actor)
        return Outcome(int(case["id"]), decision_id, decision)
