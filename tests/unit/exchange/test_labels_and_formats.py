"""Label mapping onto TVEC, and the CSV / JSON lines formats (tolerant, located errors)."""

from __future__ import annotations

import io

import pytest

from takedown.core.errors import InvalidInput
from takedown.core.taxonomy import TvecLabel
from takedown.exchange.client import ExchangeEntry
from takedown.exchange.formats import tabular
from takedown.exchange.labels import LABEL_TABLE, export_labels, map_label, map_labels, unmapped

KNOWN = ("md5", "sha256", "pdq", "url", "text_sha256")
MD5 = "0cc175b9c0f1b6a831c399e269772661"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("gifct:Glorification of terrorist acts", TvecLabel.PRAISE),
        ("behavior/Recruitment", TvecLabel.RECRUITMENT),
        ("IMMINENT_CREDIBLE_THREAT", TvecLabel.THREAT_TO_LIFE),
        ("far-right", TvecLabel.BRANDED),
        ("ideology=islamist", TvecLabel.BRANDED),
        ("Instruction/Training", TvecLabel.INSTRUCTIONAL),
        ("tvec.01", TvecLabel.NEWS_EXCEPTION),
        ("TVEC5", TvecLabel.INSTRUCTIONAL),
        ("NON_MALICIOUS", TvecLabel.NOT_TVEC),
        ("entity:Some Group", None),
        ("", None),
    ],
)
def test_peer_labels_map_onto_tvec(label: str, expected: TvecLabel | None) -> None:
    assert map_label(label) is expected


def test_the_most_urgent_label_wins_and_unmapped_ones_are_reported() -> None:
    labels = ["glorification", "entity:x", "imminent credible threat", "recruitment"]
    assert map_labels(labels) is TvecLabel.THREAT_TO_LIFE
    assert map_labels(["entity:x"], default=TvecLabel.PRAISE) is TvecLabel.PRAISE
    assert unmapped(labels) == ["entity:x"]
    assert all(isinstance(v, TvecLabel) for v in LABEL_TABLE.values())


def test_export_echoes_peer_labels_verbatim_else_writes_ours() -> None:
    assert export_labels(["gifct:Recruitment", "entity:x"], "TVEC6") == [
        "gifct:Recruitment",
        "entity:x",
    ]
    assert export_labels([], "TVEC7") == ["glorification_of_terrorist_acts"]
    assert map_labels(export_labels([], "TVEC7")) is TvecLabel.PRAISE
    assert export_labels([], None) == []


def test_csv_with_extra_and_unknown_columns() -> None:
    text = (
        "signal_type,value,label,source_labels,note,colour\n"
        f"md5,{MD5.upper()},,gifct:Recruitment|entity:x,a note,blue\n"
        f"sha512,{'ab' * 64},,,,\n"
        f"text_sha256,{'c' * 64},tvec7,,,\n"
    )
    parsed = tabular.read_csv(text, where="f.csv", known=KNOWN)
    first, second = parsed.entries
    assert (first.value, first.label, first.source_labels) == (
        MD5,
        "TVEC6",
        ("gifct:Recruitment", "entity:x"),
    )
    assert first.note == "a note" and first.extra == {"colour": "blue"}
    assert second.label == "TVEC7"
    assert parsed.skipped == {"unsupported signal type sha512": 1}


def test_legacy_bare_csv_still_reads() -> None:
    parsed = tabular.read_csv(f"{MD5},first\n{'d' * 64}\n", where="f.csv", known=KNOWN)
    assert [(e.signal_type, e.note) for e in parsed.entries] == [("md5", "first"), ("sha256", None)]
    with pytest.raises(InvalidInput, match=r"f.csv:1: cannot infer"):
        tabular.read_csv("abc\n", where="f.csv", known=KNOWN)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{broken", "f.jsonl:3: not JSON"),
        ('["a list"]', "f.jsonl:3: expected a JSON object"),
        ('{"value": "x"}', "f.jsonl:3: missing signal_type"),
        ('{"signal_type": "tmk9", "value": "x"}', "f.jsonl:3: unknown signal type 'tmk9'"),
        ('{"signal_type": "pdq", "value": "abc"}', "f.jsonl:3: pdq must be 64 hex digits"),
        (f'{{"signal_type": "md5", "value": "{MD5}", "label": "TVEC99"}}', "f.jsonl:3: unknown"),
        (f'{{"signal_type": "md5", "value": "{MD5}", "first_seen": "soon"}}', "f.jsonl:3:"),
    ],
)
def test_a_bad_jsonl_record_reports_its_line(line: str, message: str) -> None:
    good = f'{{"signal_type": "md5", "value": "{MD5}"}}'
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        tabular.read_jsonl(f"{good}\n\n{line}\n{good}\n", where="f.jsonl", known=KNOWN)


def test_csv_and_jsonl_round_trip_everything_they_carry() -> None:
    original = [
        ExchangeEntry(
            "ext-1",
            "md5",
            MD5,
            label="TVEC6",
            source_labels=("gifct:Recruitment", "entity:x"),
            tags=("ideology:islamist",),
            note="n, with comma",
            contributor="member-a",
        ),
        ExchangeEntry("ext-2", "url", "https://example.test/x?a=1", label="TVEC1", deleted=True),
    ]
    for write, read in [
        (tabular.write_csv, tabular.read_csv),
        (tabular.write_jsonl, tabular.read_jsonl),
    ]:
        out = io.StringIO()
        assert write(original, out) == 2
        again = read(out.getvalue(), where="x", known=KNOWN).entries
        assert again == original


def test_the_documented_label_table_is_the_one_in_code() -> None:
    import re
    from pathlib import Path

    from takedown.exchange.labels import EXPORT_NAMES, PRECEDENCE

    doc = (Path(__file__).parents[3] / "docs" / "exchanges.md").read_text()
    rows = [line for line in doc.splitlines() if re.match(r"\| TVEC[0-9.]+ \|", line)]
    assert [row.split("|")[1].strip() for row in rows] == [label.value for label in PRECEDENCE]
    for row, label in zip(rows, PRECEDENCE, strict=True):
        cells = row.split("|")
        assert re.findall(r"`([^`]+)`", cells[3]) == [
            k for k, v in LABEL_TABLE.items() if v is label
        ]
        assert cells[4].strip() == f"`{EXPORT_NAMES[label]}`"
