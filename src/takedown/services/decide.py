"""The foundation's default policy, used until a YAML policy is configured.

A match in an enabled block bank with a violating TVEC label → remove and open a review case;
anything else → no action. Provenance names the rule and every bank entry involved.
"""

from __future__ import annotations

from collections.abc import Sequence

from takedown.core.content import Submission
from takedown.core.decisions import ActionKind, Decision, Provenance
from takedown.core.findings import Finding
from takedown.core.taxonomy import VIOLATING, TvecLabel

POLICY_NAME = "foundation-default"
POLICY_VERSION = "1"


def foundation_decide(submission: Submission, findings: Sequence[Finding]) -> Decision:
    violating = [
        f
        for f in findings
        if f.bank is not None
        and f.label in {label.value for label in VIOLATING}
        and f.evidence.get("bank_kind", "block") == "block"
    ]
    detectors = tuple(sorted({f.detector for f in findings}))
    if violating:
        worst = min(violating, key=lambda f: (-int(f.evidence.get("severity", 0)), f.distance or 0))
        return Decision(
            action=ActionKind.REMOVE,
            label=worst.label,
            grounds=(
                "Matches known terrorist content in hash bank "
                f"{worst.bank!r} ({worst.signal_type}, distance {worst.distance})."
            ),
            automated_detection=True,
            automated_decision=True,
            provenance=Provenance(
                policy=POLICY_NAME,
                policy_version=POLICY_VERSION,
                rule="bank-match-remove",
                detectors=detectors,
                entry_ids=tuple(sorted({f.entry_id for f in violating if f.entry_id is not None})),
            ),
            open_case=True,
            priority=int(worst.evidence.get("severity", 3)),
        )
    return Decision(
        action=ActionKind.NONE,
        label=TvecLabel.NOT_TVEC.value,
        grounds="No match in an enabled terrorist-content bank.",
        automated_detection=bool(findings),
        automated_decision=True,
        provenance=Provenance(
            policy=POLICY_NAME, policy_version=POLICY_VERSION, rule="no-match", detectors=detectors
        ),
    )
