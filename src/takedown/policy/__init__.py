"""Declarative policy: YAML rules over an item's evidence, evaluated into a Decision.

    policy = load_policy("policy.yaml")          # or load_default_policy()
    decision = evaluate(policy, context_for(submission, findings, report_count=2))
    decide = PolicyDecider(policy, facts=lambda submission: ItemFacts(report_count=2))

Evaluation is pure and deterministic; every Decision names the rule and the policy version
(`Policy.version_tag`: declared version + content hash) that produced it.
"""

from takedown.policy.context import PolicyContext, context_for, context_from_json
from takedown.policy.decider import ItemFacts, PolicyDecider
from takedown.policy.default import load_default_policy
from takedown.policy.engine import Explanation, evaluate, explain
from takedown.policy.loader import load_policy, parse_policy
from takedown.policy.model import Policy, Rule
from takedown.policy.nodes import PolicyIssue, PolicyValidationError

__all__ = [
    "Explanation",
    "ItemFacts",
    "Policy",
    "PolicyContext",
    "PolicyDecider",
    "PolicyIssue",
    "PolicyValidationError",
    "Rule",
    "context_for",
    "context_from_json",
    "evaluate",
    "explain",
    "load_default_policy",
    "load_policy",
    "parse_policy",
]
