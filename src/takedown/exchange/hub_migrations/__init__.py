"""The hub database's own Alembic chain (see takedown.exchange.hub_schema)."""
