"""Statements of reasons (DSA Art 17): what was decided about an item, on what facts, how
automated it was, on which legal or contractual ground, and how to contest it.

One builder serves the reviewer UI, `GET /v1/decisions/{id}/statement` and (through the
transparency work) the Commission's database, so the `dsa` block uses that database's
vocabulary while the rest stays readable by the affected user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from takedown.core.decisions import ActionKind, Decision
from takedown.core.taxonomy import DESCRIPTIONS, VIOLATING, TvecLabel
from takedown.review.rules import APPEAL_WINDOW

TOS_GROUND = (
    "Terms of service: terrorist and violent extremist content is not allowed "
    "(Christchurch Call TVEC taxonomy)."
)
TCO_GROUND = "Regulation (EU) 2021/784 (TCO), Article 3: removal order by a competent authority."

VISIBILITY: dict[ActionKind, str] = {
    ActionKind.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    ActionKind.RESTRICT: "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    ActionKind.RESTORE: "DECISION_VISIBILITY_OTHER",
    ActionKind.NONE: "DECISION_VISIBILITY_OTHER",
    ActionKind.QUEUE: "DECISION_VISIBILITY_OTHER",
    ActionKind.ESCALATE: "DECISION_VISIBILITY_OTHER",
}
CONTENT_TYPE: dict[str, str] = {
    "text": "CONTENT_TYPE_TEXT",
    "image": "CONTENT_TYPE_IMAGE",
    "video": "CONTENT_TYPE_VIDEO",
    "url": "CONTENT_TYPE_OTHER",
    "file": "CONTENT_TYPE_OTHER",
}


@dataclass(frozen=True)
class StatementInput:
    decision_id: int
    stage: str
    decided_at: datetime
    decision: Decision
    item_id: str
    kind: str
    content_date: datetime
    findings: Sequence[dict[str, Any]] = ()
    report_count: int = 0
    removal_order: bool = False
    case_id: int | None = None
    appeal_id: int | None = None
    supersedes: Sequence[int] = field(default_factory=tuple)


def _automation(item: StatementInput) -> str:
    if item.decision.automated_decision:
        return "AUTOMATED_DECISION_FULLY"
    return (
        "AUTOMATED_DECISION_PARTIALLY"
        if item.decision.automated_detection
        else ("AUTOMATED_DECISION_NOT_AUTOMATED")
    )


def _source(item: StatementInput) -> str:
    if item.removal_order:
        return "SOURCE_TYPE_OTHER_NOTIFICATION"
    return "SOURCE_ARTICLE_16" if item.report_count else "SOURCE_VOLUNTARY"


def _facts(item: StatementInput) -> str:
    decision = item.decision
    parts = [decision.grounds]
    matches = [f for f in item.findings if f.get("bank")]
    if matches:
        described = ", ".join(
            f"{f['bank']} ({f.get('signal_type', '?')}, distance {f.get('distance', '?')})"
            for f in matches[:5]
        )
        parts.append(f"The content matched known terrorist content in: {described}.")
    scored = [f for f in item.findings if not f.get("bank")]
    if scored:
        parts.append(
            "Automated classification: "
            + ", ".join(f"{f['label']} {float(f['score']):.2f} ({f['detector']})" for f in scored)
            + "."
        )
    if item.report_count:
        parts.append(f"The item was reported by {item.report_count} user notice(s).")
    if item.removal_order:
        parts.append("A competent authority issued a removal order for the item.")
    if decision.action is ActionKind.RESTORE:
        parts.append("The earlier restriction was found to be wrong and the item is restored.")
    return " ".join(p for p in parts if p)[:5000]


def _ground(item: StatementInput) -> dict[str, Any]:
    label = item.decision.label
    restricts = item.decision.action in (ActionKind.REMOVE, ActionKind.RESTRICT, ActionKind.SUSPEND)
    if item.removal_order and restricts:
        return {
            "type": "DECISION_GROUND_ILLEGAL_CONTENT",
            "legal_ground": TCO_GROUND,
            "explanation": item.decision.grounds[:2000],
        }
    if restricts:
        return {
            "type": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "contractual_ground": TOS_GROUND,
            "explanation": item.decision.grounds[:2000],
            "incompatible_content_illegal": "Yes" if _violating(label) else "No",
        }
    return {"type": "NONE", "explanation": "No restriction applies to the item."}


def _violating(label: str) -> bool:
    return label in {v.value for v in VIOLATING}


def _label_text(label: str) -> str:
    try:
        return DESCRIPTIONS[TvecLabel(label)]
    except ValueError:
        return label


def _redress(item: StatementInput) -> list[dict[str, str]]:
    options = [
        {
            "kind": "out_of_court_dispute_settlement",
            "how": "a certified out-of-court dispute settlement body (DSA Art 21)",
        },
        {"kind": "judicial_redress", "how": "the competent national courts"},
    ]
    if item.stage != "appeal" and item.decision.action in (
        ActionKind.REMOVE,
        ActionKind.RESTRICT,
        ActionKind.SUSPEND,
    ):
        options.insert(
            0,
            {
                "kind": "internal_complaint",
                "how": "appeal through the platform (POST /v1/appeals) within "
                f"{APPEAL_WINDOW.days} days; a different reviewer decides it",
            },
        )
    return options


def build_statement(item: StatementInput) -> dict[str, Any]:
    decision = item.decision
    violating = _violating(decision.label)
    return {
        "decision_id": item.decision_id,
        "item_id": item.item_id,
        "stage": item.stage,
        "case_id": item.case_id,
        "appeal_id": item.appeal_id,
        "supersedes": list(item.supersedes),
        "decided_at": item.decided_at.isoformat(),
        "decision": {
            "action": decision.action.value,
            "label": decision.label,
            "label_description": _label_text(decision.label),
        },
        "facts_and_circumstances": _facts(item),
        "automated_detection": decision.automated_detection,
        "automated_decision": decision.automated_decision,
        "ground": _ground(item),
        "redress": _redress(item),
        "provenance": decision.to_json()["provenance"],
        "dsa": {
            "puid": item.item_id,
            "decision_visibility": [VISIBILITY.get(decision.action, "DECISION_VISIBILITY_OTHER")],
            "content_type": [CONTENT_TYPE.get(item.kind, "CONTENT_TYPE_OTHER")],
            "category": (
                "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
                if violating
                else "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
            ),
            "category_specification": ["KEYWORD_TERRORIST_CONTENT"] if violating else [],
            "source_type": _source(item),
            "automated_detection": "Yes" if decision.automated_detection else "No",
            "automated_decision": _automation(item),
            "content_date": item.content_date.date().isoformat(),
            "application_date": item.decided_at.date().isoformat(),
        },
    }


def statement_from_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """Build from the plain facts takedown.storage.casework.statements.statement_facts reads."""
    return build_statement(
        StatementInput(
            decision_id=int(facts["decision_id"]),
            stage=str(facts["stage"]),
            decided_at=facts["decided_at"],
            decision=Decision.from_json(facts["body"]),
            item_id=str(facts["item_id"]),
            kind=str(facts["kind"]),
            content_date=facts["content_date"],
            findings=tuple(facts.get("findings", ())),
            report_count=int(facts.get("report_count", 0)),
            removal_order=bool(facts.get("removal_order", False)),
            case_id=facts.get("case_id"),
            appeal_id=facts.get("appeal_id"),
            supersedes=tuple(facts.get("supersedes", ())),
        )
    )
