"""A match on a hash that exchange members dispute is never removed automatically by the
default policy: it goes to a person, and a rule can name `disputed` itself."""

from __future__ import annotations

from dataclasses import replace

import pytest
from policy_builders import bank_finding

from takedown.core.content import ContentKind
from takedown.core.decisions import ActionKind
from takedown.policy import PolicyContext, evaluate, load_default_policy
from takedown.policy.loader import parse_policy
from takedown.policy.nodes import PolicyValidationError


def disputed(finding):  # type: ignore[no-untyped-def]
    return replace(finding, evidence={**finding.evidence, "disputed": True})


@pytest.mark.parametrize("signal_type", ["pdq", "sha256"])
def test_default_policy_queues_a_disputed_match_it_would_remove(signal_type: str) -> None:
    policy = load_default_policy()
    plain = bank_finding("TVEC1", signal_type=signal_type, distance=0)
    removed = evaluate(policy, PolicyContext(kind=ContentKind.IMAGE, findings=(plain,)))
    held = evaluate(policy, PolicyContext(kind=ContentKind.IMAGE, findings=(disputed(plain),)))
    assert removed.action is ActionKind.REMOVE
    assert held.action is ActionKind.QUEUE and held.provenance.rule == "similar-bank-match"


def test_a_rule_can_route_on_disputed_and_bad_values_are_located() -> None:
    text = (
        'policy: p\nversion: "1"\nrules:\n  - id: disputed-review\n    when:\n'
        "      finding: {source: bank, disputed: true}\n"
        "    then: {action: queue, priority: 55, grounds: Disputed hash.}\n"
    )
    rule = parse_policy(text).rules[0]
    finding = disputed(bank_finding())
    decision = evaluate(
        parse_policy(text), PolicyContext(kind=ContentKind.IMAGE, findings=(finding,))
    )
    assert decision.provenance.rule == rule.id == "disputed-review"
    with pytest.raises(PolicyValidationError, match="'disputed' must be true or false"):
        parse_policy(text.replace("disputed: true", "disputed: maybe"))
