"""What every interchange format shares: parse results, signal names, value checks.

Formats read into `ExchangeEntry` (the exchange interface's record) so a file imported into a
bank and a page fetched from a peer are the same thing to the code that stores them. A record
that cannot be read stops the whole parse with its line number (nothing is half-imported); a
record of a signal type Takedown cannot match (SHA-512, TMK) is skipped and counted, never
silently dropped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from takedown.core.errors import InvalidInput
from takedown.exchange.client import ExchangeEntry

# Takedown signal type → python-threatexchange signal type name (SignalType.get_name()).
# python-threatexchange's `video_md5`/`video_sha256` are plain file digests, like ours.
TO_PYTX: dict[str, str] = {
    "md5": "video_md5",
    "sha256": "video_sha256",
    "pdq": "pdq",
    "url": "url",
    "vpdq": "vpdq",
}
FROM_PYTX: dict[str, str] = {v: k for k, v in TO_PYTX.items()}

# Names peers use for a signal type, normalised to Takedown's registry names.
ALIASES: dict[str, str] = {
    "md5": "md5",
    "video_md5": "md5",
    "photo_md5": "md5",
    "sha256": "sha256",
    "video_sha256": "sha256",
    "pdq": "pdq",
    "url": "url",
    "uri": "url",
    "raw_uri": "url",
    "vpdq": "vpdq",
}

# ThreatExchange indicator types (`type` in threat_updates) → Takedown signal types.
INDICATOR_TYPES: dict[str, str] = {
    "HASH_PDQ": "pdq",
    "HASH_MD5": "md5",
    "HASH_VIDEO_MD5": "md5",
    "HASH_SHA256": "sha256",
    "HASH_VIDEO_SHA256": "sha256",
    "URI": "url",
    "RAW_URI": "url",
}
# Takedown signal type → the indicator type written on export.
TO_INDICATOR: dict[str, str] = {
    "pdq": "HASH_PDQ",
    "md5": "HASH_MD5",
    "sha256": "HASH_SHA256",
    "url": "URI",
}

# Types peers send that Takedown cannot match; skipped with a count.
UNSUPPORTED: frozenset[str] = frozenset({"sha512", "sha1", "tmk", "pdq_ocr", "raw_text", "url_md5"})

_HEX_LENGTHS: dict[str, int] = {"md5": 32, "sha256": 64, "pdq": 64, "text_sha256": 64}
_HEX = re.compile(r"[0-9a-f]+")
_VPDQ_FRAME = re.compile(r"([0-9a-fA-F]{64}),\s*(100|[0-9]{1,2}),\s*([0-9]+(?:\.[0-9]+)?)")


@dataclass
class ParseResult:
    """Entries read from a file, and what was skipped (reason → count)."""

    entries: list[ExchangeEntry] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1


def bad_record(where: str, line: int, message: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(f"{where}:{line}: {message}", hint=hint)


def signal_name(raw: str, known: Sequence[str] | frozenset[str]) -> str | None:
    """A peer's signal type name → Takedown's, or None when Takedown cannot match it."""
    name = raw.strip().lower()
    name = ALIASES.get(name, name)
    if name in UNSUPPORTED or name not in known:
        return None
    return name


def check_value(signal_type: str, value: str) -> str:
    """Canonical value, or ValueError: a malformed hash must not enter a bank unnoticed."""
    value = value.strip()
    if not value:
        raise ValueError("empty value")
    if signal_type == "vpdq":
        return _vpdq_value(value)
    length = _HEX_LENGTHS.get(signal_type)
    if length is None:
        return value
    lowered = value.lower()
    if len(lowered) != length or not _HEX.fullmatch(lowered):
        raise ValueError(f"{signal_type} must be {length} hex digits, got {value[:80]!r}")
    return lowered


def _vpdq_value(value: str) -> str:
    """HMA's vPDQ serialisation (a JSON list of `pdq_hex,quality,timestamp`), written the way
    Takedown's vpdq signal writes it, so the same video dedupes to one bank entry."""
    try:
        frames = json.loads(value)
    except ValueError:
        raise ValueError("vpdq must be a JSON list of 'hex,quality,timestamp'") from None
    if not isinstance(frames, list) or not frames:
        raise ValueError("vpdq must be a non-empty JSON list of 'hex,quality,timestamp'")
    out = []
    for frame in frames:
        match = _VPDQ_FRAME.fullmatch(str(frame).strip())
        if match is None:
            raise ValueError(f"bad vpdq frame {str(frame)[:90]!r}")
        pdq_hex, quality, timestamp = match.groups()
        out.append(f"{pdq_hex.lower()},{int(quality)},{float(timestamp):.3f}")
    return json.dumps(out, separators=(",", ":"))


def parse_time(value: object) -> datetime | None:
    """ISO 8601 text or a Unix timestamp (int, float or digits) → aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def split_labels(value: object) -> tuple[str, ...]:
    """Labels as a list, or one string separated by `|`, `;` or `,` (CSV cells)."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(p.strip() for p in re.split(r"[|;,]", str(value)) if p.strip())
