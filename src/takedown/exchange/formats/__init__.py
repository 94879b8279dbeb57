"""Interchange formats for bank content: one `read_file`/`write_file` pair over all of them.

| name    | what                                                   | read | write |
|---------|--------------------------------------------------------|------|-------|
| `csv`   | plain CSV with a header (or a bare column of hashes)   | yes  | yes   |
| `jsonl` | one JSON object per line                               | yes  | yes   |
| `te`    | python-threatexchange signal file / `simple.*.te`      | yes  | yes   |
| `hma`   | HMA / python-threatexchange `DBMStore` bank folder     | yes  | yes   |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from takedown.core.errors import InvalidInput, NotFound
from takedown.exchange.client import ExchangeEntry
from takedown.exchange.formats import hma, tabular, te
from takedown.exchange.formats.records import ParseResult

FORMATS: tuple[str, ...] = ("csv", "jsonl", "te", "hma")
MAX_FILE_BYTES = 512 * 1024 * 1024


def guess_format(path: Path) -> str:
    if path.is_dir():
        return "hma"
    suffix = path.suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".te": "te", ".txt": "te"}.get(suffix, "csv")


def read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NotFound(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder", hint="only --format hma reads a folder") from None
    except OSError as error:
        raise NotFound(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None


def read_file(
    path: Path,
    fmt: str,
    *,
    known: Sequence[str],
    bank: str,
    signal_type: str | None = None,
    hma_bank: str | None = None,
) -> ParseResult:
    """Parse a whole file before anything is stored: a bad record rejects it, with its line."""
    if fmt == "hma":
        if not path.is_dir():
            raise InvalidInput(
                f"{path} is not a folder", hint="HMA bank content is a DBMStore folder"
            )
        return hma.read_store(path, hma.choose_bank(path, hma_bank, bank), known=known)
    text = read_text(path)
    if fmt == "csv":
        return tabular.read_csv(text, where=str(path), known=known, signal_type=signal_type)
    if fmt == "jsonl":
        return tabular.read_jsonl(text, where=str(path), known=known)
    if fmt == "te":
        return te.read_te(path, text, known=known, signal_type=signal_type)
    raise InvalidInput(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")


def write_file(
    entries: Iterable[ExchangeEntry], path: Path, fmt: str, *, bank: str
) -> tuple[int, dict[str, int]]:
    """Write entries; (written, skipped by reason). `hma` writes a folder; `te` into an existing
    folder writes `simple.<INDICATOR_TYPE>.te` state files, which keep labels."""
    if fmt == "hma":
        return hma.write_store(entries, path, hma.hma_bank_name(bank))
    if fmt == "te" and path.is_dir():
        items = list(entries)
        _, skipped = te.write_state_files(items, path)
        return sum(1 for e in items if not e.deleted) - sum(skipped.values()), skipped
    if fmt not in ("csv", "jsonl", "te"):
        raise InvalidInput(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    with path.open("w", encoding="utf-8", newline="") as out:
        return write_stream(entries, out, fmt)


def write_stream(
    entries: Iterable[ExchangeEntry], out: TextIO, fmt: str
) -> tuple[int, dict[str, int]]:
    """The text formats (csv, jsonl, te) to an open stream."""
    if fmt == "csv":
        return tabular.write_csv(entries, out), {}
    if fmt == "jsonl":
        return tabular.write_jsonl(entries, out), {}
    if fmt == "te":
        return te.write_signal_file(entries, out)
    raise InvalidInput(f"{fmt} cannot be written to a stream", hint="pass --output")


__all__ = ["FORMATS", "ParseResult", "guess_format", "read_file", "write_file", "write_stream"]
