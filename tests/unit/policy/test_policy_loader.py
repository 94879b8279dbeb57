"""Validation finds every problem with its line, and versions follow content, not formatting."""

from __future__ import annotations

import textwrap

import pytest

from takedown.core.decisions import ActionKind
from takedown.core.errors import InvalidInput
from takedown.policy import PolicyValidationError, load_policy, parse_policy

GOOD = textwrap.dedent(
    """\
    policy: small
    version: "3"
    rules:
      - id: exact
        when:
          finding: {source: bank, label: violating, distance: {max: 0}}
        then: {action: remove, grounds: "Removed ({label})."}
      - id: trial
        shadow: true
        when: {reports: {min: 1}}
        then: {action: queue, priority: 5, grounds: "Reported {reports} times."}
    """
)

BROKEN = textwrap.dedent(
    """\
    policy: broken
    version: 2
    rules:
      - id: one
        when:
          finding: {source: bnk, label: TVEC9, score: {min: 2}}
        then: {action: remov, grounds: "x {labl}"}
      - id: two
        when: {reports: {min: 3, max: 1}}
        then: {action: queue, grounds: ok, open_case: false}
      - id: three
        whne: {always: true}
        then: {action: none, grounds: ok}
    """
)


def issues_of(text: str) -> list:
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(text, source="p.yaml")
    return list(caught.value.issues)


def test_good_policy_parses_into_rules():
    policy = parse_policy(GOOD)
    assert [rule.id for rule in policy.rules] == ["exact", "trial"]
    assert policy.rules[1].shadow and not policy.rules[0].shadow
    assert policy.rules[0].then.action is ActionKind.REMOVE
    assert policy.rules[0].then.open_case, "remove opens a case unless told otherwise"
    assert policy.rules[0].line == 4
    assert policy.default.action is ActionKind.NONE


def test_every_error_is_reported_with_its_line_and_a_hint():
    issues = issues_of(BROKEN)
    by_line: dict[int, list[str]] = {}
    for issue in issues:
        by_line.setdefault(issue.line, []).append(issue.message)
        assert issue.source == "p.yaml"
    assert any("'version'" in m for m in by_line[2])
    assert len(by_line[6]) == 3, by_line[6]  # source, label, score range
    assert any("remov" in m for m in by_line[7]) and any("labl" in m for m in by_line[7])
    assert any("min 3 is greater than max 1" in m for m in by_line[9])
    assert any("needs a review case" in m for m in by_line[10])
    assert any("whne" in m for m in by_line[12])
    assert len(issues) >= 9, issues
    hints = {issue.message: issue.hint for issue in issues}
    assert "did you mean 'bank'" in hints["unknown finding source 'bnk'"]
    assert "did you mean 'remove'" in hints["unknown action 'remov'"]
    assert [i.line for i in issues] == sorted(i.line for i in issues)


def test_error_text_lists_all_issues_as_file_line_column():
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(BROKEN, source="p.yaml")
    text = str(caught.value)
    assert "p.yaml:6:" in text and "p.yaml:12:5:" in text
    assert isinstance(caught.value, InvalidInput)


def test_yaml_syntax_error_is_located():
    issues = issues_of('policy: x\nversion: "1"\nrules:\n  - id: a\n    when: {always: true\n')
    assert len(issues) == 1
    assert issues[0].line == 6 and "YAML syntax" in issues[0].message


def test_duplicate_ids_duplicate_keys_and_unreachable_rules():
    text = textwrap.dedent(
        """\
        policy: dup
        version: "1"
        version: "2"
        rules:
          - id: all
            when: {always: true}
            then: {action: none, grounds: nothing}
          - id: all
            when: {kind: [image, vidoe]}
            then: {action: queue, grounds: look}
        """
    )
    messages = {(i.line, i.message) for i in issues_of(text)}
    assert (3, "duplicate key 'version' in policy") in messages
    assert any(line == 9 and "vidoe" in m for line, m in messages)
    text_ok_kind = text.replace("vidoe", "video")
    messages = {(i.line, i.message) for i in issues_of(text_ok_kind)}
    assert any(line == 8 and "duplicate rule id 'all'" in m for line, m in messages)
    assert any(line == 8 and "can never apply" in m for line, m in messages)


def test_missing_top_level_keys_and_wrong_shapes():
    messages = [i.message for i in issues_of("rules: {}\n")]
    assert "missing required key 'policy'" in messages
    assert "missing required key 'version'" in messages
    assert "'rules' must be a list" in messages
    assert [i.message for i in issues_of("- just\n- a list\n")] == [
        "a policy must be a YAML mapping"
    ]


def test_content_hash_ignores_comments_but_not_meaning():
    base = parse_policy(GOOD)
    commented = parse_policy("# a comment\n" + GOOD.replace("rules:", "rules:   # ordered"))
    changed = parse_policy(GOOD.replace("{max: 0}", "{max: 1}"))
    assert base.content_hash == commented.content_hash
    assert base.content_hash != changed.content_hash
    assert base.version == changed.version == "3"
    assert base.version_tag != changed.version_tag


def test_load_policy_reads_files_and_reports_missing_ones(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_policy(path).name == "small"
    with pytest.raises(InvalidInput, match="cannot read policy file"):
        load_policy(tmp_path / "absent.yaml")
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(PolicyValidationError) as caught:
        load_policy(path)
    assert caught.value.issues[0].source == str(path)


def test_only_plain_yaml_is_accepted():
    base = 'policy: p\nversion: "1"\nrules: []\n'
    cases = {
        "description: !!python/name:os.system x\n": "unsupported YAML tag",
        "description: !custom x\n": "unsupported YAML tag",
        "description: !!set {a: null}\n": "unsupported YAML tag",
        "description: &a [*a]\n": "recursive alias",
    }
    for extra, message in cases.items():
        (issue,) = issues_of(base + extra)
        assert message in issue.message and issue.line == 4


def test_alias_bombs_are_refused():
    lines = ['policy: p', 'version: "1"', 'rules: []', "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    messages = [issue.message for issue in issues_of("\n".join(lines) + "\n")]
    assert any("over 100000 YAML nodes" in m for m in messages)


def test_outcome_labels_are_checked():
    base = 'policy: p\nversion: "1"\nrules:\n  - id: a\n    when: {always: true}\n'
    issues = issues_of(base + "    then: {action: none, grounds: g, label: [TVEC1], "
                              "fallback_label: TVEC42}\n")
    assert {i.message for i in issues} == {"'label' must be one TVEC label",
                                           "unknown fallback_label 'TVEC42'"}
    policy = parse_policy(base + "    then: {action: none, grounds: g, label: findings, "
                                 "fallback_label: 7}\n")
    assert policy.rules[0].then.label is None
    assert policy.rules[0].then.fallback_label == "TVEC7"
