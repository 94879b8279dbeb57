"""python-threatexchange's file exchange formats, read and written without the package.

Two plain-text formats come out of python-threatexchange (v1.2, read from its source):

* the **signal file** its `LocalFileSignalExchangeAPI` ("file" exchange) fetches and appends to:
  one `<signal_type> <signal>` per line, where the type is a python-threatexchange SignalType
  name (`pdq`, `video_md5`, `video_sha256`, `url`, ...); with a collaboration-wide type set, the
  line is the bare signal;
* the **state files** its CLI and HMA keep per ThreatExchange indicator type,
  `simple.<INDICATOR_TYPE>.te`: CSV rows `indicator, [indicator_id,] first_descriptor_id,
  added_on, labels` with the labels space-separated (`CliIndicatorSerialization` has four
  columns, `HMASerialization` five).

Neither carries deletions; a signal file is a snapshot. Labels ride in `source_labels`
verbatim and are mapped to TVEC. Nothing here unpickles: the package's `*.state.pickle` files
are deliberately not read.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from takedown.exchange.client import ExchangeEntry
from takedown.exchange.formats.records import (
    FROM_PYTX,
    INDICATOR_TYPES,
    TO_INDICATOR,
    TO_PYTX,
    ParseResult,
    bad_record,
    check_value,
)
from takedown.exchange.labels import export_labels, map_labels

STATE_FILE = re.compile(r"simple\.([^.]+)\.te$")


def _type_from_pytx(raw: str, known: Sequence[str]) -> str | None:
    name = FROM_PYTX.get(raw.strip(), raw.strip())
    return name if name in known and name in TO_PYTX else None


def read_signal_file(
    text: str, *, where: str, known: Sequence[str], signal_type: str | None = None
) -> ParseResult:
    """`<signal_type> <signal>` lines (or bare signals when `signal_type` is given)."""
    result = ParseResult()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        raw_type, _, signal = (signal_type or "", "", line) if signal_type else line.partition(" ")
        signal = signal.strip()
        if not signal:
            raise bad_record(where, number, "expected `<signal_type> <signal>`")
        name = _type_from_pytx(raw_type, known)
        if name is None:
            result.skip(f"unsupported signal type {raw_type}")
            continue
        try:
            value = check_value(name, signal)
        except ValueError as error:
            raise bad_record(where, number, str(error)) from None
        result.entries.append(
            ExchangeEntry(external_id=f"{name}:{value}", signal_type=name, value=value)
        )
    return result


def write_signal_file(entries: Iterable[ExchangeEntry], out: TextIO) -> tuple[int, dict[str, int]]:
    """Live entries as `<pytx type> <signal>` lines; (written, skipped by reason)."""
    written, skipped = 0, dict[str, int]()
    for entry in entries:
        if entry.deleted:
            continue
        pytx = TO_PYTX.get(entry.signal_type)
        if pytx is None:
            reason = f"no python-threatexchange type for {entry.signal_type}"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        out.write(f"{pytx} {entry.value}\n")
        written += 1
    return written, skipped


def read_state_file(
    text: str, *, where: str, indicator_type: str, known: Sequence[str]
) -> ParseResult:
    """One `simple.<INDICATOR_TYPE>.te` file (CLI or HMA serialization)."""
    result = ParseResult()
    name = INDICATOR_TYPES.get(indicator_type)
    if name is not None and name not in known:
        name = None
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        if name is None:
            result.skip(f"unsupported indicator type {indicator_type}")
            continue
        if len(row) not in (4, 5):
            raise bad_record(where, number, f"expected 4 or 5 columns, got {len(row)}")
        indicator, rest = row[0], row[1:]
        indicator_id = rest.pop(0) if len(rest) == 4 else None
        descriptor_id, added_on, labels_text = rest
        try:
            value = check_value(name, indicator)
        except ValueError as error:
            raise bad_record(where, number, str(error)) from None
        labels = tuple(sorted(p for p in labels_text.split(" ") if p))
        mapped = map_labels(labels)
        result.entries.append(
            ExchangeEntry(
                external_id=indicator_id or f"{name}:{value}",
                signal_type=name,
                value=value,
                label=mapped.value if mapped else None,
                source_labels=labels,
                extra={
                    "indicator_type": indicator_type,
                    "first_descriptor_id": descriptor_id,
                    "added_on": added_on,
                },
            )
        )
    return result


def write_state_files(
    entries: Iterable[ExchangeEntry], directory: Path
) -> tuple[list[Path], dict[str, int]]:
    """HMA-serialization state files, one per indicator type, into `directory`."""
    rows: dict[str, list[tuple[str, ...]]] = {}
    skipped: dict[str, int] = {}
    for n, entry in enumerate(entries, start=1):
        indicator_type = TO_INDICATOR.get(entry.signal_type)
        if entry.deleted:
            continue
        if indicator_type is None:
            reason = f"no ThreatExchange indicator type for {entry.signal_type}"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        extra = entry.extra or {}
        indicator_id = entry.external_id if entry.external_id.isdigit() else str(n)
        labels = export_labels(entry.source_labels, entry.label)
        rows.setdefault(indicator_type, []).append(
            (
                entry.value,
                indicator_id,
                str(extra.get("first_descriptor_id") or indicator_id),
                str(extra.get("added_on") or (entry.first_seen or "")),
                " ".join(label.replace(" ", "_") for label in labels),
            )
        )
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for indicator_type, items in rows.items():
        path = directory / f"simple.{indicator_type}.te"
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(items)
        paths.append(path)
    return paths, skipped


def read_te(path: Path, text: str, *, known: Sequence[str], signal_type: str | None) -> ParseResult:
    """A state file when the name says so (`simple.HASH_PDQ.te`), else a signal file."""
    match = STATE_FILE.search(path.name)
    if match:
        return read_state_file(text, where=str(path), indicator_type=match.group(1), known=known)
    return read_signal_file(text, where=str(path), known=known, signal_type=signal_type)
