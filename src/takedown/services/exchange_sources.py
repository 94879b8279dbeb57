"""The node's list of exchange sources, read once at start-up from a YAML or JSON file
(TAKEDOWN_EXCHANGE_SOURCES). Bad entries are reported with their position and field.

    sources:
      - name: regional-hub          # unique; names the source in provenance and the ledger
        kind: takedown              # an exchange kind (`takedown exchange kinds` lists them)
        bank: regional-hub          # local bank the entries go to (default: the name)
        label: TVEC1                # that bank's label when it is created
        follow: true                # keep following in `serve`/`worker` (long-poll)
        wait: 20                    # long-poll seconds, for kinds that support it
        page_size: 1000
        publish_banks: [confirmed]  # opt-in: local banks whose entries are published here
        options: {url: "https://hub.example", token_file: /etc/takedown/hub.token}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from takedown.core.errors import InvalidInput
from takedown.core.taxonomy import TvecLabel, parse_label


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    bank: str
    label: TvecLabel = TvecLabel.BRANDED
    severity: int = 3
    follow: bool = True
    wait: float = 20.0
    page_size: int = 1000
    # Entries per committed batch of a bulk sync (pages are never split across commits).
    batch_entries: int = 50_000
    publish_banks: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


def _source(raw: Any, position: int) -> SourceConfig:
    where = f"sources[{position}]"
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where} must be a mapping")
    unknown = set(raw) - set(SourceConfig.__dataclass_fields__)
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    try:
        name = str(raw["name"]).strip()
        kind = str(raw["kind"]).strip()
    except KeyError as missing:
        raise InvalidInput(f"{where} needs {missing}") from None
    if not name or len(name) > 128:
        raise InvalidInput(f"{where}.name must be 1 to 128 characters")
    options = raw.get("options") or {}
    if not isinstance(options, Mapping):
        raise InvalidInput(f"{where}.options must be a mapping")
    publish = raw.get("publish_banks") or []
    if not isinstance(publish, list):
        raise InvalidInput(f"{where}.publish_banks must be a list of bank names")
    try:
        return SourceConfig(
            name=name,
            kind=kind,
            bank=str(raw.get("bank") or name),
            label=parse_label(str(raw.get("label", TvecLabel.BRANDED.value))),
            severity=int(raw.get("severity", 3)),
            follow=bool(raw.get("follow", True)),
            wait=float(raw.get("wait", 20.0)),
            page_size=int(raw.get("page_size", 1000)),
            batch_entries=int(raw.get("batch_entries", 50_000)),
            publish_banks=tuple(str(b) for b in publish),
            options=dict(options),
        )
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"{where}: {error}") from None
    except InvalidInput as error:
        raise InvalidInput(f"{where}: {error.message}", hint=error.hint) from None


def parse_sources(data: Any) -> list[SourceConfig]:
    if not isinstance(data, Mapping) or not isinstance(data.get("sources"), list):
        raise InvalidInput("the sources file needs a top-level `sources:` list")
    sources = [_source(raw, n) for n, raw in enumerate(data["sources"])]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise InvalidInput("source names must be unique")
    banks = [s.bank for s in sources]
    if len(set(banks)) != len(banks):
        raise InvalidInput("each source needs its own bank (retractions are per source)")
    return sources


def load_sources(path: Path) -> list[SourceConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInput(f"cannot read sources file {path}: {error.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidInput(
            f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {error}"
        ) from None
    return parse_sources(data)
