"""Invariants of evaluation, checked on generated evidence and generated policies (Hypothesis)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.core.content import ContentKind
from takedown.core.decisions import ActionKind
from takedown.core.findings import Finding
from takedown.core.taxonomy import TvecLabel
from takedown.policy import PolicyContext, evaluate, explain, load_default_policy
from takedown.policy.model import (
    AccountRiskCondition,
    AllOf,
    Always,
    AnyOf,
    FindingCondition,
    FindingMatcher,
    Not,
    Outcome,
    Policy,
    Range,
    RemovalOrderCondition,
    ReportsCondition,
    Rule,
)

LABELS = [label.value for label in TvecLabel]
SIGNALS = ["md5", "sha256", "text_sha256", "pdq", "vpdq", "text_minhash"]

bank_findings = st.builds(
    Finding,
    detector=st.sampled_from(["hash-match@1", "hash-match@2"]),
    label=st.sampled_from(LABELS),
    score=st.floats(0, 1),
    bank=st.sampled_from(["a", "b", "news"]),
    entry_id=st.integers(0, 50),
    distance=st.integers(0, 64),
    signal_type=st.sampled_from(SIGNALS),
)
classifier_findings = st.builds(
    Finding,
    detector=st.sampled_from(["text-classifier@3", "image-classifier@1"]),
    label=st.sampled_from(LABELS),
    score=st.floats(0, 1),
    evidence=st.fixed_dictionaries({"spans": st.lists(st.integers(0, 99), max_size=2)}),
)
findings_lists = st.lists(st.one_of(bank_findings, classifier_findings), max_size=6)
contexts = st.builds(
    PolicyContext,
    kind=st.sampled_from(list(ContentKind)),
    findings=findings_lists.map(tuple),
    account_risk=st.floats(0, 1),
    report_count=st.integers(0, 10),
    removal_order=st.booleans(),
)

ranges = st.builds(Range, min=st.none() | st.floats(0, 1), max=st.none() | st.floats(0, 1))
matchers = st.builds(
    FindingMatcher,
    source=st.sampled_from(["bank", "classifier", "any"]),
    labels=st.none() | st.frozensets(st.sampled_from(LABELS), min_size=1),
    distance=st.none() | st.builds(Range, max=st.integers(0, 40).map(float)),
    score=st.none() | ranges,
)
leaves = st.one_of(
    st.builds(FindingCondition, matcher=matchers),
    st.builds(RemovalOrderCondition, expected=st.booleans()),
    st.builds(ReportsCondition, bounds=st.builds(Range, min=st.integers(0, 5).map(float))),
    st.builds(AccountRiskCondition, bounds=ranges),
    st.just(Always()),
)
conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: AllOf(tuple(xs))),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: AnyOf(tuple(xs))),
        inner.map(Not),
    ),
    max_leaves=6,
)
outcomes = st.builds(
    Outcome,
    action=st.sampled_from(list(ActionKind)),
    grounds=st.just("ground {label} {bank}"),
    priority=st.integers(0, 100),
    open_case=st.booleans(),
)


@st.composite
def policies(draw):
    count = draw(st.integers(0, 6))
    rules = tuple(
        Rule(id=f"r{i}", when=draw(conditions), then=draw(outcomes), shadow=draw(st.booleans()))
        for i in range(count)
    )
    return Policy(name="generated", version="1", content_hash="0" * 64, rules=rules,
                  default=Outcome(ActionKind.NONE, "none"))


@settings(max_examples=100, deadline=None)
@given(policy=st.one_of(policies(), st.just(load_default_policy())), context=contexts)
def test_evaluation_is_deterministic(policy, context):
    assert evaluate(policy, context) == evaluate(policy, context)
    assert explain(policy, context).decision == evaluate(policy, context)


@settings(max_examples=100, deadline=None)
@given(policy=st.one_of(policies(), st.just(load_default_policy())), context=contexts,
       data=st.data())
def test_order_of_findings_does_not_change_the_decision(policy, context, data):
    shuffled = data.draw(st.permutations(context.findings))
    other = dataclasses.replace(context, findings=tuple(shuffled))
    assert evaluate(policy, other) == evaluate(policy, context)


@settings(max_examples=100, deadline=None)
@given(policy=policies(), context=contexts)
def test_shadow_rules_never_change_the_action(policy, context):
    without_shadow = dataclasses.replace(
        policy, rules=tuple(rule for rule in policy.rules if not rule.shadow)
    )
    with_shadow = evaluate(policy, context)
    plain = evaluate(without_shadow, context)
    assert dataclasses.replace(with_shadow, shadow=()) == plain
    shadow_ids = {rule.id for rule in policy.rules if rule.shadow}
    assert {entry.split(":")[0] for entry in with_shadow.shadow} <= shadow_ids


@settings(max_examples=100, deadline=None)
@given(policy=policies(), context=contexts)
def test_decision_cites_only_evidence_it_was_given(policy, context):
    decision = evaluate(policy, context)
    assert set(decision.provenance.detectors) <= {f.detector for f in context.findings}
    given_ids = {f.entry_id for f in context.findings if f.entry_id is not None}
    assert set(decision.provenance.entry_ids) <= given_ids
    assert decision.provenance.rule in {rule.id for rule in policy.rules} | {"default"}
    assert decision.provenance.rule not in {rule.id for rule in policy.rules if rule.shadow}


@settings(max_examples=150, deadline=None)
@given(context=contexts)
def test_default_policy_never_removes_on_a_classifier_alone(context):
    only_classifier = dataclasses.replace(
        context,
        findings=tuple(f for f in context.findings if f.bank is None),
        removal_order=False,
    )
    assert evaluate(load_default_policy(), only_classifier).action is not ActionKind.REMOVE


@settings(max_examples=150, deadline=None)
@given(context=contexts)
def test_default_policy_escalates_every_threat_to_life(context):
    decision = evaluate(load_default_policy(), context)
    credible = any(
        f.label == "TVEC2" and (f.bank is not None or f.score >= 0.5) for f in context.findings
    )
    if credible and not context.removal_order:
        assert decision.action is ActionKind.ESCALATE
    if decision.action in (ActionKind.QUEUE, ActionKind.ESCALATE, ActionKind.REMOVE):
        assert decision.open_case
