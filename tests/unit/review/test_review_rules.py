"""Pure review rules: human decisions, appeal outcomes, reviewer choice, evidence highlighting,
and statements of reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.errors import Conflict, Forbidden, InvalidInput
from takedown.review.evidence import evidence_spans, highlight
from takedown.review.rules import (
    Candidate,
    appeal_decision,
    check_appeal_window,
    check_not_original_decider,
    false_positive_targets,
    human_decision,
    pick_appeal_reviewer,
)
from takedown.review.statement import StatementInput, build_statement

AUTO_REMOVE = Decision(
    action=ActionKind.REMOVE,
    label="TVEC1",
    grounds="Exact copy of listed material.",
    automated_detection=True,
    automated_decision=True,
    provenance=Provenance("takedown-default", "2026.1", "exact-bank-match", ("hashmatch@1",), (4,)),
    open_case=True,
    priority=70,
)


def test_a_reviewer_decision_keeps_the_evidence_and_names_the_person() -> None:
    decision = human_decision(
        action="remove",
        label="7",
        reason=" Praise. ",
        actor="key:3:alice",
        stage="review",
        prior=AUTO_REMOVE,
    )
    assert (decision.action, decision.label, decision.grounds) == (
        ActionKind.REMOVE,
        "TVEC7",
        "Praise.",
    )
    assert decision.automated_decision is False and decision.automated_detection is True
    assert decision.provenance.entry_ids == (4,) and decision.provenance.actor == "key:3:alice"
    assert decision.provenance.rule == "review:remove"


def test_no_action_on_removed_content_is_a_restore() -> None:
    decision = human_decision(
        action="none",
        label="TVEC0",
        reason="Not TVEC.",
        actor="a",
        stage="review",
        prior=AUTO_REMOVE,
    )
    assert decision.action is ActionKind.RESTORE
    queued = Decision(**{**AUTO_REMOVE.__dict__, "action": ActionKind.QUEUE})
    kept = human_decision(
        action="none", label="TVEC0", reason="Not TVEC.", actor="a", stage="review", prior=queued
    )
    assert kept.action is ActionKind.NONE


@pytest.mark.parametrize(
    ("action", "label", "reason", "fragment"),
    [
        ("remove", "TVEC0", "x", "needs a violating label"),
        ("none", "TVEC7", "x", "contradictory"),
        ("restore", "TVEC0", "x", "cannot decide"),
        ("delete", "TVEC1", "x", "cannot decide"),
        ("remove", "TVEC1", "   ", "needs a reason"),
        ("remove", "TVEC99", "x", "unknown taxonomy label"),
    ],
)
def test_contradictory_or_incomplete_decisions_are_refused(
    action: str, label: str, reason: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        human_decision(
            action=action, label=label, reason=reason, actor="a", stage="review", prior=None
        )


def test_overturn_restores_and_uphold_keeps_the_action() -> None:
    overturned = appeal_decision(
        outcome="overturn", contested=AUTO_REMOVE, reason="News.", actor="b", label="TVEC.01"
    )
    assert (overturned.action, overturned.label) == (ActionKind.RESTORE, "TVEC.01")
    assert overturned.provenance.rule == "appeal:overturn"
    upheld = appeal_decision(outcome="uphold", contested=AUTO_REMOVE, reason="Right.", actor="b")
    assert (upheld.action, upheld.label) == (ActionKind.REMOVE, "TVEC1")
    with pytest.raises(InvalidInput):
        appeal_decision(
            outcome="overturn", contested=AUTO_REMOVE, reason="x", actor="b", label="TVEC7"
        )


@given(
    st.lists(st.tuples(st.integers(1, 50), st.integers(0, 9)), unique_by=lambda t: t[0]),
    st.sets(st.integers(1, 50)),
)
def test_the_appeal_reviewer_is_never_the_excluded_one_and_least_loaded(
    loads: list[tuple[int, int]], excluded: set[int]
) -> None:
    chosen = pick_appeal_reviewer([Candidate(k, n) for k, n in loads], excluded)
    eligible = [(n, k) for k, n in loads if k not in excluded]
    if not eligible:
        assert chosen is None
    else:
        assert chosen not in excluded and (dict(loads)[chosen], chosen) == min(eligible)


def test_the_original_decider_cannot_decide_the_appeal() -> None:
    check_not_original_decider(5, 4)
    check_not_original_decider(5, None)
    with pytest.raises(Forbidden, match="another reviewer"):
        check_not_original_decider(4, 4)


def test_appeals_close_after_six_months() -> None:
    decided = datetime(2026, 1, 1, tzinfo=UTC)
    check_appeal_window(decided, decided + timedelta(days=183))
    with pytest.raises(Conflict, match="can no longer be appealed"):
        check_appeal_window(decided, decided + timedelta(days=184))


def test_false_positives_are_charged_to_entries_else_detectors() -> None:
    assert false_positive_targets(AUTO_REMOVE) == [(4, None)]
    classifier = Decision(
        **{
            **AUTO_REMOVE.__dict__,
            "provenance": Provenance("p", "1", "classifier-high", ("text-classifier@v2",)),
        }
    )
    assert false_positive_targets(classifier) == [(None, "text-classifier@v2")]


def test_spans_win_over_terms_and_overlaps_merge() -> None:
    text = "Join the fight now, join the fight."
    spans = [{"evidence": {"spans": [{"start": 0, "end": 8}, {"start": 5, "end": 14}, [99, 120]]}}]
    assert evidence_spans(text, spans) == [(0, 14)]
    terms = [{"evidence": {"terms": [{"term": "join the"}, "FIGHT"]}}]
    assert evidence_spans(text, terms) == [(0, 8), (9, 14), (20, 28), (29, 34)]
    segments = highlight(text, spans)
    assert "".join(s.text for s in segments) == text
    assert [s.text for s in segments if s.marked] == ["Join the fight"]


@given(st.text(max_size=60), st.lists(st.tuples(st.integers(-5, 70), st.integers(-5, 70))))
def test_highlighting_never_loses_or_invents_text(text: str, raw: list[tuple[int, int]]) -> None:
    findings = [{"evidence": {"spans": [list(r) for r in raw]}}]
    segments = highlight(text, findings)
    assert "".join(s.text for s in segments) == text
    assert all(s.text for s in segments if s.marked)


def _statement(decision: Decision, **extra: object) -> dict[str, object]:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    return build_statement(
        StatementInput(
            decision_id=9,
            stage=str(extra.pop("stage", "auto")),
            decided_at=now,
            decision=decision,
            item_id="post-1",
            kind="image",
            content_date=now,
            findings=(
                {
                    "bank": "tvec",
                    "signal_type": "pdq",
                    "distance": 20,
                    "label": "TVEC1",
                    "score": 0.9,
                    "detector": "hashmatch@1",
                },
            ),
            **extra,  # type: ignore[arg-type]
        )
    )


def test_statement_of_reasons_for_an_automated_removal() -> None:
    sor = _statement(AUTO_REMOVE)
    dsa = sor["dsa"]
    assert dsa["automated_decision"] == "AUTOMATED_DECISION_FULLY"  # type: ignore[index]
    assert dsa["source_type"] == "SOURCE_VOLUNTARY"  # type: ignore[index]
    assert dsa["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]  # type: ignore[index]
    assert dsa["category_specification"] == ["KEYWORD_TERRORIST_CONTENT"]  # type: ignore[index]
    assert "tvec (pdq, distance 20)" in str(sor["facts_and_circumstances"])
    assert sor["ground"]["type"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"  # type: ignore[index]
    assert [r["kind"] for r in sor["redress"]][0] == "internal_complaint"  # type: ignore[index]


def test_statement_for_a_removal_order_cites_the_tco_and_reports_count() -> None:
    sor = _statement(AUTO_REMOVE, removal_order=True, report_count=2)
    assert sor["ground"]["type"] == "DECISION_GROUND_ILLEGAL_CONTENT"  # type: ignore[index]
    assert "2021/784" in sor["ground"]["legal_ground"]  # type: ignore[index]
    assert sor["dsa"]["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"  # type: ignore[index]
    assert "2 user notice" in str(sor["facts_and_circumstances"])


def test_an_appeal_outcome_offers_no_second_internal_appeal() -> None:
    restore = appeal_decision(outcome="overturn", contested=AUTO_REMOVE, reason="News.", actor="b")
    sor = _statement(restore, stage="appeal")
    assert "internal_complaint" not in [r["kind"] for r in sor["redress"]]  # type: ignore[index]
    assert sor["dsa"]["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"  # type: ignore[index]
