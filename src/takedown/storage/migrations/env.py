"""Alembic environment: runs on the engine handed in by takedown.storage.db.migrate."""

from __future__ import annotations

from alembic import context

from takedown.storage.tables import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
