"""Alembic environment and revisions of the SQL adapter (run through `adapters.sql.migrate`)."""
