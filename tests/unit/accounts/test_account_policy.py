"""Account rules in the YAML policy: parsed with located errors, evaluated first-match, with
provenance (policy name, version tag, rule id) on every verdict."""

from __future__ import annotations

import pytest

from takedown.policy import PolicyValidationError, load_default_policy, parse_policy
from takedown.policy.accounts import AccountAction, AccountContext, evaluate_account

BASE = """
policy: p
version: "1"
rules:
  - id: r
    when: {always: true}
    then: {action: none, grounds: nothing}
"""


def _verdict(**context: object) -> tuple[str, str]:
    policy = load_default_policy()
    verdict = evaluate_account(policy.account_rules, AccountContext(**context),  # type: ignore[arg-type]
                               policy=policy.name, policy_version=policy.version_tag)
    assert verdict.policy_version == policy.version_tag
    return verdict.action.value, verdict.rule


def test_the_default_policy_suspends_evaders_and_repeat_offenders_and_reviews_risk() -> None:
    assert _verdict(evader=0.85, suspended_id="x1") == ("suspend", "evader-suspend")
    assert _verdict(strikes=3.0) == ("suspend", "strikes-suspend")
    assert _verdict(risk=0.95, posts=2) == ("review", "risky-review")
    assert _verdict(risk=0.95, posts=3) == ("suspend", "high-risk-suspend")
    assert _verdict(evader=0.6) == ("review", "evader-review")
    assert _verdict(strikes=1.0) == ("warn", "first-strike-warn")
    assert _verdict(risk=0.2, posts=50) == ("none", "default")


def test_grounds_are_filled_and_combinators_work() -> None:
    policy = parse_policy(BASE + """
accounts:
  - id: quiet-evader
    when:
      all:
        - evader: {min: 0.5}
        - not: {posts: {min: 10}}
    then:
      action: restrict
      label: TVEC7
      grounds: "Restricted: resembles {suspended_id} ({evader})"
""")
    rules = policy.account_rules
    verdict = evaluate_account(rules, AccountContext(evader=0.7, posts=2, suspended_id="a9"),
                               policy="p", policy_version="1")
    assert verdict.action is AccountAction.RESTRICT and verdict.label == "TVEC7"
    assert verdict.grounds == "Restricted: resembles a9 (0.70)"
    busy = evaluate_account(rules, AccountContext(evader=0.7, posts=20), policy="p",
                            policy_version="1")
    assert busy.action is AccountAction.NONE


def test_account_rule_errors_carry_lines_and_hints() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(BASE + """
accounts:
  - id: bad
    when: {evaderr: {min: 0.5}}
    then: {action: ban, grounds: "x {nope}"}
""")
    text = str(caught.value)
    assert "evaderr" in text and "evader" in text
    assert "ban" in text and "{nope}" in text
    assert ":12:" in text or "line 12" in text or "12" in text
