"""Review cases as an explicit state machine, so an illegal move is an error, never a silent edit.

open ──decide──► decided ──appeal──► appealed ──uphold──► upheld
  │                                      └──overturn──► overturned
  └──escalate──► escalated ──decide──► decided
"""

from __future__ import annotations

from enum import StrEnum

from takedown.core.errors import IllegalTransition


class CaseState(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    DECIDED = "decided"
    APPEALED = "appealed"
    UPHELD = "upheld"
    OVERTURNED = "overturned"


class CaseEvent(StrEnum):
    DECIDE = "decide"
    ESCALATE = "escalate"
    APPEAL = "appeal"
    UPHOLD = "uphold"
    OVERTURN = "overturn"


TRANSITIONS: dict[tuple[CaseState, CaseEvent], CaseState] = {
    (CaseState.OPEN, CaseEvent.DECIDE): CaseState.DECIDED,
    (CaseState.OPEN, CaseEvent.ESCALATE): CaseState.ESCALATED,
    (CaseState.ESCALATED, CaseEvent.DECIDE): CaseState.DECIDED,
    (CaseState.DECIDED, CaseEvent.APPEAL): CaseState.APPEALED,
    (CaseState.APPEALED, CaseEvent.UPHOLD): CaseState.UPHELD,
    (CaseState.APPEALED, CaseEvent.OVERTURN): CaseState.OVERTURNED,
}


def transition(state: CaseState, event: CaseEvent) -> CaseState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s is state) or ["none"]
        raise IllegalTransition(
            f"a case that is {state.value} cannot {event.value}",
            hint=f"allowed from {state.value}: {', '.join(allowed)}",
        ) from None
