"""Alembic environment of the hub database: runs on the engine handed in by
takedown.exchange.hub_schema.migrate_hub, and records its revision in `hub_alembic_version`, so
a hub sharing one database with a node never reads or moves the node's `alembic_version`."""

from __future__ import annotations

from typing import Any

from alembic import context

from takedown.exchange.hub_schema import VERSION_TABLE
from takedown.exchange.hub_tables import hub_metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Compare only the hub's own tables: a database shared with a node holds the node's
    too, which are the node chain's business."""
    return not (type_ == "table" and reflected and name not in hub_metadata.tables)


engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=hub_metadata,
        render_as_batch=True,
        version_table=VERSION_TABLE,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
