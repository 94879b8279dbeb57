"""Reading YAML nodes with positions: the helpers every policy check uses to report located issues.

Split from loader.py so the policy grammar there reads as grammar. Each helper validates one
node, records a PolicyIssue (file, line, column, message, hint) when it is wrong, and returns
None instead of raising, so one pass finds every problem in a file.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml

from takedown.core.errors import InvalidInput
from takedown.core.taxonomy import TvecLabel
from takedown.policy.model import Range

RANGE_KEYS = ("min", "max")
MAX_NODES = 100_000
PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
)

@dataclass(frozen=True)
class PolicyIssue:
    source: str
    line: int
    column: int
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.source}:{self.line}:{self.column}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class PolicyValidationError(InvalidInput):
    """Every problem found in one policy file; `str()` lists them one per line."""

    title = "Invalid policy"

    def __init__(self, issues: list[PolicyIssue]) -> None:
        self.issues = tuple(sorted(issues, key=lambda issue: (issue.line, issue.column)))
        first = self.issues[0]
        super().__init__(
            f"{len(issues)} problem(s) in policy {first.source}",
            hint="fix each line listed; `takedown policy validate FILE` re-checks",
        )

    def __str__(self) -> str:
        return "\n".join([self.message, *(f"  {issue}" for issue in self.issues)])


def suggest(word: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1)
    prefix = f"did you mean '{close[0]}'? " if close else ""
    return f"{prefix}allowed: {', '.join(allowed)}"


class NodeReader:
    """Validating accessors over yaml nodes; issues accumulate in `self.issues`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[PolicyIssue] = []
        self._constructor = yaml.SafeLoader("")
        self._visited = 0

    def error(self, node: yaml.Node | None, message: str, hint: str | None = None) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        self.issues.append(PolicyIssue(self.source, line, column, message, hint))

    def compose(self, text: str) -> yaml.MappingNode:
        """Parse to a node graph; a YAML syntax error is one located issue, raised at once."""
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = error.problem or error.context or "invalid YAML"
            raise PolicyValidationError(
                [PolicyIssue(self.source, line, column, f"YAML syntax: {problem}",
                             "check indentation and quoting near this line")]
            ) from None
        except yaml.YAMLError as error:
            raise PolicyValidationError(
                [PolicyIssue(self.source, 1, 1, f"YAML error: {error}")]
            ) from None
        if not isinstance(root, yaml.MappingNode):
            self.error(root, "a policy must be a YAML mapping",
                       "start with 'policy: NAME', 'version: \"1\"' and 'rules:'")
            raise PolicyValidationError(self.issues)
        return root

    def _mapping(self, node: yaml.Node, allowed: tuple[str, ...], what: str
                 ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} must be a mapping", f"keys: {', '.join(allowed)}")
            return {}
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.error(key_node, f"{what} keys must be plain words")
            elif key in out:
                self.error(key_node, f"duplicate key '{key}' in {what}",
                           "YAML keeps only the last one; remove one of them")
            elif key not in allowed:
                self.error(key_node, f"unknown key '{key}' in {what}", suggest(key, allowed))
            else:
                out[key] = value_node
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in PLAIN_TAGS:
            return _NOT_SCALAR
        try:
            return self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError):
            return _NOT_SCALAR

    def plain(self, node: yaml.Node, seen: frozenset[int] = frozenset()) -> Any:
        """The node graph as JSON-able data (tags, values, order kept) for the content hash.

        Also reports what a policy may not contain: custom or Python tags, sets, binary, and
        recursive aliases; so nothing beyond plain YAML data is ever constructed.
        """
        if id(node) in seen:
            self.error(node, "recursive alias", "policies cannot refer to themselves")
            return None
        self._visited += 1
        if self._visited > MAX_NODES:
            if self._visited == MAX_NODES + 1:
                self.error(node, f"policy expands to over {MAX_NODES} YAML nodes",
                           "aliases multiply content; write the policy out plainly")
            return None
        if node.tag not in PLAIN_TAGS:
            self.error(node, f"unsupported YAML tag {node.tag!r}",
                       "use plain strings, numbers, booleans, lists and mappings")
            return None
        inner = seen | {id(node)}
        if isinstance(node, yaml.ScalarNode):
            return [node.tag.rsplit(":", 1)[-1], node.value]
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item, inner) for item in node.value]
        return [[self.plain(k, inner), self.plain(v, inner)] for k, v in node.value]

    def _string(self, node: yaml.Node, what: str, *, hint: str | None = None) -> str | None:
        value = self._scalar(node)
        if not isinstance(value, str) or not value.strip():
            self.error(node, f"{what} must be a non-empty string", hint)
            return None
        return value

    def _bool(self, node: yaml.Node, what: str) -> bool | None:
        value = self._scalar(node)
        if not isinstance(value, bool):
            self.error(node, f"{what} must be true or false")
            return None
        return value

    def _number(self, node: yaml.Node, what: str) -> float | None:
        value = self._scalar(node)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(node, f"{what} must be a number")
            return None
        return float(value)

    def _words(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, str]]:
        """A string or a list of strings, each with its node for located errors."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out = []
        for item in items:
            value = self._scalar(item)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                out.append((item, str(value)))
            else:
                self.error(item, f"{what} must be a string or a list of strings")
        if isinstance(node, yaml.SequenceNode) and not node.value:
            self.error(node, f"{what} must not be an empty list")
        return out

    def _range(self, node: yaml.Node, what: str, *, low: float | None = None,
               high: float | None = None) -> Range | None:
        fields = self._mapping(node, RANGE_KEYS, what)
        if not fields:
            if isinstance(node, yaml.MappingNode):
                self.error(node, f"{what} needs 'min' or 'max'", "e.g. {min: 0.9}")
            return None
        bounds: dict[str, float | None] = {"min": None, "max": None}
        for key, value_node in fields.items():
            number = self._number(value_node, f"{what}.{key}")
            if number is None:
                continue
            if (low is not None and number < low) or (high is not None and number > high):
                self.error(value_node, f"{what}.{key} = {number:g} is out of range",
                           f"use a value within [{low:g}, {high:g}]" if high is not None
                           else f"use a value ≥ {low:g}")
            bounds[key] = number
        lo, hi = bounds["min"], bounds["max"]
        if lo is not None and hi is not None and lo > hi:
            self.error(node, f"{what}: min {lo:g} is greater than max {hi:g}",
                       "no value can match; swap them")
        return Range(lo, hi)

    def _label(self, node: yaml.Node, text: str, what: str) -> str | None:
        candidate = text.strip().upper()
        if not candidate.startswith("TVEC"):
            candidate = f"TVEC{candidate}"
        try:
            return TvecLabel(candidate).value
        except ValueError:
            allowed = ", ".join(label.value for label in TvecLabel)
            self.error(node, f"unknown {what} {text!r}", f"use one of {allowed}")
            return None


_NOT_SCALAR = object()
