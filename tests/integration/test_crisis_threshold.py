"""The crisis retro-scan matches with the receiving bank's own threshold, as live matching does,
not the signal type's default."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update

from takedown.exchange.client import ExchangeEntry
from takedown.services.exchange_node import ExchangeNode
from takedown.services.exchange_sources import SourceConfig
from takedown.signals.registry import default_registry
from takedown.storage.exchange import PageResult
from takedown.storage.tables import banks, signals, submissions


def flip(value: str, bits: int) -> str:
    number = int(value, 16)
    for bit in range(bits):
        number ^= 1 << (bit * 7)
    return f"{number:064x}"


def submit_pdq(engine: Engine, item_id: str, value: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(
            submissions.insert().values(
                item_id=item_id,
                kind="image",
                meta={},
                source="api",
                created_at=now,
                received_at=now,
                status="done",
            )
        )
        conn.execute(
            signals.insert().values(
                submission_id=row.inserted_primary_key[0], type="pdq", value=value, meta={}
            )
        )


@pytest.mark.parametrize(
    ("bank_threshold", "expected"), [(4, ["near"]), (40, ["far", "mid", "near"])]
)
def test_retro_scan_uses_the_banks_threshold(
    engine: Engine, bank_threshold: int, expected: list[str]
) -> None:
    registry = default_registry()
    source = SourceConfig(name="hub", kind="takedown", bank="hub-bank")
    node = ExchangeNode(engine, registry, [source], {})
    with engine.begin() as conn:
        conn.execute(
            update(banks)
            .where(banks.c.name == "hub-bank")
            .values(thresholds={"pdq": bank_threshold})
        )
    crisis = f"{random.Random(5).getrandbits(256):064x}"
    default = node.thresholds["pdq"]
    assert 10 < default < 36, "mid is inside the default threshold, far outside it"
    submit_pdq(engine, "near", flip(crisis, 2))
    submit_pdq(engine, "mid", flip(crisis, 10))
    submit_pdq(engine, "far", flip(crisis, 36))
    entry = ExchangeEntry("1", "pdq", crisis, label="TVEC1", crisis=True, tags=("crisis:x",))
    node._committed(source, PageResult(crisis=[(1, entry)]))
    assert sorted(hit.item_id for hit in node.crisis_hits) == expected
