"""Statements of reasons in the Transparency Database format: what the builder makes for each
kind of restrictive decision is valid, and every rule of the schema catches its violation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.reports.sor import puid_for, to_tdb, validate
from takedown.review.statement import StatementInput, build_statement

AT = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)


def _statement(
    action: ActionKind = ActionKind.REMOVE,
    label: str = "TVEC1",
    *,
    order: bool = False,
    reports: int = 0,
    item_id: str = "forum post/17",
    kind: str = "image",
) -> dict[str, Any]:
    decision = Decision(
        action=action,
        label=label,
        grounds="Matched a known propaganda video frame.",
        automated_detection=True,
        automated_decision=not order,
        provenance=Provenance(policy="default", policy_version="3", rule="bank-match"),
    )
    return build_statement(
        StatementInput(
            decision_id=42,
            stage="auto",
            decided_at=AT,
            decision=decision,
            item_id=item_id,
            kind=kind,
            content_date=AT,
            report_count=reports,
            removal_order=order,
        )
    )


@pytest.mark.parametrize(
    ("action", "order", "reports", "kind"),
    [
        (ActionKind.REMOVE, False, 0, "image"),
        (ActionKind.REMOVE, True, 0, "video"),
        (ActionKind.RESTRICT, False, 2, "text"),
        (ActionKind.SUSPEND, False, 0, "url"),
    ],
)
def test_built_statements_are_valid(
    action: ActionKind, order: bool, reports: int, kind: str
) -> None:
    body = to_tdb(
        _statement(action, order=order, reports=reports, kind=kind),
        authority="Europol IRU" if order else None,
    )
    assert validate(body, terrorist=True) == []
    assert body["category_specification"] == ["KEYWORD_TERRORIST_CONTENT"]
    assert body["puid"] == "td-42-forum_post_17"


def test_grounds_follow_the_source() -> None:
    ordered = to_tdb(_statement(order=True), authority="Europol IRU")
    assert ordered["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert "2021/784" in ordered["illegal_content_legal_ground"]
    assert ordered["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
    assert ordered["source_identity"] == "Europol IRU"
    own = to_tdb(_statement())
    assert own["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert own["source_type"] == "SOURCE_VOLUNTARY" and "source_identity" not in own
    assert own["automated_detection"] == "Yes"


def _valid() -> dict[str, Any]:
    return to_tdb(_statement())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"decision_visibility": None}, "decision_*"),
        ({"decision_visibility": ["DECISION_VISIBILITY_GONE"]}, "decision_visibility"),
        ({"decision_ground": None}, "decision_ground"),
        ({"incompatible_content_explanation": None}, "incompatible_content_explanation"),
        ({"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"}, "illegal_content_legal_ground"),
        ({"content_type": []}, "content_type"),
        ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other"),
        ({"category": "STATEMENT_CATEGORY_TERRORISM"}, "category"),
        ({"category_specification": []}, "category_specification"),
        ({"content_date": "1999-12-31"}, "content_date"),
        ({"application_date": "2026-13-01"}, "application_date"),
        ({"application_date": None}, "application_date"),
        ({"decision_facts": "x" * 5001}, "decision_facts"),
        ({"source_type": "SOURCE_RUMOUR"}, "source_type"),
        ({"source_identity": "someone"}, "source_identity"),
        ({"automated_detection": "maybe"}, "automated_detection"),
        ({"automated_decision": None}, "automated_decision"),
        ({"puid": "has space"}, "puid"),
        ({"puid": "a" * 501}, "puid"),
        ({"territorial_scope": ["US"]}, "territorial_scope"),
        ({"content_language": "en"}, "content_language"),
    ],
)
def test_each_rule_catches_its_violation(change: dict[str, Any], field: str) -> None:
    body = {**_valid(), **change}
    body = {k: v for k, v in body.items() if v is not None}
    problems = validate(body)
    assert any(p.startswith(f"{field}:") for p in problems), problems


def test_terrorist_content_needs_its_keyword_even_in_another_category() -> None:
    body = {**_valid(), "category": "STATEMENT_CATEGORY_VIOLENCE"}
    body.pop("category_specification")
    assert validate(body) == []
    assert validate(body, terrorist=True) == [
        "category_specification: terrorist content carries KEYWORD_TERRORIST_CONTENT"
    ]


def test_puid_is_safe_for_any_item_id() -> None:
    assert validate({**_valid(), "puid": puid_for(7, "ünïcode/ids with spaces?" * 40)}) == []
