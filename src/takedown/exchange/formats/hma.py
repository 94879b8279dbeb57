"""HMA / python-threatexchange bank content: the `DBMStore` folder, read and written directly.

Hasher-Matcher-Actioner keeps banks through python-threatexchange's storage interface
(`threatexchange.storage.interfaces.IBankStore`); its one-machine implementation,
`threatexchange.storage.local_dbm.DBMStore` (v1.2), is a folder of `dbm` files whose values are
JSON (its `dataclass_json`), never pickles:

* `_DbType.BANKS`: bank name → `{"name", "matching_enabled_ratio"}`, plus `__next_id__` → the
  next globally unique content id as decimal text;
* `_DbType.BANK_CONTENT/<bank>`: content id → `{"id", "disable_until_ts", "collab_metadata",
  "original_media_uri", "created_ts", "signals": {pytx signal type: value}}`.

One HMA content item may carry several signals (a PDQ and an MD5 of the same photo); each
becomes its own Takedown bank entry with the content id in `extra`. On export every entry is one
content item. HMA has no per-content labels, so Takedown's live in `collab_metadata` under
`takedown.labels` (the peer's labels, verbatim) and `takedown.label` (TVEC); HMA ignores keys it
does not know. The `dbm` backend is Python's default on the machine (the same one DBMStore
picks), so export and import on one machine always agree.
"""

from __future__ import annotations

import dbm
import json
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from takedown.core.errors import InvalidInput, NotFound
from takedown.exchange.client import ExchangeEntry
from takedown.exchange.formats.records import FROM_PYTX, TO_PYTX, ParseResult, check_value
from takedown.exchange.labels import map_labels

BANKS_DB = "_DbType.BANKS"
CONTENT_DIR = "_DbType.BANK_CONTENT"
NEXT_ID = b"__next_id__"
LABELS_KEY = "takedown.labels"
LABEL_KEY = "takedown.label"
DISABLED = 0
ENABLED = 1


def hma_bank_name(name: str) -> str:
    """HMA bank names are UPPER_WITH_UNDER."""
    return re.sub(r"[^0-9A-Z]+", "_", name.upper()).strip("_") or "BANK"


def list_banks(folder: Path) -> list[str]:
    if not any(folder.glob(f"{BANKS_DB}*")):
        raise NotFound(f"{folder} is not an HMA/python-threatexchange bank store")
    with dbm.open(str(folder / BANKS_DB), "r") as db:
        names = (k.decode() if isinstance(k, bytes) else str(k) for k in db.keys())  # noqa: SIM118
        return sorted(n for n in names if not n.startswith("__"))


def choose_bank(folder: Path, wanted: str | None, fallback: str) -> str:
    """The bank asked for, else one named like the Takedown bank, else the store's only bank."""
    names = list_banks(folder)
    for candidate in (wanted, hma_bank_name(fallback) if wanted is None else None):
        if candidate and candidate in names:
            return candidate
    if wanted is None and len(names) == 1:
        return names[0]
    raise NotFound(
        f"no HMA bank {wanted or hma_bank_name(fallback)!r} in {folder}",
        hint=f"banks there: {', '.join(names) or 'none'}; pick one with --hma-bank",
    )


def read_store(folder: Path, bank: str, *, known: Sequence[str]) -> ParseResult:
    """Every signal of every content item in one HMA bank."""
    result = ParseResult()
    with dbm.open(str(folder / CONTENT_DIR / bank), "r") as db:
        keys = sorted(db.keys(), key=lambda k: int(k) if k.isdigit() else 0)
        for key in keys:
            where = f"{folder}:{bank}:{key.decode() if isinstance(key, bytes) else key}"
            try:
                stored = json.loads(db[key].decode("utf-8"))
                content_id = int(stored["id"])
                signals = dict(stored["signals"])
                collab = {str(k): list(v) for k, v in (stored.get("collab_metadata") or {}).items()}
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise InvalidInput(f"{where}: unreadable bank content ({error})") from None
            if int(stored.get("disable_until_ts", ENABLED)) == DISABLED:
                result.skip("disabled in HMA")
                continue
            source_labels = tuple(collab.pop(LABELS_KEY, ()))
            own_label = (collab.pop(LABEL_KEY, None) or [None])[0]
            mapped = map_labels(source_labels)
            label = own_label or (mapped.value if mapped else None)
            for pytx_type, raw in sorted(signals.items()):
                name = FROM_PYTX.get(pytx_type)
                if name is None or name not in known:
                    result.skip(f"unsupported signal type {pytx_type}")
                    continue
                try:
                    value = check_value(name, str(raw))
                except ValueError as error:
                    raise InvalidInput(f"{where}: {error}") from None
                result.entries.append(
                    ExchangeEntry(
                        external_id=f"{content_id}/{pytx_type}",
                        signal_type=name,
                        value=value,
                        label=label,
                        source_labels=source_labels,
                        extra={
                            "hma_content_id": content_id,
                            "collab_metadata": collab,
                            "original_media_uri": stored.get("original_media_uri"),
                        },
                    )
                )
    return result


def write_store(
    entries: Iterable[ExchangeEntry], folder: Path, bank: str
) -> tuple[int, dict[str, int]]:
    """Write (replace) one bank in a DBMStore folder, creating the store if needed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONTENT_DIR).mkdir(exist_ok=True)
    skipped: dict[str, int] = {}
    items = []
    for entry in entries:
        pytx = TO_PYTX.get(entry.signal_type)
        if entry.deleted:
            continue
        if pytx is None:
            reason = f"no python-threatexchange type for {entry.signal_type}"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        items.append((pytx, entry))
    with dbm.open(str(folder / BANKS_DB), "c") as banks:
        first_id = int(banks.get(NEXT_ID, b"1").decode())
        banks[NEXT_ID] = str(first_id + len(items)).encode()
        banks[bank] = json.dumps({"name": bank, "matching_enabled_ratio": 1.0}, indent=2).encode()
    for suffix in ("", ".db", ".dir", ".dat", ".bak"):
        (folder / CONTENT_DIR / f"{bank}{suffix}").unlink(missing_ok=True)
    now = int(time.time())
    with dbm.open(str(folder / CONTENT_DIR / bank), "c") as db:
        for offset, (pytx, entry) in enumerate(items):
            content_id = first_id + offset
            extra = entry.extra or {}
            collab = {
                str(k): [str(x) for x in v]
                for k, v in dict(extra.get("collab_metadata") or {}).items()
            }
            if entry.source_labels:
                collab[LABELS_KEY] = list(entry.source_labels)
            if entry.label:
                collab[LABEL_KEY] = [entry.label]
            stored = {
                "id": content_id,
                "disable_until_ts": ENABLED,
                "collab_metadata": collab,
                "original_media_uri": extra.get("original_media_uri"),
                "created_ts": int(entry.first_seen.timestamp()) if entry.first_seen else now,
                "signals": {pytx: entry.value},
            }
            db[str(content_id)] = json.dumps(stored, indent=2).encode()
    return len(items), skipped
