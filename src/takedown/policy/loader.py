"""Load a policy from YAML and validate all of it, reporting every problem with file, line and hint.

A lead edits policy files by hand under time pressure; a validator that stops at the first error
turns one fix into ten round trips. We therefore walk yaml's node graph (`yaml.compose`, which
keeps each node's position) instead of the constructed dict, collect every issue, and raise one
PolicyValidationError listing them all.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from pathlib import Path
from typing import Any

import yaml

from takedown.core.content import ContentKind
from takedown.core.decisions import ActionKind
from takedown.core.errors import InvalidInput
from takedown.core.taxonomy import VIOLATING
from takedown.policy.accounts import AccountRule, read_account_rules
from takedown.policy.model import (
    SOURCES,
    AccountRiskCondition,
    AllOf,
    Always,
    AnyOf,
    Condition,
    FindingCondition,
    FindingMatcher,
    KindCondition,
    Not,
    Outcome,
    Policy,
    Range,
    RemovalOrderCondition,
    ReportsCondition,
    Rule,
)
from takedown.policy.nodes import NodeReader, PolicyIssue, PolicyValidationError, suggest

TOP_KEYS = ("policy", "version", "description", "default", "rules", "accounts")
RULE_KEYS = ("id", "description", "shadow", "when", "then")
CONDITION_KEYS = ("always", "finding", "removal_order", "reports", "account_risk", "kind",
                  "all", "any", "not")
MATCHER_KEYS = (
    "source", "label", "bank", "detector", "signal_type", "distance", "score", "count", "disputed"
)
OUTCOME_KEYS = ("action", "grounds", "priority", "open_case", "label", "fallback_label")
GROUNDS_FIELDS = ("label", "label_description", "bank", "distance", "score", "detector", "rule",
                  "policy", "reports")
ACTIONS_WITH_CASE = frozenset({ActionKind.QUEUE, ActionKind.ESCALATE})
CASE_BY_DEFAULT = frozenset({ActionKind.REMOVE, ActionKind.SUSPEND, *ACTIONS_WITH_CASE})
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_PRIORITY = 100


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read policy file {str(path)!r}: {error}") from None
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = "<string>") -> Policy:
    """Validate fully, then build; raises PolicyValidationError listing every problem."""
    return _Reader(source).read(text)


def content_hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Reader(NodeReader):
    """The policy grammar, node by node (see docs/policy.md for the language)."""

    def read(self, text: str) -> Policy:
        root = self.compose(text)
        data = self.plain(root)
        if self.issues:
            raise PolicyValidationError(self.issues)
        policy = self._policy(root, content_hash(data))
        if self.issues or policy is None:
            raise PolicyValidationError(self.issues or [PolicyIssue(self.source, 1, 1,
                                                                      "policy is incomplete")])
        return policy

    def _policy(self, root: yaml.MappingNode, digest: str) -> Policy | None:
        fields = self._mapping(root, TOP_KEYS, "policy")
        name = version = None
        for key, hint in (("policy", "policy: my-platform"), ("version", 'version: "2026.1"')):
            if key not in fields:
                self.error(root, f"missing required key '{key}'", hint)
        if "policy" in fields:
            name = self._string(fields["policy"], "'policy' (the policy's name)")
        if "version" in fields:
            value = self._scalar(fields["version"])
            if isinstance(value, str) and value.strip():
                version = value
            else:
                self.error(fields["version"], "'version' must be a quoted string",
                           'quote it so 1.10 is not read as 1.1: version: "1.10"')
        description = ""
        if "description" in fields:
            description = self._string(fields["description"], "'description'") or ""
        default = Outcome(ActionKind.NONE, "No rule of this policy applied to the item.")
        if "default" in fields:
            default = self._outcome(fields["default"], "default") or default
        rules = self._rules(fields.get("rules"), root)
        account_rules: tuple[AccountRule, ...] | None = ()
        if "accounts" in fields:
            account_rules = read_account_rules(self, fields["accounts"])
        if name is None or version is None or rules is None or account_rules is None:
            return None
        return Policy(name=name, version=version, content_hash=digest,
                      rules=tuple(rules), default=default, description=description,
                      source=self.source, account_rules=account_rules)

    def _rules(self, node: yaml.Node | None, root: yaml.Node) -> list[Rule] | None:
        if node is None:
            self.error(root, "missing required key 'rules'", "a list of rules, first match wins")
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "'rules' must be a list", "each item starts with '- id: ...'")
            return None
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        catch_all: Rule | None = None
        for item in node.value:
            rule = self._rule(item)
            if rule is None:
                continue
            if rule.id in seen:
                self.error(item, f"duplicate rule id '{rule.id}'",
                           f"first defined on line {seen[rule.id]}; ids must be unique")
            seen.setdefault(rule.id, rule.line)
            if catch_all is not None and not rule.shadow:
                self.error(item, f"rule '{rule.id}' can never apply",
                           f"rule '{catch_all.id}' (line {catch_all.line}) always matches first")
            if isinstance(rule.when, Always) and not rule.shadow and catch_all is None:
                catch_all = rule
            rules.append(rule)
        return rules

    def _rule(self, node: yaml.Node) -> Rule | None:
        fields = self._mapping(node, RULE_KEYS, "rule")
        if not fields:
            return None
        for key in ("id", "when", "then"):
            if key not in fields:
                self.error(node, f"rule is missing '{key}'",
                           "every rule needs id, when and then")
        rule_id = None
        if "id" in fields:
            rule_id = self._string(fields["id"], "rule id")
            if rule_id is not None and not RULE_ID.match(rule_id):
                self.error(fields["id"], f"rule id {rule_id!r} is not a simple name",
                           "lower-case letters, digits, '-', '_' or '.', up to 64 characters")
        shadow = False
        if "shadow" in fields:
            shadow = bool(self._bool(fields["shadow"], "'shadow'"))
        description = ""
        if "description" in fields:
            description = self._string(fields["description"], "rule description") or ""
        when = self._condition(fields["when"], "when") if "when" in fields else None
        then = self._outcome(fields["then"], "then") if "then" in fields else None
        if rule_id is None or when is None or then is None:
            return None
        return Rule(id=rule_id, when=when, then=then, shadow=shadow, description=description,
                    line=node.start_mark.line + 1)

    def _condition(self, node: yaml.Node, what: str) -> Condition | None:
        fields = self._mapping(node, CONDITION_KEYS, f"condition '{what}'")
        if not fields:
            if isinstance(node, yaml.MappingNode):
                self.error(node, f"condition '{what}' is empty",
                           "use 'always: true' for a catch-all rule")
            return None
        parts: list[Condition | None] = []
        for key, value in fields.items():
            parts.append(self._condition_part(key, value))
        if any(part is None for part in parts):
            return None
        built = [part for part in parts if part is not None]
        return built[0] if len(built) == 1 else AllOf(tuple(built))

    def _condition_part(self, key: str, node: yaml.Node) -> Condition | None:
        if key == "always":
            if self._bool(node, "'always'") is not True:
                if isinstance(self._scalar(node), bool):
                    self.error(node, "'always: false' never matches", "remove the rule instead")
                return None
            return Always()
        if key == "removal_order":
            value = self._bool(node, "'removal_order'")
            return None if value is None else RemovalOrderCondition(value)
        if key == "reports":
            bounds = self._range(node, "reports", low=0)
            return None if bounds is None else ReportsCondition(bounds)
        if key == "account_risk":
            bounds = self._range(node, "account_risk", low=0, high=1)
            return None if bounds is None else AccountRiskCondition(bounds)
        if key == "kind":
            return self._kind(node)
        if key == "finding":
            return self._finding(node)
        if key == "not":
            inner = self._condition(node, "not")
            return None if inner is None else Not(inner)
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.error(node, f"'{key}' must be a non-empty list of conditions",
                       f"e.g. {key}: [{{reports: {{min: 3}}}}, {{account_risk: {{min: 0.8}}}}]")
            return None
        parts = [self._condition(item, key) for item in node.value]
        if any(part is None for part in parts):
            return None
        built = tuple(part for part in parts if part is not None)
        return AllOf(built) if key == "all" else AnyOf(built)

    def _kind(self, node: yaml.Node) -> Condition | None:
        kinds = set()
        allowed = tuple(k.value for k in ContentKind)
        for item, word in self._words(node, "'kind'"):
            if word in allowed:
                kinds.add(ContentKind(word))
            else:
                self.error(item, f"unknown kind {word!r}", suggest(word, allowed))
        return KindCondition(frozenset(kinds)) if kinds else None

    def _finding(self, node: yaml.Node) -> Condition | None:
        fields = self._mapping(node, MATCHER_KEYS, "finding")
        if not isinstance(node, yaml.MappingNode):
            return None
        ok = True
        source = "any"
        if "source" in fields:
            value = self._scalar(fields["source"])
            if value in SOURCES:
                source = value
            else:
                ok = False
                self.error(fields["source"], f"unknown finding source {value!r}",
                           suggest(str(value), SOURCES))
        labels: frozenset[str] | None = None
        if "label" in fields:
            collected: set[str] = set()
            for item, word in self._words(fields["label"], "'label'"):
                if word.lower() == "any":
                    continue
                if word.lower() == "violating":
                    collected |= {label.value for label in VIOLATING}
                    continue
                label = self._label(item, word, "label")
                ok = ok and label is not None
                if label is not None:
                    collected.add(label)
            labels = frozenset(collected) or None
        sets: dict[str, frozenset[str] | None] = {}
        for key in ("bank", "detector", "signal_type"):
            sets[key] = None
            if key in fields:
                words = self._words(fields[key], f"'{key}'")
                sets[key] = frozenset(word for _, word in words) or None
                ok = ok and bool(words)
        ranges: dict[str, Range | None] = {}
        limits = {"distance": (0.0, None), "score": (0.0, 1.0), "count": (0.0, None)}
        for key, (low, high) in limits.items():
            ranges[key] = None
            if key in fields:
                ranges[key] = self._range(fields[key], key, low=low, high=high)
                ok = ok and ranges[key] is not None
        disputed: bool | None = None
        if "disputed" in fields:
            word = str(self._scalar(fields["disputed"])).lower()
            if word in ("true", "false"):
                disputed = word == "true"
            else:
                ok = False
                self.error(fields["disputed"], f"'disputed' must be true or false, not {word!r}")
        if source == "classifier" and sets["bank"] is not None:
            self.error(node, "a classifier finding has no bank",
                       "drop 'bank' or use 'source: bank'")
            ok = False
        if not ok:
            return None
        matcher = FindingMatcher(source=source, labels=labels, banks=sets["bank"],
                                 detectors=sets["detector"], signal_types=sets["signal_type"],
                                 distance=ranges["distance"], score=ranges["score"],
                                 disputed=disputed)
        count = ranges["count"] or Range(min=1)
        return FindingCondition(matcher, count)

    def _outcome(self, node: yaml.Node, what: str) -> Outcome | None:
        fields = self._mapping(node, OUTCOME_KEYS, f"outcome '{what}'")
        if not fields:
            return None
        ok = True
        action = None
        allowed = tuple(a.value for a in ActionKind)
        if "action" not in fields:
            self.error(node, f"outcome '{what}' is missing 'action'",
                       f"one of {', '.join(allowed)}")
        else:
            value = self._scalar(fields["action"])
            if isinstance(value, str) and value in allowed:
                action = ActionKind(value)
            else:
                self.error(fields["action"], f"unknown action {value!r}",
                           suggest(str(value), allowed))
        grounds = None
        if "grounds" not in fields:
            self.error(node, f"outcome '{what}' is missing 'grounds'",
                       "the legal or terms-of-service ground, in words for a statement of reasons")
        else:
            grounds = self._string(fields["grounds"], "'grounds'")
            if grounds is not None:
                ok = self._check_template(fields["grounds"], grounds) and ok
        priority = 0
        if "priority" in fields:
            number = self._scalar(fields["priority"])
            if isinstance(number, int) and not isinstance(number, bool) and \
                    0 <= number <= MAX_PRIORITY:
                priority = number
            else:
                ok = False
                self.error(fields["priority"], f"priority must be an integer 0–{MAX_PRIORITY}",
                           "higher is reviewed sooner")
        open_case = None
        if "open_case" in fields:
            open_case = self._bool(fields["open_case"], "'open_case'")
            ok = ok and open_case is not None
        label = None
        if "label" in fields and self._scalar(fields["label"]) != "findings":
            label = self._one_label(fields["label"], "label")
            ok = ok and label is not None
        fallback = "TVEC0"
        if "fallback_label" in fields:
            chosen = self._one_label(fields["fallback_label"], "fallback_label")
            ok = ok and chosen is not None
            fallback = chosen or fallback
        if action in ACTIONS_WITH_CASE and open_case is False:
            ok = False
            self.error(fields["open_case"], f"'{action.value}' needs a review case",
                       "remove 'open_case: false'; queued items are reviewed in cases")
        if action is None or grounds is None or not ok:
            return None
        if open_case is None:
            open_case = action in CASE_BY_DEFAULT
        return Outcome(action=action, grounds=grounds, priority=priority, open_case=open_case,
                       label=label, fallback_label=fallback)

    def _one_label(self, node: yaml.Node, what: str) -> str | None:
        value = self._scalar(node)
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.error(node, f"'{what}' must be one TVEC label", "e.g. TVEC7")
            return None
        return self._label(node, str(value), what)

    def _check_template(self, node: yaml.Node, template: str) -> bool:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        except ValueError as error:
            self.error(node, f"grounds template is malformed: {error}",
                       "write literal braces as {{ and }}")
            return False
        unknown = [name for name in names if name not in GROUNDS_FIELDS]
        for name in unknown:
            self.error(node, f"unknown placeholder {{{name}}} in grounds",
                       suggest(name, GROUNDS_FIELDS))
        return not unknown
