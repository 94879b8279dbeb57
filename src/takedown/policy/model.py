"""The policy language's parts: conditions over an item's evidence, outcomes, rules and policies.

A policy is data, not code, so that a lead can read it, a regulator can be shown it and the
engine can prove which rule produced a decision. Conditions are small immutable objects with one
method, `test`, that returns whether they hold and which findings made them hold (by index into
the context's findings), so the engine can cite exactly that evidence and nothing else.

    Condition
    ├── Always                      catch-all
    ├── FindingCondition            "at least N findings match this matcher"
    ├── RemovalOrderCondition       a competent authority ordered removal (TCO Art 3)
    ├── ReportsCondition            number of user reports (DSA Art 16 notices)
    ├── AccountRiskCondition        account risk score in [0, 1]
    ├── KindCondition               the submission's content kind
    └── AllOf / AnyOf / Not         combinators
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from takedown.core.content import ContentKind
from takedown.core.decisions import ActionKind
from takedown.core.findings import Finding
from takedown.core.taxonomy import VIOLATING

if TYPE_CHECKING:
    from takedown.policy.accounts import AccountRule
    from takedown.policy.context import PolicyContext

FindingSource = str  # "bank", "allow_bank", "classifier" or "any"
SOURCES: tuple[FindingSource, ...] = ("bank", "allow_bank", "classifier", "any")
VIOLATING_VALUES = frozenset(label.value for label in VIOLATING)


def finding_source(finding: Finding) -> FindingSource:
    """`bank` is a match in a block bank, `allow_bank` one in an allow bank (hashmatch records
    the bank's kind in evidence["bank_kind"]); a finding without a bank is a classifier's."""
    if finding.bank is None:
        return "classifier"
    return "allow_bank" if finding.evidence.get("bank_kind") == "allow" else "bank"


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; `None` on a side means unbounded."""

    min: float | None = None
    max: float | None = None

    def contains(self, value: float | None) -> bool:
        if value is None:
            return False
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def describe(self, name: str) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min:g} ≤ {name} ≤ {self.max:g}"
        if self.min is not None:
            return f"{name} ≥ {self.min:g}"
        if self.max is not None:
            return f"{name} ≤ {self.max:g}"
        return f"any {name}"


@dataclass(frozen=True)
class Test:
    """A condition's verdict and the findings (indexes into the context) that support it."""

    holds: bool
    findings: frozenset[int] = frozenset()
    because: str = ""


@dataclass(frozen=True)
class FindingMatcher:
    """What one finding must look like; every field left as `None` accepts anything."""

    source: FindingSource = "any"
    labels: frozenset[str] | None = None
    banks: frozenset[str] | None = None
    detectors: frozenset[str] | None = None
    signal_types: frozenset[str] | None = None
    distance: Range | None = None
    score: Range | None = None
    # A match on a hash that exchange members dispute (evidence["disputed"]); None: either.
    disputed: bool | None = None

    def matches(self, finding: Finding) -> bool:
        if self.disputed is not None and bool(finding.evidence.get("disputed")) != self.disputed:
            return False
        if self.source != "any" and finding_source(finding) != self.source:
            return False
        if self.labels is not None and finding.label not in self.labels:
            return False
        if self.banks is not None and finding.bank not in self.banks:
            return False
        if self.detectors is not None and detector_name(finding.detector) not in self.detectors:
            return False
        if self.signal_types is not None and finding.signal_type not in self.signal_types:
            return False
        if self.distance is not None and not self.distance.contains(finding.distance):
            return False
        return self.score is None or self.score.contains(finding.score)

    def describe(self) -> str:
        parts = [] if self.source == "any" else [f"source={self.source}"]
        if self.labels is not None and self.labels == VIOLATING_VALUES:
            parts.append("label violating")
        elif self.labels is not None:
            parts.append(f"label in [{', '.join(sorted(self.labels))}]")
        for name, values in (
            ("bank", self.banks),
            ("detector", self.detectors),
            ("signal_type", self.signal_types),
        ):
            if values is not None:
                parts.append(f"{name} in [{', '.join(sorted(values))}]")
        if self.distance is not None:
            parts.append(self.distance.describe("distance"))
        if self.score is not None:
            parts.append(self.score.describe("score"))
        if self.disputed is not None:
            parts.append("disputed" if self.disputed else "not disputed")
        return ", ".join(parts) or "any finding"


def detector_name(detector: str) -> str:
    """`pdq-match@1.2` → `pdq-match`: rules name detectors, provenance keeps the version."""
    return detector.split("@", 1)[0]


