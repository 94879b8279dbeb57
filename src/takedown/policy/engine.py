"""Policy evaluation: a pure, deterministic function from (policy, context) to a Decision.

Semantics, in full:
- rules are tried in file order; the first *active* (non-shadow) rule whose `when` holds decides;
  if none holds, the policy's `default` outcome applies (rule id `default`);
- every shadow rule is evaluated too, and each that holds is recorded in `Decision.shadow` as
  `rule-id:action`; shadow rules never change the action, so a lead can try a rule on live
  traffic before trusting it;
- the decision cites only the findings that made the deciding rule hold, sorted, so the order in
  which detectors reported them cannot change the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.findings import Finding
from takedown.core.taxonomy import DESCRIPTIONS, VIOLATING, TvecLabel
from takedown.policy.context import PolicyContext
from takedown.policy.model import Outcome, Policy, Rule, Test

DEFAULT_RULE = "default"
AUTOMATED_ACTIONS = frozenset(
    {ActionKind.REMOVE, ActionKind.SUSPEND, ActionKind.RESTRICT, ActionKind.RESTORE}
)
_VIOLATING_VALUES = frozenset(label.value for label in VIOLATING)


@dataclass(frozen=True)
class RuleTrace:
    rule: str
    shadow: bool
    holds: bool
    because: str
    condition: str
    decides: bool = False


@dataclass(frozen=True)
class Explanation:
    decision: Decision
    trace: tuple[RuleTrace, ...]

    def lines(self) -> list[str]:
        out = []
        for step in self.trace:
            mark = "→" if step.decides else ("✓" if step.holds else "·")
            shadow = " [shadow]" if step.shadow else ""
            out.append(f"{mark} {step.rule}{shadow}: {step.condition} — {step.because}")
        return out


def evaluate(policy: Policy, context: PolicyContext) -> Decision:
    """The decision the policy takes on this evidence; same inputs, same Decision, always."""
    return _run(policy, context, trace=None)


def explain(policy: Policy, context: PolicyContext) -> Explanation:
    """The decision plus, for every rule tried, whether it held and why."""
    trace: list[RuleTrace] = []
    decision = _run(policy, context, trace=trace)
    return Explanation(decision, tuple(trace))


def _run(policy: Policy, context: PolicyContext, *, trace: list[RuleTrace] | None) -> Decision:
    shadow: list[str] = []
    chosen: tuple[Rule, Test] | None = None
    for rule in policy.rules:
        if chosen is not None and not rule.shadow and trace is None:
            continue
        result = rule.when.test(context)
        if trace is not None:
            decides = result.holds and not rule.shadow and chosen is None
            trace.append(RuleTrace(rule.id, rule.shadow, result.holds, result.because,
                                   rule.when.describe(), decides))
        if not result.holds:
            continue
        if rule.shadow:
            shadow.append(f"{rule.id}:{rule.then.action.value}")
        elif chosen is None:
            chosen = (rule, result)
    if chosen is None:
        return _decide(policy, DEFAULT_RULE, policy.default, context, (), tuple(shadow))
    rule, result = chosen
    cited = sort_findings(context.findings[i] for i in result.findings)
    return _decide(policy, rule.id, rule.then, context, cited, tuple(shadow))


def finding_key(finding: Finding) -> tuple[object, ...]:
    """A total order on findings: most serious and most certain first, then stable tie-breaks."""
    return (
        finding.label not in _VIOLATING_VALUES,
        finding.label != TvecLabel.THREAT_TO_LIFE.value,
        finding.distance is None,
        finding.distance if finding.distance is not None else 0,
        -finding.score,
        finding.label,
        finding.bank or "",
        finding.entry_id if finding.entry_id is not None else -1,
        finding.signal_type or "",
        finding.detector,
    )


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=finding_key))


def pick_label(outcome: Outcome, cited: tuple[Finding, ...], context: PolicyContext) -> str:
    """An explicit label wins; else the best cited finding's; else the best violating finding's.

    A decision that takes no action and cites nothing (the default "nothing was detected")
    keeps its fallback label: a below-threshold finding must not put TVEC7 next to grounds
    that say no terrorist content was found.
    """
    if outcome.label is not None:
        return outcome.label
    if cited:
        return cited[0].label
    if outcome.action is ActionKind.NONE:
        return outcome.fallback_label
    violating = sort_findings(f for f in context.findings if f.label in _VIOLATING_VALUES)
    return violating[0].label if violating else outcome.fallback_label


def _decide(
    policy: Policy,
    rule_id: str,
    outcome: Outcome,
    context: PolicyContext,
    cited: tuple[Finding, ...],
    shadow: tuple[str, ...],
) -> Decision:
    label = pick_label(outcome, cited, context)
    provenance = Provenance(
        policy=policy.name,
        policy_version=policy.version_tag,
        rule=rule_id,
        detectors=tuple(sorted({f.detector for f in cited})),
        entry_ids=tuple(sorted({f.entry_id for f in cited if f.entry_id is not None})),
    )
    return Decision(
        action=outcome.action,
        label=label,
        grounds=render_grounds(outcome.grounds, policy, rule_id, label, cited, context),
        automated_detection=bool(cited),
        automated_decision=outcome.action in AUTOMATED_ACTIONS,
        provenance=provenance,
        open_case=outcome.open_case,
        priority=outcome.priority,
        shadow=shadow,
    )


def render_grounds(
    template: str,
    policy: Policy,
    rule_id: str,
    label: str,
    cited: tuple[Finding, ...],
    context: PolicyContext,
) -> str:
    """Fill the rule's grounds text; placeholders were checked when the policy was loaded."""
    best = cited[0] if cited else None
    try:
        description = DESCRIPTIONS[TvecLabel(label)]
    except ValueError:
        description = label

    def shown(value: object) -> str:
        return "n/a" if value is None else str(value)

    return template.format(
        label=label,
        label_description=description,
        bank=shown(best.bank if best else None),
        distance=shown(best.distance if best else None),
        score=f"{best.score:.2f}" if best else "n/a",
        detector=shown(best.detector if best else None),
        rule=rule_id,
        policy=f"{policy.name} {policy.version}",
        reports=context.report_count,
    )
