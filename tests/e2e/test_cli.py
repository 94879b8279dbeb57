"""The command line as users run it: version, keys, bank import, scan (in subprocesses)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from takedown.signals.exact import text_sha256


def run(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "takedown.cli.main", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = {**os.environ, "TAKEDOWN_DATA_DIR": str(tmp_path / "data")}
    out.pop("TAKEDOWN_DATABASE_URL", None)
    return out


def test_version_and_help(env: dict[str, str]) -> None:
    version = run(["--version"], env)
    assert version.returncode == 0 and version.stdout.startswith("takedown 0.")
    assert run([], env).returncode == 2


def test_keys_create_prints_a_key_once(env: dict[str, str]) -> None:
    result = run(["keys", "create", "--role", "integrator"], env)
    assert result.returncode == 0 and result.stdout.startswith("tdk_")
    assert run(["keys", "create", "--role", "emperor"], env).returncode == 2


def test_bank_import_then_scan(env: dict[str, str], tmp_path: Path) -> None:
    banned = b"banned file bytes"
    csv_file = tmp_path / "bank.csv"
    csv_file.write_text(
        "signal_type,value,note\n"
        f"md5,{hashlib.md5(banned).hexdigest()},a file\n"
        f"text_sha256,{text_sha256('praise for the attack')},a text\n"
    )
    imported = run(["bank", "import", "known", str(csv_file), "--label", "tvec7"], env)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {
        "bank": "known",
        "label": "TVEC7",
        "added": 2,
        "already_present": 0,
    }
    lines = [
        json.dumps({"id": "1", "kind": "text", "text": "PRAISE for the   attack"}),
        json.dumps(
            {"id": "2", "kind": "file", "content_base64": base64.b64encode(banned).decode()}
        ),
        "{broken",
        json.dumps({"id": "3", "kind": "text", "text": "a quiet day"}),
    ]
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(lines) + "\n")
    scanned = run(["scan", str(items)], env)
    assert scanned.returncode == 2, scanned.stderr
    out = [json.loads(line) for line in scanned.stdout.splitlines()]
    by_id = {o.get("id", f"line{o.get('line')}"): o for o in out}
    assert by_id["1"]["decision"]["action"] == "remove"
    assert by_id["1"]["decision"]["label"] == "TVEC7"
    assert by_id["2"]["decision"]["action"] == "remove"
    assert by_id["3"]["decision"]["action"] == "none"
    assert "invalid JSON" in by_id["line3"]["error"]
    assert "scan" in scanned.stderr
    again = run(["scan", str(items)], env)
    assert [json.loads(x).get("decision") for x in again.stdout.splitlines()] == [
        o.get("decision") for o in out
    ]


def test_bank_import_rejects_a_bad_file_whole(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a" * 32 + "\nnot-a-hash\n")
    result = run(["bank", "import", "known", str(bad), "--label", "TVEC7"], env)
    assert result.returncode == 2 and "bad.csv:2" in result.stderr
