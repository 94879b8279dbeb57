"""Account rules: the `accounts:` section of the same YAML policy, evaluated on an account.

An item policy decides about one post; an account rule decides about the person behind many.
Keeping both in one file gives one version tag and one place a lead reads, and an account
decision cites the same policy name, version and rule id as an item decision does.

    accounts:
      - id: evader-suspend
        when: {evader: {min: 0.8}}
        then: {action: suspend, label: TVEC7, grounds: "..."}

Conditions: `account_risk`, `evader` (best ban-evader link score), `strikes` (decayed),
`reports` (user notices on the account's items), `posts`, combined with `all`, `any`, `not`.
Outcomes: warn, restrict, suspend, review (opens an account case), none. First rule wins.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum

import yaml

from takedown.policy.model import Range
from takedown.policy.nodes import NodeReader, suggest


class AccountAction(StrEnum):
    NONE = "none"
    WARN = "warn"
    REVIEW = "review"
    RESTRICT = "restrict"
    SUSPEND = "suspend"


ACCOUNT_CONDITION_KEYS = ("account_risk", "evader", "strikes", "reports", "posts",
                          "all", "any", "not")
ACCOUNT_RULE_KEYS = ("id", "description", "when", "then")
ACCOUNT_OUTCOME_KEYS = ("action", "grounds", "label", "priority")
ACCOUNT_GROUNDS_FIELDS = ("risk", "evader", "strikes", "reports", "posts", "label", "rule",
                          "policy", "suspended_id")
LIMITS: dict[str, tuple[float, float | None]] = {
    "account_risk": (0.0, 1.0), "evader": (0.0, 1.0), "strikes": (0.0, None),
    "reports": (0.0, None), "posts": (0.0, None)}


@dataclass(frozen=True)
class AccountContext:
    """What an account rule may look at: numbers the account service computed, no content."""

    risk: float = 0.0
    evader: float = 0.0
    strikes: float = 0.0
    reports: int = 0
    posts: int = 0
    label: str = "TVEC0"
    suspended_id: str | None = None

    def value(self, key: str) -> float:
        return {"account_risk": self.risk, "evader": self.evader, "strikes": self.strikes,
                "reports": float(self.reports), "posts": float(self.posts)}[key]


@dataclass(frozen=True)
class AccountCondition:
    """A bound on one number, or a combinator (`op` in all / any / not) over parts."""

    key: str
    bounds: Range | None = None
    parts: tuple[AccountCondition, ...] = ()

    def holds(self, context: AccountContext) -> bool:
        if self.key == "all":
            return all(p.holds(context) for p in self.parts)
        if self.key == "any":
            return any(p.holds(context) for p in self.parts)
        if self.key == "not":
            return not self.parts[0].holds(context)
        assert self.bounds is not None
        return self.bounds.contains(context.value(self.key))

    def describe(self) -> str:
        if self.key in ("all", "any"):
            joiner = " and " if self.key == "all" else " or "
            return "(" + joiner.join(p.describe() for p in self.parts) + ")"
        if self.key == "not":
            return f"not ({self.parts[0].describe()})"
        assert self.bounds is not None
        return self.bounds.describe(self.key)


@dataclass(frozen=True)
class AccountOutcome:
    action: AccountAction
    grounds: str
    label: str | None = None
    priority: int = 50


@dataclass(frozen=True)
class AccountRule:
    id: str
    when: AccountCondition
    then: AccountOutcome
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class AccountVerdict:
    """An account decision before it is stored: action, label, grounds and provenance."""

    action: AccountAction
    label: str
    grounds: str
    rule: str
    policy: str
    policy_version: str
    priority: int
    because: str

    def to_json(self) -> dict[str, object]:
        return {"action": self.action.value, "label": self.label, "grounds": self.grounds,
                "priority": self.priority, "because": self.because,
                "provenance": {"policy": self.policy, "policy_version": self.policy_version,
                               "rule": self.rule}}


NO_ACTION_GROUNDS = "No account rule applied; the account stays as it is."


def evaluate_account(rules: tuple[AccountRule, ...], context: AccountContext, *,
                     policy: str, policy_version: str) -> AccountVerdict:
    """Pure: the first rule that holds decides; otherwise no action."""
    for rule in rules:
        if rule.when.holds(context):
            label = rule.then.label or context.label
            grounds = rule.then.grounds.format(
                risk=f"{context.risk:.2f}", evader=f"{context.evader:.2f}",
                strikes=f"{context.strikes:.1f}", reports=context.reports, posts=context.posts,
                label=label, rule=rule.id, policy=policy,
                suspended_id=context.suspended_id or "n/a")
            return AccountVerdict(rule.then.action, label, grounds, rule.id, policy,
                                  policy_version, rule.then.priority, rule.when.describe())
    return AccountVerdict(AccountAction.NONE, context.label, NO_ACTION_GROUNDS, "default",
                          policy, policy_version, 0, "no account rule held")


def read_account_rules(reader: NodeReader, node: yaml.Node) -> tuple[AccountRule, ...] | None:
    """Parse the `accounts:` list with the policy's own reader, so errors carry file and line."""
    if not isinstance(node, yaml.SequenceNode):
        reader.error(node, "'accounts' must be a list of account rules",
                     "each item starts with '- id: ...'")
        return None
    rules: list[AccountRule] = []
    seen: set[str] = set()
    ok = True
    for item in node.value:
        rule = _rule(reader, item)
        if rule is None:
            ok = False
            continue
        if rule.id in seen:
            reader.error(item, f"duplicate account rule id '{rule.id}'", "ids must be unique")
            ok = False
        seen.add(rule.id)
        rules.append(rule)
    return tuple(rules) if ok else None


