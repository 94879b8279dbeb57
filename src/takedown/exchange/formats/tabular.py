"""Plain CSV and JSON lines: the formats anyone can produce with a spreadsheet or a script.

Both carry the same columns. Only `signal_type` and `value` are required; columns this version
does not know are kept in `extra` rather than rejected, so a newer peer's file still imports. CSV
without a header is the legacy bare list of hashes, typed by length (32 → md5, 64 → sha256) or by
`signal_type=`.

Columns: signal_type, value, label (TVEC), source_labels (peer labels, `|`-separated in CSV),
tags, note, external_id, contributor, first_seen, updated_at, deleted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from takedown.core.errors import InvalidInput
from takedown.core.taxonomy import parse_label
from takedown.exchange.client import ExchangeEntry
from takedown.exchange.formats.records import (
    ALIASES,
    UNSUPPORTED,
    ParseResult,
    bad_record,
    check_value,
    parse_time,
    split_labels,
)
from takedown.exchange.labels import map_labels

COLUMNS: tuple[str, ...] = (
    "signal_type",
    "value",
    "label",
    "source_labels",
    "tags",
    "note",
    "external_id",
    "contributor",
    "first_seen",
    "updated_at",
    "deleted",
)
_VALUE_KEYS = ("value", "hash", "hash_digest", "indicator", "signal")
_TYPE_KEYS = ("signal_type", "algorithm", "type")
LENGTH_TYPES = {32: "md5", 64: "sha256"}


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "y"}


def entry_from_mapping(
    record: Mapping[str, Any],
    *,
    where: str,
    line: int,
    known: Sequence[str],
    result: ParseResult,
) -> ExchangeEntry | None:
    """One record (a JSON object or a CSV row with a header) → entry, None when skipped."""
    raw_type = next((str(record[k]) for k in _TYPE_KEYS if record.get(k)), "")
    value = next((str(record[k]) for k in _VALUE_KEYS if record.get(k) not in (None, "")), "")
    if not raw_type:
        raise bad_record(where, line, "missing signal_type")
    name = ALIASES.get(raw_type.strip().lower(), raw_type.strip().lower())
    if name in UNSUPPORTED:
        result.skip(f"unsupported signal type {name}")
        return None
    if name not in known:
        raise bad_record(
            where, line, f"unknown signal type {raw_type!r}", hint=f"known: {', '.join(known)}"
        )
    try:
        value = check_value(name, value)
        source_labels = split_labels(record.get("source_labels"))
        label_text = str(record.get("label") or "").strip()
        label = parse_label(label_text).value if label_text else None
        if label is None and source_labels:
            mapped = map_labels(source_labels)
            label = mapped.value if mapped else None
        first_seen = parse_time(record.get("first_seen"))
        updated_at = parse_time(record.get("updated_at"))
        severity = int(record["severity"]) if record.get("severity") not in (None, "") else None
    except (ValueError, TypeError, InvalidInput) as error:
        raise bad_record(where, line, str(error)) from None
    extra = {k: v for k, v in record.items() if k not in COLUMNS and k not in ("severity",)}
    return ExchangeEntry(
        external_id=str(record.get("external_id") or f"{name}:{value}"),
        signal_type=name,
        value=value,
        label=label,
        source_labels=source_labels,
        tags=split_labels(record.get("tags")),
        severity=severity,
        contributor=str(record["contributor"]) if record.get("contributor") else None,
        note=str(record["note"]) if record.get("note") not in (None, "") else None,
        deleted=_truthy(record.get("deleted")),
        first_seen=first_seen,
        updated_at=updated_at,
        extra=extra,
    )


def read_jsonl(text: str, *, where: str, known: Sequence[str]) -> ParseResult:
    result = ParseResult()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise bad_record(where, number, f"not JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise bad_record(where, number, "expected a JSON object")
        entry = entry_from_mapping(record, where=where, line=number, known=known, result=result)
        if entry is not None:
            result.entries.append(entry)
    return result


def read_csv(
    text: str, *, where: str, known: Sequence[str], signal_type: str | None = None
) -> ParseResult:
    result = ParseResult()
    rows = [
        (n, r)
        for n, r in enumerate(csv.reader(io.StringIO(text)), start=1)
        if r and any(c.strip() for c in r)
    ]
    if not rows:
        return result
    header = [c.strip().lower() for c in rows[0][1]]
    if "signal_type" in header and "value" in header:
        for number, row in rows[1:]:
            record = {h: c.strip() for h, c in zip(header, row, strict=False) if h}
            entry = entry_from_mapping(record, where=where, line=number, known=known, result=result)
            if entry is not None:
                result.entries.append(entry)
        return result
    for number, row in rows:
        value = row[0].strip()
        kind = signal_type or LENGTH_TYPES.get(len(value), "")
        if not kind:
            raise bad_record(
                where,
                number,
                f"cannot infer the signal type of {value[:20]!r}",
                hint="add a header `signal_type,value` or pass --signal-type",
            )
        row_record: dict[str, Any] = {
            "signal_type": kind,
            "value": value,
            "note": row[1] if len(row) > 1 else None,
        }
        entry = entry_from_mapping(row_record, where=where, line=number, known=known, result=result)
        if entry is not None:
            result.entries.append(entry)
    return result


def entry_to_mapping(entry: ExchangeEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "signal_type": entry.signal_type,
        "value": entry.value,
        "label": entry.label,
        "source_labels": list(entry.source_labels),
        "tags": list(entry.tags),
        "note": entry.note,
        "external_id": entry.external_id,
        "contributor": entry.contributor,
        "first_seen": entry.first_seen.isoformat() if entry.first_seen else None,
        "updated_at": entry.updated_at.isoformat() if entry.updated_at else None,
        "deleted": entry.deleted,
    }
    return {k: v for k, v in out.items() if v not in (None, [], False) or k == "value"}


def write_jsonl(entries: Iterable[ExchangeEntry], out: TextIO) -> int:
    count = 0
    for entry in entries:
        out.write(json.dumps(entry_to_mapping(entry), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(entries: Iterable[ExchangeEntry], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for entry in entries:
        row = entry_to_mapping(entry)
        row["source_labels"] = "|".join(entry.source_labels)
        row["tags"] = "|".join(entry.tags)
        row["deleted"] = "true" if entry.deleted else ""
        writer.writerow(row)
        count += 1
    return count
