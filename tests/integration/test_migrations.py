"""The Alembic migrations produce exactly the schema the code's metadata describes."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from takedown.exchange.hub_tables import hub_metadata
from takedown.storage.tables import metadata

# The hub keeps its own schema (created by `takedown hub serve`, not by these migrations); an
# operator may still point hub and node at one database, as the hub tests on PostgreSQL do.
HUB_TABLES = frozenset(hub_metadata.tables) - frozenset(metadata.tables)


def _node_schema(name: str | None, type_: str, parent: dict[str, Any]) -> bool:
    if type_ == "table":
        return name not in HUB_TABLES
    return parent.get("table_name") not in HUB_TABLES


def test_migrations_match_the_table_definitions(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _node_schema})
        diff = compare_metadata(context, metadata)
    assert diff == []
