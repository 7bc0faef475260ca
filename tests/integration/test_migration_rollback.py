"""Migrations undo themselves: taking the schema back and forward again leaves exactly the
schema a straight upgrade gave (tables, columns, indexes, views, triggers, functions and their
grants), on SQLite and on PostgreSQL. A rollback of a deploy runs `downgrade`; a downgrade
that forgets an index or a function would leave the next upgrade failing or the schema
drifting, and nothing else would notice. Every migration is undone, down to an empty schema,
then redone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from adapters.sql.migrate import downgrade, migrate
from tests.fixtures.sql import PostgresDatabase

_POSTGIS = {"spatial_ref_sys", "geography_columns", "geometry_columns"}  # the extension's own
_PG_SCHEMA = """
SELECT 'column', table_name || '.' || column_name, data_type || ' ' || is_nullable
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = 'public'
UNION ALL SELECT 'trigger', tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT tgisinternal
UNION ALL SELECT 'function', p.oid::regprocedure::text,
         md5(pg_get_functiondef(p.oid)) || ' ' || coalesce(array_to_string(p.proacl, ','), '')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = 'public' AND p.proname LIKE 'tt\\_%'
UNION ALL SELECT 'grant', table_name, grantee || ' ' || privilege_type
  FROM information_schema.role_table_grants WHERE table_schema = 'public'
ORDER BY 1, 2, 3
"""


def _schema(url: str, sql: str) -> list[tuple[str, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(str(v) for v in row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _pg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def test_sqlite_migrations_go_back_and_forward_to_the_same_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    sql = (
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1, 2"
    )
    migrate(url)
    upgraded = _schema(url, sql)
    downgrade(url, "-1")
    names = {name for _, name, _ in _schema(url, sql)}
    assert "ix_pets_microchip" not in names and "ix_pets_family_id_id" in names  # the last one undone
    downgrade(url, "base")
    assert {name for _, name, _ in _schema(url, sql)} <= {"alembic_version"}
    migrate(url)
    assert _schema(url, sql) == upgraded


@pytest.mark.postgres
def test_postgres_migrations_go_back_and_forward_to_the_same_schema(
    postgres_database: PostgresDatabase,
) -> None:
    url = _pg(postgres_database.owner_url)
    upgraded = _schema(url, _PG_SCHEMA)
    assert any(kind == "function" and "tt_found_reports_with_chip" in name for kind, name, _ in upgraded)
    try:
        downgrade(postgres_database.owner_url, "-1")
        names = {name for _, name, _ in _schema(url, _PG_SCHEMA)}
        assert not any("with_chip" in name or name == "ix_pets_microchip" for name in names)
        assert "ix_lost_reports_open_mercator" in names  # only the last one undone
        downgrade(postgres_database.owner_url, "base")
        left = {(kind, name) for kind, name, _ in _schema(url, _PG_SCHEMA)}
        tables = {name.split(".")[0] for kind, name in left if kind == "column"}
        assert tables <= {"alembic_version", *_POSTGIS}, tables
        assert not any(kind in {"trigger", "function"} for kind, _ in left), left
    finally:
        migrate(postgres_database.owner_url)
    assert _schema(url, _PG_SCHEMA) == upgraded