class Condition:
    """Base of every condition; `test` must be pure (same context → same Test)."""

    def test(self, context: PolicyContext) -> Test:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Condition):
    def test(self, context: PolicyContext) -> Test:
        return Test(True, because="always")

    def describe(self) -> str:
        return "always"


@dataclass(frozen=True)
class FindingCondition(Condition):
    matcher: FindingMatcher
    count: Range = field(default_factory=lambda: Range(min=1))

    def test(self, context: PolicyContext) -> Test:
        hits = frozenset(i for i, f in enumerate(context.findings) if self.matcher.matches(f))
        ok = self.count.contains(len(hits))
        because = f"{len(hits)} of {len(context.findings)} findings match"
        return Test(ok, hits if ok else frozenset(), because)

    def describe(self) -> str:
        return f"finding({self.matcher.describe()}; {self.count.describe('count')})"


@dataclass(frozen=True)
class RemovalOrderCondition(Condition):
    expected: bool = True

    def test(self, context: PolicyContext) -> Test:
        value = context.removal_order
        return Test(value is self.expected, because=f"removal_order={str(value).lower()}")

    def describe(self) -> str:
        return f"removal_order is {str(self.expected).lower()}"


@dataclass(frozen=True)
class ReportsCondition(Condition):
    bounds: Range

    def test(self, context: PolicyContext) -> Test:
        count = context.report_count
        return Test(self.bounds.contains(count), because=f"report_count={count}")

    def describe(self) -> str:
        return self.bounds.describe("reports")


@dataclass(frozen=True)
class AccountRiskCondition(Condition):
    bounds: Range

    def test(self, context: PolicyContext) -> Test:
        risk = context.account_risk
        return Test(self.bounds.contains(risk), because=f"account_risk={risk:g}")

    def describe(self) -> str:
        return self.bounds.describe("account_risk")


@dataclass(frozen=True)
class KindCondition(Condition):
    kinds: frozenset[ContentKind]

    def test(self, context: PolicyContext) -> Test:
        return Test(context.kind in self.kinds, because=f"kind={context.kind.value}")

    def describe(self) -> str:
        return f"kind in [{', '.join(sorted(k.value for k in self.kinds))}]"


@dataclass(frozen=True)
class AllOf(Condition):
    parts: tuple[Condition, ...]

    def test(self, context: PolicyContext) -> Test:
        found: set[int] = set()
        for part in self.parts:
            result = part.test(context)
            if not result.holds:
                return Test(False, because=f"not {part.describe()} ({result.because})")
            found |= result.findings
        return Test(True, frozenset(found), "all hold")

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.parts)


@dataclass(frozen=True)
class AnyOf(Condition):
    parts: tuple[Condition, ...]

    def test(self, context: PolicyContext) -> Test:
        found: set[int] = set()
        held = [r for r in (p.test(context) for p in self.parts) if r.holds]
        for result in held:
            found |= result.findings
        return Test(bool(held), frozenset(found), f"{len(held)} of {len(self.parts)} hold")

    def describe(self) -> str:
        return "(" + " or ".join(p.describe() for p in self.parts) + ")"


@dataclass(frozen=True)
class Not(Condition):
    part: Condition

    def test(self, context: PolicyContext) -> Test:
        result = self.part.test(context)
        return Test(not result.holds, because=result.because)

    def describe(self) -> str:
        return f"not ({self.part.describe()})"


@dataclass(frozen=True)
class Outcome:
    """What a rule does. `label=None` takes the label from the evidence (see engine.pick_label)."""

    action: ActionKind
    grounds: str
    priority: int = 0
    open_case: bool = False
    label: str | None = None
    fallback_label: str = "TVEC0"


@dataclass(frozen=True)
class Rule:
    id: str
    when: Condition
    then: Outcome
    shadow: bool = False
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Policy:
    """`content_hash` covers the parsed content, so comment-only edits keep the same version tag."""

    name: str
    version: str
    content_hash: str
    rules: tuple[Rule, ...]
    default: Outcome
    description: str = ""
    source: str = "<string>"
    account_rules: tuple[AccountRule, ...] = ()

    @property
    def version_tag(self) -> str:
        """What Provenance.policy_version records: the declared version and the content hash."""
        return f"{self.version}+{self.content_hash[:12]}"

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def active_rules(self) -> Sequence[Rule]:
        return [r for r in self.rules if not r.shadow]
