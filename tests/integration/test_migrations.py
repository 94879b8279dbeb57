"""The Alembic migrations produce exactly the schema the code's metadata describes, and what
it must hold (long values) it holds on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from takedown.core.banks import Bank
from takedown.core.taxonomy import TvecLabel
from takedown.storage import banks as bank_store
from takedown.storage.tables import POSTGRES_FORMS, bank_entries, metadata


def test_migrations_match_the_table_definitions(engine: Engine) -> None:
    def comparable(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        # PostgreSQL's forms of these indexes (md5, hash) cannot be stated in metadata for
        # both dialects; test_long_bank_values_are_stored_unique_and_found checks them.
        return not (engine.dialect.name == "postgresql" and name in POSTGRES_FORMS)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": comparable})
        diff = compare_metadata(context, metadata)
    assert diff == []


def _vpdq(seconds: int, seed: int) -> str:
    """A clip's vPDQ value as banks store it: one frame hash a second, ~80 characters each."""
    frames = [f'"{(seed * 7919 + n) % 16**64:064x},100,{n}.000"' for n in range(seconds)]
    return "[" + ",".join(frames) + "]"


def test_long_bank_values_are_stored_unique_and_found(engine: Engine) -> None:
    """A two-minute clip's vPDQ (~10 KB) was refused on PostgreSQL (varchar(512), then a B-tree
    key limit of ~2.7 KB) and broke both banking and sync of any clip over six seconds."""
    long_a, long_b = _vpdq(120, 1), _vpdq(120, 2)
    assert len(long_a) > 9000 and long_a[:500] != long_b[:500]
    shared_start = long_a[:-30] + "]"  # same first two minutes but the last frame
    with engine.begin() as conn:
        bank_store.upsert_bank(conn, Bank("clips", TvecLabel.PRAISE), actor="test")
        added, present = bank_store.add_entries(
            conn, "clips", [("vpdq", v, None) for v in (long_a, long_b, shared_start)],
            actor="test")
        assert (added, present) == (3, 0)
        assert bank_store.add_entries(conn, "clips", [("vpdq", long_a, None)],
                                      actor="test") == (0, 1)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(bank_entries.insert().values(
            bank="clips", signal_type="vpdq", value=long_a, created_at=datetime.now(UTC)))
    with engine.connect() as conn:
        found = conn.execute(select(bank_entries.c.value).where(
            bank_entries.c.value == long_b)).scalars().all()
    assert found == [long_b]
