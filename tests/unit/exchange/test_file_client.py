"""Local files as an exchange: paging a snapshot, restarting when it changes, bad records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from exchange_sync import MiniNode

from takedown.exchange.client import ExchangeError, Verdict, default_exchange_registry

SAMPLE = Path(__file__).parents[2] / "fixtures" / "exchange" / "file" / "sample.jsonl"


def lines(n: int, start: int = 0) -> str:
    return "".join(
        json.dumps({"signal_type": "md5", "value": f"{i:032x}", "external_id": f"e{i}"}) + "\n"
        for i in range(start, start + n)
    )


def test_the_sample_parses_with_unknown_fields_kept_and_sha512_counted() -> None:
    client = default_exchange_registry().create("file", {"path": str(SAMPLE)})
    page = client.fetch(None, limit=100)
    assert [e.signal_type for e in page.entries] == ["md5", "sha256", "pdq"]
    md5, sha, pdq = page.entries
    assert md5.value == "0cc175b9c0f1b6a831c399e269772661"
    assert md5.extra == {"future_field": {"x": 1}} and md5.label == "TVEC6"
    assert sha.label == "TVEC7" and sha.note == "praise video" and sha.first_seen is not None
    assert pdq.source_labels == ("imminent_credible_threat", "entity:example")
    assert pdq.label == "TVEC2"
    assert page.skipped == {"unsupported signal type sha512": 1} and page.more is False


def test_pages_through_a_file_then_idles_and_restarts_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text(lines(7))
    client = default_exchange_registry().create("file", {"path": str(path)})
    node = MiniNode()
    node.drain(client, limit=3)
    assert node.pages == 3 and node.applied == [f"e{i}" for i in range(7)]
    assert node.step(client, limit=3) is False and len(node.applied) == 7
    path.write_text(lines(9))
    node.drain(client, limit=5)
    assert node.applied[7:] == [f"e{i}" for i in range(9)]  # a changed snapshot is re-read


def test_a_bad_record_names_its_line_and_the_cursor_stays(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text(lines(3) + '{"signal_type": "md5", "value": "not-hex"}\n' + lines(2, 3))
    client = default_exchange_registry().create("file", {"path": str(path)})
    node = MiniNode()
    with pytest.raises(ExchangeError, match=r"list.jsonl:4: md5 must be 32 hex digits"):
        node.step(client, limit=2)
    assert node.cursor is None and node.applied == []
    path.write_text(lines(5))
    node.drain(client, limit=2)
    assert node.applied == [f"e{i}" for i in range(5)]


def test_feedback_is_appended_to_the_feedback_file(tmp_path: Path) -> None:
    path, feedback = tmp_path / "list.jsonl", tmp_path / "feedback.jsonl"
    path.write_text(lines(2))
    client = default_exchange_registry().create(
        "file", {"path": str(path), "feedback_path": str(feedback)}
    )
    entry = client.fetch(None).entries[0]
    client.send_feedback(entry, Verdict.FALSE_POSITIVE, note="news footage")
    client.send_feedback("e1", Verdict.SEEN)
    records = [json.loads(x) for x in feedback.read_text().splitlines()]
    assert [(r["external_id"], r["verdict"]) for r in records] == [
        ("e0", "false_positive"),
        ("e1", "seen"),
    ]
    assert records[0]["note"] == "news footage" and records[0]["value"] == "0" * 32


def test_a_missing_file_or_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExchangeError, match="needs a path"):
        default_exchange_registry().create("file", {})
    client = default_exchange_registry().create("file", {"path": str(tmp_path / "none.csv")})
    with pytest.raises(ExchangeError, match="none.csv"):
        client.fetch(None)