def _rule(reader: NodeReader, node: yaml.Node) -> AccountRule | None:
    fields = reader._mapping(node, ACCOUNT_RULE_KEYS, "account rule")
    if not fields:
        return None
    missing = [k for k in ("id", "when", "then") if k not in fields]
    for key in missing:
        reader.error(node, f"account rule is missing '{key}'", "every rule needs id, when, then")
    if missing:
        return None
    rule_id = reader._string(fields["id"], "account rule id")
    description = ""
    if "description" in fields:
        description = reader._string(fields["description"], "description") or ""
    when = _condition(reader, fields["when"])
    then = _outcome(reader, fields["then"])
    if rule_id is None or when is None or then is None:
        return None
    return AccountRule(rule_id, when, then, description, node.start_mark.line + 1)


def _condition(reader: NodeReader, node: yaml.Node) -> AccountCondition | None:
    fields = reader._mapping(node, ACCOUNT_CONDITION_KEYS, "account condition")
    if not fields:
        return None
    parts: list[AccountCondition] = []
    for key, value in fields.items():
        if key in LIMITS:
            low, high = LIMITS[key]
            bounds = reader._range(value, key, low=low, high=high)
            if bounds is None:
                return None
            parts.append(AccountCondition(key, bounds))
        elif key == "not":
            inner = _condition(reader, value)
            if inner is None:
                return None
            parts.append(AccountCondition("not", parts=(inner,)))
        else:
            if not isinstance(value, yaml.SequenceNode) or not value.value:
                reader.error(value, f"'{key}' must be a non-empty list of conditions",
                             f"e.g. {key}: [{{evader: {{min: 0.5}}}}, {{posts: {{max: 5}}}}]")
                return None
            inner_parts = [_condition(reader, item) for item in value.value]
            if any(p is None for p in inner_parts):
                return None
            parts.append(AccountCondition(key, parts=tuple(p for p in inner_parts if p)))
    return parts[0] if len(parts) == 1 else AccountCondition("all", parts=tuple(parts))


def _outcome(reader: NodeReader, node: yaml.Node) -> AccountOutcome | None:
    fields = reader._mapping(node, ACCOUNT_OUTCOME_KEYS, "account outcome")
    if not fields:
        return None
    allowed = tuple(a.value for a in AccountAction)
    action = None
    if "action" not in fields:
        reader.error(node, "account outcome is missing 'action'", f"one of {', '.join(allowed)}")
    else:
        value = reader._scalar(fields["action"])
        if value in allowed:
            action = AccountAction(value)
        else:
            reader.error(fields["action"], f"unknown account action {value!r}",
                         suggest(str(value), allowed))
    grounds = None
    if "grounds" not in fields:
        reader.error(node, "account outcome is missing 'grounds'",
                     "the terms-of-service ground, in words, for the statement of reasons")
    else:
        grounds = reader._string(fields["grounds"], "'grounds'")
        if grounds is not None and not _template_ok(reader, fields["grounds"], grounds):
            grounds = None
    label = None
    if "label" in fields:
        value = reader._scalar(fields["label"])
        label = reader._label(fields["label"], str(value), "label")
        if label is None:
            return None
    priority = 50
    if "priority" in fields:
        number = reader._scalar(fields["priority"])
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 100:
            reader.error(fields["priority"], "priority must be an integer 0–100",
                         "higher is reviewed sooner")
            return None
        priority = number
    if action is None or grounds is None:
        return None
    return AccountOutcome(action, grounds, label, priority)


def _template_ok(reader: NodeReader, node: yaml.Node, template: str) -> bool:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    except ValueError as error:
        reader.error(node, f"grounds template is malformed: {error}",
                     "write literal braces as {{ and }}")
        return False
    unknown = [n for n in names if n not in ACCOUNT_GROUNDS_FIELDS]
    for name in unknown:
        reader.error(node, f"unknown placeholder {{{name}}} in account grounds",
                     suggest(name, ACCOUNT_GROUNDS_FIELDS))
    return not unknown
