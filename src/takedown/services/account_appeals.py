"""Account decisions by people: a reviewer decides an account case (or acts on an account
directly), the account holder appeals a suspension or restriction, and a lead — never the
person who decided — upholds or overturns it. Overturning reinstates the account
(`account.reinstated`, a webhook, Mastodon unsuspend or unsilence) and drops it from the evader
index, so a wrongly suspended account is no longer a reference for "ban evasion". The case
states and transitions are the item cases' own (core/cases.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from takedown.accounts.model import AccountState
from takedown.core.cases import CaseEvent, CaseState, transition
from takedown.core.decisions import ActionKind
from takedown.core.errors import Conflict, InvalidInput, NotFound
from takedown.policy.accounts import AccountAction, AccountContext, AccountVerdict
from takedown.review.rules import clean_reason
from takedown.storage import accounts as store
from takedown.storage.ledger import append_event

if TYPE_CHECKING:
    from takedown.services.accounts import AccountService

REVERSIBLE = {AccountAction.SUSPEND: ActionKind.SUSPEND,
              AccountAction.RESTRICT: ActionKind.RESTRICT}


class AccountAppeals:
    def __init__(self, service: AccountService) -> None:
        self.service = service

    def decide_by_reviewer(self, account_id: str, *, action: str, reason: str, actor: str
                           ) -> dict[str, Any]:
        """A person decides an account case (or acts on an account directly)."""
        try:
            chosen = AccountAction(action)
        except ValueError:
            raise InvalidInput(f"unknown account action {action!r}",
                               hint="one of none, warn, restrict, suspend") from None
        if chosen is AccountAction.REVIEW:
            raise InvalidInput("a reviewer decides; 'review' is not a decision")
        text = clean_reason(reason)
        now = datetime.now(UTC)
        with self.service.engine.begin() as conn:
            row = store.get(conn, account_id)
            if row is None:
                raise NotFound(f"no account {account_id!r}")
            stats = store.stats_of(row)
            context = AccountContext(risk=float(row["risk"]), evader=float(row["evader_score"]),
                                     reports=store.report_count(conn, account_id),
                                     posts=stats.posts,
                                     label=str(stats.extra.get("label") or "TVEC0"))
            policy = self.service.policy
            verdict = AccountVerdict(chosen, context.label, text, "reviewer", policy.name,
                                     policy.version_tag, 0, f"decided by {actor}")
            for case in store.cases_for(conn, account_id):
                if case["state"] == CaseState.OPEN.value:
                    store.update_case(conn, int(case["id"]), state=transition(
                        CaseState.OPEN, CaseEvent.DECIDE).value, decided_by=actor,
                        updated_at=now)
            result = self.service.decide_verdict(conn, account_id, verdict, context,
                                                 actor=actor, now=now)
            if chosen in (AccountAction.NONE, AccountAction.WARN):
                store.save(conn, account_id, stats={**stats.to_json(), "extra": {
                    **stats.extra, "cleared_risk": float(row["risk"])}})
        return result


    def appeal(self, account_id: str, *, appellant: str, reason: str, actor: str
               ) -> dict[str, Any]:
        text = clean_reason(reason)
        appellant = appellant.strip()
        if not appellant or len(appellant) > 256:
            raise InvalidInput("'appellant' must be 1 to 256 characters")
        now = datetime.now(UTC)
        with self.service.engine.begin() as conn:
            decided = [c for c in store.cases_for(conn, account_id)
                       if c["state"] == CaseState.DECIDED.value]
            if not decided:
                raise Conflict(f"account {account_id!r} has no decided case to appeal",
                               hint="only a suspension or restriction can be appealed")
            case = decided[-1]
            state = transition(CaseState.DECIDED, CaseEvent.APPEAL)
            store.update_case(conn, int(case["id"]), state=state.value, appellant=appellant,
                              appeal_reason=text, updated_at=now)
            append_event(conn, "account.appealed", f"account:{account_id}",
                         {"account_id": account_id, "case_id": int(case["id"])}, actor=actor)
        return {"case_id": int(case["id"]), "state": state.value}

    def decide_appeal(self, case_id: int, *, outcome: str, reason: str, actor: str
                      ) -> dict[str, Any]:
        event = {"uphold": CaseEvent.UPHOLD, "overturn": CaseEvent.OVERTURN}.get(outcome)
        if event is None:
            raise InvalidInput(f"unknown appeal outcome {outcome!r}", hint="uphold or overturn")
        text = clean_reason(reason)
        now = datetime.now(UTC)
        with self.service.engine.begin() as conn:
            case = store.case(conn, case_id)
            if case is None:
                raise NotFound(f"no account case {case_id}")
            state = transition(CaseState(case["state"]), event)
            if case.get("decided_by") == actor:
                raise Conflict("the person who decided the account may not rule on its appeal")
            account_id = str(case["account_id"])
            store.update_case(conn, case_id, state=state.value, decided_by=actor,
                              updated_at=now)
            append_event(conn, "account.appeal_decided", f"account:{account_id}",
                         {"account_id": account_id, "case_id": case_id,
                          "outcome": state.value, "reason": text}, actor=actor)
            if state is CaseState.OVERTURNED:
                self._reinstate(conn, account_id, case, text, actor, now)
        return {"case_id": case_id, "state": state.value}

    def _reinstate(self, conn: Connection, account_id: str, case: dict[str, Any], reason: str,
                   actor: str, now: datetime) -> None:
        contested = next((d for d in store.decisions_for(conn, account_id)
                          if d["id"] == case["decision_id"]), None)
        prior = AccountAction(contested["action"]) if contested else AccountAction.SUSPEND
        policy = self.service.policy
        verdict = AccountVerdict(AccountAction.NONE, "TVEC0", reason, "appeal-overturned",
                                 policy.name, policy.version_tag, 0, "appeal")
        decision_id = store.insert_decision(
            conn, account_id=account_id, action="reinstate", label="TVEC0",
            rule="appeal-overturned", proactive=False, actor=actor,
            body={**verdict.to_json(), "reverses": prior.value}, now=now)
        stats = store.get(conn, account_id)
        extra = store.stats_of(stats).extra if stats else {}
        store.save(conn, account_id, state=AccountState.ACTIVE.value, evader_score=0.0,
                   updated_at=now, stats={**(store.stats_of(stats).to_json() if stats else {}),
                                          "extra": {**extra, "cleared_risk": 1.0}})
        append_event(conn, "account.reinstated", f"account:{account_id}",
                     {"account_id": account_id}, actor=actor)
        self.service.send(conn, account_id, decision_id, verdict, False, topic="account_reinstated",
                   reverses=REVERSIBLE.get(prior, ActionKind.SUSPEND))
        with self.service.lock:
            self.service.index.remove(account_id)

