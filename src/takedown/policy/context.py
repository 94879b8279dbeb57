"""What a policy may look at: the evidence about one item, frozen so evaluation cannot change it.

The context deliberately holds no content and no identities, only what detection concluded and
what the platform and authorities told us. That keeps evaluation pure and the decision
explainable from recorded facts alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from takedown.core.content import ContentKind, Submission, parse_kind
from takedown.core.errors import InvalidInput
from takedown.core.findings import Finding


@dataclass(frozen=True)
class PolicyContext:
    """`account_risk` is in [0, 1]; `report_count` counts user notices, not proactive findings."""

    kind: ContentKind
    findings: tuple[Finding, ...] = ()
    account_risk: float = 0.0
    report_count: int = 0
    removal_order: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ContentKind):
            object.__setattr__(self, "kind", parse_kind(self.kind))
        if not isinstance(self.findings, tuple):
            object.__setattr__(self, "findings", tuple(self.findings))
        risk = float(self.account_risk)
        if math.isnan(risk) or not 0.0 <= risk <= 1.0:
            raise InvalidInput(f"account_risk must be within [0, 1], got {self.account_risk!r}")
        if int(self.report_count) < 0:
            raise InvalidInput(f"report_count must not be negative, got {self.report_count!r}")


def context_for(
    submission: Submission,
    findings: Iterable[Finding],
    *,
    account_risk: float = 0.0,
    report_count: int = 0,
    removal_order: bool = False,
) -> PolicyContext:
    """The usual way the pipeline builds a context: the submission's kind plus its findings."""
    return PolicyContext(
        kind=submission.kind,
        findings=tuple(findings),
        account_risk=account_risk,
        report_count=report_count,
        removal_order=removal_order,
    )


def context_from_json(obj: Any, *, kind: str | None = None) -> PolicyContext:
    """Accept a JSON list of findings, or an object with `findings` and the other context fields.

    Used by `takedown policy explain` and tests; bad input becomes InvalidInput with a hint.
    """
    if isinstance(obj, list):
        obj = {"findings": obj}
    if not isinstance(obj, Mapping):
        raise InvalidInput(
            "findings JSON must be a list of findings or an object",
            hint='e.g. {"kind": "image", "findings": [{"detector": "pdq@1", ...}]}',
        )
    raw_findings = obj.get("findings", [])
    if not isinstance(raw_findings, list):
        raise InvalidInput("'findings' must be a JSON list")
    findings = []
    for i, raw in enumerate(raw_findings):
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"finding {i} must be a JSON object")
        try:
            findings.append(Finding.from_json(dict(raw)))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInput(
                f"finding {i} is incomplete or malformed: {error}",
                hint="each finding needs detector, label and score",
            ) from None
    try:
        return PolicyContext(
            kind=parse_kind(kind or obj.get("kind", "text")),
            findings=tuple(findings),
            account_risk=float(obj.get("account_risk", 0.0)),
            report_count=int(obj.get("report_count", 0)),
            removal_order=bool(obj.get("removal_order", False)),
        )
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"bad context field: {error}") from None


def load_context_arg(value: str, *, kind: str | None = None) -> PolicyContext:
    """`--findings` takes inline JSON or a path to a JSON file."""
    text = value
    if not value.lstrip().startswith(("[", "{")):
        try:
            with open(value, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise InvalidInput(
                f"cannot read findings file {value!r}: {error.strerror}",
                hint="pass inline JSON or a readable file",
            ) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"findings are not valid JSON: {error.msg} at line {error.lineno}",
            hint="a JSON list of findings, or an object with a 'findings' list",
        ) from None
    return context_from_json(obj, kind=kind)
