"""What a human decision is, and who may make it.

A reviewer's choice becomes a Decision like the automated one, so the same webhook, ledger and
statement-of-reasons code serves both; its provenance keeps the automated evidence (bank entries,
detectors) it rests on and names the person, so an overturn can be charged to the right entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.errors import Conflict, Forbidden, InvalidInput
from takedown.core.taxonomy import VIOLATING, TvecLabel, parse_label

HUMAN_POLICY = "human-review"
HUMAN_POLICY_VERSION = "1"
MAX_REASON_CHARS = 2000
APPEAL_WINDOW = timedelta(days=183)

# What a reviewer may choose; `restore` is derived (no action on removed content), never chosen.
HUMAN_ACTIONS: frozenset[ActionKind] = frozenset(
    {ActionKind.REMOVE, ActionKind.RESTRICT, ActionKind.SUSPEND, ActionKind.NONE}
)
ENFORCING: frozenset[ActionKind] = frozenset(
    {ActionKind.REMOVE, ActionKind.RESTRICT, ActionKind.SUSPEND}
)
NON_VIOLATING: frozenset[str] = frozenset(
    {TvecLabel.NOT_TVEC.value, TvecLabel.NEWS_EXCEPTION.value}
)

# Priorities share the policy's scale (the default policy uses 20-100). A user report about an
# item with no case opens one at the policy's notice priority; each further report raises an
# undecided case a step, never past removal orders and threats to life; escalation puts a case
# at the top, beside removal orders.
REPORT_CASE_PRIORITY = 20
REPORT_PRIORITY_STEP = 10
MAX_PRIORITY = 100
REPORT_PRIORITY_CAP = 90


def parse_action(value: str) -> ActionKind:
    try:
        action = ActionKind(value.strip().lower())
    except ValueError:
        action = None
    if action not in HUMAN_ACTIONS:
        allowed = ", ".join(sorted(a.value for a in HUMAN_ACTIONS))
        raise InvalidInput(f"a reviewer cannot decide {value!r}", hint=f"use one of: {allowed}")
    return action


def clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(
            "a decision needs a reason", hint="the reason goes into the statement of reasons"
        )
    if len(text) > MAX_REASON_CHARS:
        raise InvalidInput(f"the reason is longer than {MAX_REASON_CHARS} characters")
    return text


def human_decision(
    *,
    action: str,
    label: str,
    reason: str,
    actor: str,
    stage: str,
    prior: Decision | None,
) -> Decision:
    """A reviewer's decision. No action on content that was removed becomes a `restore`."""
    kind = parse_action(action)
    tvec = parse_label(label).value
    grounds = clean_reason(reason)
    if kind in ENFORCING and tvec in NON_VIOLATING:
        raise InvalidInput(
            f"{kind.value} needs a violating label, not {tvec}",
            hint=", ".join(sorted(v.value for v in VIOLATING)),
        )
    if kind is ActionKind.NONE and tvec not in NON_VIOLATING:
        raise InvalidInput(
            f"no action with the violating label {tvec} is contradictory",
            hint="label it TVEC0 (not TVEC) or TVEC.01 (news/documentary exception)",
        )
    if kind is ActionKind.NONE and prior is not None and prior.action in ENFORCING:
        kind = ActionKind.RESTORE
    return Decision(
        action=kind,
        label=tvec,
        grounds=grounds,
        automated_detection=prior.automated_detection if prior else False,
        automated_decision=False,
        provenance=_provenance(stage, kind.value, actor, prior),
    )


def appeal_decision(
    *, outcome: str, contested: Decision, reason: str, actor: str, label: str | None = None
) -> Decision:
    """Uphold keeps the contested action; overturn restores the item."""
    grounds = clean_reason(reason)
    if outcome == "uphold":
        return Decision(
            action=contested.action,
            label=contested.label,
            grounds=grounds,
            automated_detection=contested.automated_detection,
            automated_decision=False,
            provenance=_provenance("appeal", "uphold", actor, contested),
        )
    if outcome != "overturn":
        raise InvalidInput(f"unknown appeal outcome {outcome!r}", hint="use uphold or overturn")
    tvec = parse_label(label or TvecLabel.NOT_TVEC.value).value
    if tvec not in NON_VIOLATING:
        raise InvalidInput(
            f"an overturned item cannot keep the violating label {tvec}",
            hint="use TVEC0 or TVEC.01",
        )
    return Decision(
        action=ActionKind.RESTORE,
        label=tvec,
        grounds=grounds,
        automated_detection=contested.automated_detection,
        automated_decision=False,
        provenance=_provenance("appeal", "overturn", actor, contested),
    )


def _provenance(stage: str, what: str, actor: str, prior: Decision | None) -> Provenance:
    return Provenance(
        policy=HUMAN_POLICY,
        policy_version=HUMAN_POLICY_VERSION,
        rule=f"{stage}:{what}",
        detectors=prior.provenance.detectors if prior else (),
        entry_ids=prior.provenance.entry_ids if prior else (),
        actor=actor,
    )


def check_appeal_window(decided_at: datetime, now: datetime) -> None:
    """DSA Art 20(1): complaints are possible for at least six months after the decision."""
    if now - decided_at > APPEAL_WINDOW:
        raise Conflict(
            f"the decision is older than {APPEAL_WINDOW.days} days and can no longer be appealed",
            hint="out-of-court dispute settlement and the courts remain open",
        )


def appealable(decision: Decision) -> None:
    if decision.action not in ENFORCING:
        raise InvalidInput(
            f"a decision with action {decision.action.value} cannot be appealed",
            hint="only remove, restrict and suspend decisions can be appealed",
        )


@dataclass(frozen=True)
class Candidate:
    key_id: int
    open_appeals: int


def pick_appeal_reviewer(candidates: Sequence[Candidate], excluded: Iterable[int]) -> int | None:
    """The least-loaded reviewer who did not make the contested decision (None: nobody else)."""
    barred = set(excluded)
    eligible = [c for c in candidates if c.key_id not in barred]
    if not eligible:
        return None
    return min(eligible, key=lambda c: (c.open_appeals, c.key_id)).key_id


def check_not_original_decider(key_id: int, excluded: int | None) -> None:
    if excluded is not None and key_id == excluded:
        raise Forbidden(
            "you made the decision under appeal; another reviewer must decide the appeal",
            hint="appeals go to a different reviewer (DSA Art 20(6))",
        )


def false_positive_targets(decision: Decision) -> list[tuple[int | None, str | None]]:
    """What an overturn charges: each bank entry, else each detector, the decision rested on."""
    if decision.provenance.entry_ids:
        return [(entry_id, None) for entry_id in decision.provenance.entry_ids]
    return [(None, detector) for detector in decision.provenance.detectors]
