"""`takedown bank import|export --format ...` as users run them (in subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "0cc175b9c0f1b6a831c399e269772661"


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "takedown.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_te_import_then_jsonl_and_hma_export_and_back(tmp_path: Path) -> None:
    env = {**os.environ, "TAKEDOWN_DATA_DIR": str(tmp_path / "data")}
    env.pop("TAKEDOWN_DATABASE_URL", None)
    signals = tmp_path / "signals.te"
    signals.write_text(f"pdq {PDQ}\nvideo_md5 {MD5}\ntmk 0001\n")
    imported = run(
        ["bank", "import", "seeds", str(signals), "--format", "te", "--label", "tvec1"], env
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout) == {
        "bank": "seeds",
        "label": "TVEC1",
        "added": 2,
        "already_present": 0,
        "skipped": {"unsupported signal type tmk": 1},
    }
    exported = run(["bank", "export", "seeds", "--format", "jsonl"], env)
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert {(r["signal_type"], r["value"], r["label"]) for r in rows} == {
        ("pdq", PDQ, "TVEC1"),
        ("md5", MD5, "TVEC1"),
    }
    assert json.loads(exported.stderr.strip().splitlines()[-1])["written"] == 2
    folder = tmp_path / "hma"
    assert (
        run(["bank", "export", "seeds", "--format", "hma", "-o", str(folder)], env).returncode == 0
    )
    back = run(
        ["bank", "import", "seeds-copy", str(folder), "--format", "hma", "--hma-bank", "SEEDS"], env
    )
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["added"] == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"signal_type": "md5", "value": "xyz"}\n')
    failed = run(["bank", "import", "seeds", str(bad), "--format", "jsonl"], env)
    assert failed.returncode == 2 and "bad.jsonl:1" in failed.stderr
    assert run(["bank", "export", "seeds", "--format", "hma"], env).returncode == 2
