"""`takedown policy validate FILE` and `takedown policy explain FILE --findings JSON`.

`validate` prints every problem (file:line:column: message (hint)) and exits 2, so an editor or
CI job can point at each line; `explain` shows, rule by rule, why the policy decides what it does.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from takedown.policy import evaluate, explain, load_default_policy, load_policy
from takedown.policy.context import load_context_arg
from takedown.policy.model import Policy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="check and explain decision policies")
    verbs = parser.add_subparsers(dest="policy_command", metavar="VERB")

    validate = verbs.add_parser("validate", help="check a policy file; list every problem")
    validate.add_argument("file", help="policy YAML file, or 'default' for the shipped policy")
    validate.set_defaults(func=validate_command)

    explain_parser = verbs.add_parser("explain", help="show how a policy decides on findings")
    explain_parser.add_argument("file", help="policy YAML file, or 'default'")
    explain_parser.add_argument(
        "--findings", required=True,
        help="JSON (inline or a file): a list of findings, or an object with 'findings', "
             "'kind', 'report_count', 'account_risk', 'removal_order'",
    )
    explain_parser.add_argument("--kind", help="submission kind (overrides the JSON's 'kind')")
    explain_parser.add_argument("--json", action="store_true", help="print only the decision JSON")
    explain_parser.set_defaults(func=explain_command)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _load(file: str) -> Policy:
    return load_default_policy() if file == "default" else load_policy(file)


def validate_command(args: argparse.Namespace) -> int:
    policy = _load(args.file)
    shadow = sum(1 for rule in policy.rules if rule.shadow)
    print(
        f"ok: policy {policy.name} version {policy.version_tag}: "
        f"{len(policy.rules)} rules ({shadow} in shadow mode)"
    )
    return 0


def explain_command(args: argparse.Namespace) -> int:
    policy = _load(args.file)
    context = load_context_arg(args.findings, kind=args.kind)
    if args.json:
        print(json.dumps(evaluate(policy, context).to_json(), indent=2, ensure_ascii=False))
        return 0
    explanation = explain(policy, context)
    decision = explanation.decision
    print(f"policy {policy.name} {policy.version_tag}; {len(context.findings)} finding(s), "
          f"kind={context.kind.value}, reports={context.report_count}, "
          f"account_risk={context.account_risk:g}, removal_order={context.removal_order}")
    for line in explanation.lines():
        print(f"  {line}")
    print(f"decision: {decision.action.value} ({decision.label}) by rule "
          f"{decision.provenance.rule}, priority {decision.priority}, "
          f"case {'yes' if decision.open_case else 'no'}")
    if decision.shadow:
        print(f"shadow rules that would have fired: {', '.join(decision.shadow)}")
    print(f"grounds: {decision.grounds}")
    return 0
