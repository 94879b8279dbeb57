"""The hub database's schema, versioned by its own Alembic chain (hub_migrations/).

A hub is its own database, so its revisions never mix with a node's: they are recorded in
`hub_alembic_version`, and a hub may even share one PostgreSQL database with a node. The hub
runs `migrate_hub` at start (`takedown hub serve`, `hub member add`); a hub database made before
the chain existed (tables created straight from the metadata, which equal revision 0001) is
stamped at 0001 first and then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from takedown.storage.db import alembic_config

HUB_MIGRATIONS_DIR = Path(__file__).with_name("hub_migrations")
VERSION_TABLE = "hub_alembic_version"
BASELINE = "0001"


def hub_alembic_config(engine: Engine) -> Config:
    return alembic_config(engine, HUB_MIGRATIONS_DIR)


def migrate_hub(engine: Engine) -> None:
    """Bring the hub schema to the newest revision (idempotent)."""
    config = hub_alembic_config(engine)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    if "hub_entries" in tables and VERSION_TABLE not in tables:
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")
