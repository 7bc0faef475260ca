"""Alembic environment: runs on the connection `adapters.sql.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through adapters.sql.migrate(url), which supplies the connection")

context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two processes migrating at once (e.g. pods starting together) take turns.
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('tailtracker.migrate'))"))
    context.run_migrations()
