"""`takedown index build` and `takedown match`, run through the real CLI entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from takedown.cli.main import main


@pytest.fixture
def bank(tmp_path: Path) -> tuple[Path, list[str]]:
    rng = np.random.default_rng(29)
    rows = [bytes(r).hex() for r in rng.integers(0, 256, (300, 32), dtype=np.uint8)]
    csv = tmp_path / "bank.csv"
    csv.write_text("entry_id,hash\n" + "".join(f"{7000 + i},{h}\n" for i, h in enumerate(rows)))
    return csv, rows


def near(value: str, bits: int) -> str:
    return f"{int(value, 16) ^ ((1 << bits) - 1):064x}"


def test_build_then_match_a_file(
    bank: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv, rows = bank
    index = tmp_path / "bank.tdx"
    assert main(["index", "build", str(csv), "-o", str(index)]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 300
    queries = tmp_path / "q.txt"
    queries.write_text(f"{near(rows[3], 31)}\n\n{near(rows[4], 32)}\n")
    assert main(["match", "--index", str(index), str(queries), "--batch-size", "1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["matches"] == [{"entry_id": 7003, "distance": 31}]
    assert lines[1]["line"] == 3 and lines[1]["matches"] == []
    assert main(["match", "--index", str(index), str(queries), "--threshold", "32"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[1]["matches"] == [{"entry_id": 7004, "distance": 32}]


def test_match_reads_json_lines_from_stdin_and_reports_bad_lines(
    bank: tuple[Path, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    csv, rows = bank
    index = tmp_path / "bank.tdx"
    main(["index", "build", str(csv), "-o", str(index)])
    capsys.readouterr()
    stdin = "\n".join(
        [
            json.dumps({"file": "a.jpg", "signals": {"pdq": rows[10], "md5": "x"}}),
            "not a hash",
            json.dumps({"hash": rows[11].upper()}),
        ]
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(["match", "--index", str(index)]) == 2
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert lines[0] == {
        "line": 1,
        "file": "a.jpg",
        "hash": rows[10],
        "matches": [{"entry_id": 7010, "distance": 0}],
    }
    assert "error" in lines[1] and lines[1]["line"] == 2
    assert lines[2]["matches"] == [{"entry_id": 7011, "distance": 0}]
    assert "1 input line" in captured.err


def test_bare_hashes_get_their_position_as_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "plain.txt"
    source.write_text("ab" * 32 + "\n" + "cd" * 32 + "\n")
    index = tmp_path / "plain.tdx"
    assert main(["index", "build", str(source), "-o", str(index)]) == 0
    capsys.readouterr()
    source.write_text("cd" * 32 + "\n")
    assert main(["match", "--index", str(index), str(source)]) == 0
    assert json.loads(capsys.readouterr().out)["matches"] == [{"entry_id": 1, "distance": 0}]


def test_bad_inputs_give_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("1," + "ab" * 32 + "\nnope\n")
    assert main(["index", "build", str(bad), "-o", str(tmp_path / "x.tdx")]) == 2
    assert "line 2" in capsys.readouterr().err
    assert main(["match", "--index", str(tmp_path / "missing.tdx"), str(bad)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["index", "build", str(tmp_path / "none.csv"), "-o", str(tmp_path / "y")]) == 2
