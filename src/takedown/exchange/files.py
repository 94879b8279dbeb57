"""Local files as an exchange: a hash list someone emailed, a folder another tool writes to.

Any format in `exchange.formats` can be followed (csv, jsonl, te, hma). A file is a snapshot,
so the cursor is `<sha256 of the content>:<records delivered>`: while the file is unchanged a
sync pages through it and then stays idle; when it changes, the next fetch starts again from
the first record (re-delivery is harmless: the node upserts). A bad record stops the fetch with
its line number and leaves the cursor where it was, so nothing past it is skipped.

Feedback is appended, one JSON object per line, to `feedback_path` when one is configured
(the way python-threatexchange's file exchange appends opinions to its own file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from takedown.core.errors import InvalidInput, NotFound
from takedown.exchange.client import DeltaPage, ExchangeEntry, ExchangeError, Verdict
from takedown.exchange.formats import FORMATS, guess_format, read_file


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            sha.update(child.relative_to(path).as_posix().encode())
            sha.update(child.read_bytes())
    else:
        sha.update(path.read_bytes())
    return sha.hexdigest()[:32]


class FileExchangeClient:
    """Reads one file (or HMA folder) in pages; appends verdicts to a feedback file."""

    name = "file"
    accepts_feedback = True

    def __init__(
        self,
        path: Path,
        *,
        fmt: str | None = None,
        bank: str = "file",
        signal_type: str | None = None,
        hma_bank: str | None = None,
        feedback_path: Path | None = None,
        known: tuple[str, ...] | None = None,
    ) -> None:
        self.path = path
        self.fmt = fmt or guess_format(path)
        if self.fmt not in FORMATS:
            raise ExchangeError(f"unknown file format {self.fmt!r}", hint=", ".join(FORMATS))
        self.bank, self.signal_type, self.hma_bank = bank, signal_type, hma_bank
        self.feedback_path = feedback_path
        if known is None:
            from takedown.signals.registry import default_registry

            known = tuple(default_registry().names())
        self.known = known

    def fetch(self, cursor: str | None, *, limit: int = 1000) -> DeltaPage:
        try:
            digest = _digest(self.path)
            parsed = read_file(
                self.path,
                self.fmt,
                known=self.known,
                bank=self.bank,
                signal_type=self.signal_type,
                hma_bank=self.hma_bank,
            )
        except FileNotFoundError:
            raise ExchangeError(f"{self.path} does not exist") from None
        except (InvalidInput, NotFound) as error:
            raise ExchangeError(str(error)) from None
        done = 0
        if cursor:
            seen_digest, _, count = cursor.partition(":")
            if seen_digest == digest and count.isdigit():
                done = int(count)
        page = parsed.entries[done : done + max(1, limit)]
        end = done + len(page)
        skipped = dict(parsed.skipped) if done == 0 else {}
        return DeltaPage(page, f"{digest}:{end}", end < len(parsed.entries), skipped)

    def send_feedback(
        self, entry: ExchangeEntry | str, verdict: Verdict, *, note: str | None = None
    ) -> None:
        if self.feedback_path is None:
            return None
        record: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(),
            "verdict": verdict.value,
            "external_id": entry.external_id if isinstance(entry, ExchangeEntry) else entry,
        }
        if isinstance(entry, ExchangeEntry):
            record.update(signal_type=entry.signal_type, value=entry.value)
        if note:
            record["note"] = note
        try:
            with self.feedback_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OSError as error:
            raise ExchangeError(
                f"cannot append feedback to {self.feedback_path}: {error.strerror}"
            ) from None


def create_client(options: Mapping[str, Any], http: httpx.Client | None) -> FileExchangeClient:
    """Entry-point factory: `path`, `format`, `signal_type`, `hma_bank`, `feedback_path`."""
    if not options.get("path"):
        raise ExchangeError("a file exchange needs a path", hint="option: path")
    feedback = options.get("feedback_path")
    return FileExchangeClient(
        Path(str(options["path"])),
        fmt=options.get("format"),
        bank=str(options.get("bank") or "file"),
        signal_type=options.get("signal_type"),
        hma_bank=options.get("hma_bank"),
        feedback_path=Path(str(feedback)) if feedback else None,
    )
