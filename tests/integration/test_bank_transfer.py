"""Bank import and export through services/bank_transfer, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from takedown.core.errors import InvalidInput
from takedown.core.taxonomy import TvecLabel
from takedown.services.bank_transfer import export_bank_file, import_bank_file
from takedown.signals.registry import default_registry
from takedown.storage import banks as bank_store

MD5 = "0cc175b9c0f1b6a831c399e269772661"
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
SHA = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_jsonl_labels_survive_import_and_export(engine: Engine, tmp_path: Path) -> None:
    registry = default_registry()
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {
                "signal_type": "md5",
                "value": MD5.upper(),
                "source_labels": ["gifct:Recruitment"],
                "contributor": "member-a",
                "external_id": "g-1",
                "future": 1,
            },
            {"signal_type": "pdq", "value": PDQ, "source_labels": ["recruitment", "entity:x"]},
            {"algorithm": "SHA512", "hash_digest": "ab" * 64},
        ],
    )
    result = import_bank_file(engine, registry, bank="gifct", path=source, fmt="jsonl")
    assert result == {
        "bank": "gifct",
        "label": "TVEC6",  # from the entries' own labels: no --label needed
        "added": 2,
        "already_present": 0,
        "labelled": 2,
        "skipped": {"unsupported signal type sha512": 1},
    }
    out = io.StringIO()
    summary = export_bank_file(engine, bank="gifct", fmt="jsonl", path=None, out=out)
    assert summary == {"bank": "gifct", "format": "jsonl", "written": 2}
    rows = {r["signal_type"]: r for r in map(json.loads, out.getvalue().splitlines())}
    assert rows["md5"]["value"] == MD5 and rows["md5"]["source_labels"] == ["gifct:Recruitment"]
    assert rows["md5"]["external_id"] == "g-1" and rows["md5"]["contributor"] == "member-a"
    assert rows["pdq"]["source_labels"] == ["recruitment", "entity:x"]
    assert rows["pdq"]["label"] == "TVEC6" and rows["pdq"]["first_seen"]


def test_a_deleted_record_tombstones_the_entry(engine: Engine, tmp_path: Path) -> None:
    registry = default_registry()
    first = write_jsonl(
        tmp_path / "a.jsonl",
        [{"signal_type": "md5", "value": MD5}, {"signal_type": "sha256", "value": SHA}],
    )
    import_bank_file(engine, registry, bank="b", path=first, fmt="jsonl", label=TvecLabel.PRAISE)
    second = write_jsonl(
        tmp_path / "b.jsonl", [{"signal_type": "md5", "value": MD5, "deleted": True}]
    )
    result = import_bank_file(engine, registry, bank="b", path=second, fmt="jsonl")
    assert result["removed"] == 1 and result["added"] == 0 and result["label"] == "TVEC7"
    with engine.connect() as conn:
        assert [(e.signal_type, e.value) for e in bank_store.active_entries(conn)] == [
            ("sha256", SHA)
        ]


def test_a_bad_record_rejects_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(f"signal_type,value\nmd5,{MD5}\npdq,nothex\n")
    with pytest.raises(InvalidInput, match=r"bad.csv:3: pdq must be 64 hex digits"):
        import_bank_file(
            engine, default_registry(), bank="x", path=source, fmt="csv", label=TvecLabel.PRAISE
        )
    with engine.connect() as conn:
        assert bank_store.list_banks(conn) == []
    with pytest.raises(InvalidInput, match="--label"):
        good = tmp_path / "good.csv"
        good.write_text(f"signal_type,value\nmd5,{MD5}\n")
        import_bank_file(engine, default_registry(), bank="x", path=good, fmt="csv")


def test_hma_export_then_import_into_another_bank(engine: Engine, tmp_path: Path) -> None:
    registry = default_registry()
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"signal_type": "pdq", "value": PDQ, "source_labels": ["glorification"]},
            {"signal_type": "text_sha256", "value": SHA},
        ],
    )
    import_bank_file(engine, registry, bank="known-praise", path=source, fmt="jsonl")
    folder = tmp_path / "hma"
    result = export_bank_file(
        engine, bank="known-praise", fmt="hma", path=folder, out=io.StringIO()
    )
    assert result["written"] == 1
    assert result["skipped"] == {"no python-threatexchange type for text_sha256": 1}
    again = import_bank_file(
        engine, registry, bank="copy", path=folder, fmt="hma", hma_bank="KNOWN_PRAISE"
    )
    assert again["added"] == 1 and again["label"] == "TVEC7"
    out = io.StringIO()
    export_bank_file(engine, bank="copy", fmt="csv", path=None, out=out)
    assert "glorification" in out.getvalue() and PDQ in out.getvalue()


def test_te_export_to_a_folder_writes_state_files_with_labels(
    engine: Engine, tmp_path: Path
) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [{"signal_type": "pdq", "value": PDQ, "source_labels": ["gifct:glorification"]}],
    )
    import_bank_file(engine, default_registry(), bank="p", path=source, fmt="jsonl")
    folder = tmp_path / "te"
    folder.mkdir()
    result = export_bank_file(engine, bank="p", fmt="te", path=folder, out=io.StringIO())
    assert result["written"] == 1
    again = import_bank_file(
        engine, default_registry(), bank="q", path=folder / "simple.HASH_PDQ.te", fmt="te"
    )
    assert again["label"] == "TVEC7" and again["added"] == 1
