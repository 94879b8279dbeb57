"""`takedown policy validate|explain` through the real CLI entry point."""

from __future__ import annotations

import json

from takedown.cli.main import main

BAD = 'policy: p\nversion: "1"\nrules:\n  - id: a\n    when: {reports: {min: -1}}\n' \
      '    then: {action: delete, grounds: g}\n'


def test_validate_default_policy_succeeds(capsys):
    assert main(["policy", "validate", "default"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: policy takedown-default version 2026.1+")
    assert "1 in shadow mode" in out


def test_validate_lists_every_problem_and_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    assert main(["policy", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5:" in err and "reports.min = -1 is out of range" in err
    assert f"{path}:6:" in err
    assert "unknown action 'delete'" in err


def test_explain_shows_the_deciding_rule_and_json(tmp_path, capsys):
    findings = [{"detector": "hash-match@1", "label": "TVEC7", "score": 1.0, "bank": "b",
                 "entry_id": 3, "distance": 20, "signal_type": "pdq"}]
    assert main(["policy", "explain", "default", "--findings", json.dumps(findings),
                 "--kind", "image"]) == 0
    out = capsys.readouterr().out
    assert "→ similar-bank-match" in out
    assert "decision: queue (TVEC7) by rule similar-bank-match" in out
    file = tmp_path / "ctx.json"
    file.write_text(json.dumps({"kind": "text", "findings": [], "report_count": 4}))
    assert main(["policy", "explain", "default", "--findings", str(file), "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["action"] == "queue"
    assert decision["provenance"]["rule"] == "many-user-reports"


def test_explain_rejects_bad_findings_with_exit_2(capsys):
    assert main(["policy", "explain", "default", "--findings", "[{\"label\": 1}]"]) == 2
    assert "finding 0" in capsys.readouterr().err
    assert main(["policy", "explain", "default", "--findings", "{not json"]) == 2
