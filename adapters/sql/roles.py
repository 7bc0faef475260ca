"""PostgreSQL provisioning: the two roles row-level security relies on, and the database.

- the owner role owns the schema and runs migrations; it has BYPASSRLS so that the
  SECURITY DEFINER functions the policies call can read memberships;
- the app role is what the application connects as: no superuser, no BYPASSRLS, owns
  nothing, so every policy applies to it.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from adapters.sql.engine import normalise_url

__all__ = ["provision_postgres"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def provision_postgres(
    admin_url: str,
    database: str,
    *,
    owner_role: str = "tailtracker_owner",
    app_role: str = "tailtracker_app",
    app_password: str = "tailtracker",  # noqa: S107 - a development default; pass a secret in production
    owner_password: str | None = None,
) -> tuple[str, str]:
    """Create (or bring in line) both roles and the database; return (owner_url, app_url).

    Idempotent: run it on every deploy. `admin_url` needs CREATEROLE and CREATEDB, and
    superuser to grant BYPASSRLS to the owner role and to create the PostGIS extension in the
    database (the server needs the PostGIS package). Then run `migrate(owner_url)`.
    """
    for name in (database, owner_role, app_role):
        if not _IDENTIFIER.match(name):
            raise ValueError(f"use a plain lower-case identifier, not {name!r}")
    admin = normalise_url(admin_url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            owner_login = f"PASSWORD {_literal(owner_password)}" if owner_password else ""
            _ensure_role(conn, owner_role, f"LOGIN NOSUPERUSER NOCREATEROLE BYPASSRLS {owner_login}")
            _ensure_role(
                conn,
                app_role,
                "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT "
                f"PASSWORD {_literal(app_password)}",
            )
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
            ).first()
            if exists is None:
                try:
                    conn.exec_driver_sql(f'CREATE DATABASE "{database}" OWNER "{owner_role}"')
                except DBAPIError as exc:  # created meanwhile by a concurrent run
                    if not _raced(exc):
                        raise
            conn.exec_driver_sql(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
            conn.exec_driver_sql(f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{app_role}"')
    finally:
        engine.dispose()
    _ensure_postgis(admin.set(database=database))
    owner_url = _url(admin, owner_role, owner_password, database)
    app_url = _url(admin, app_role, app_password, database)
    return owner_url, app_url


def _ensure_postgis(database_url: URL) -> None:
    """PostGIS in the new database (the geo index, migration 0003). Only a superuser may
    create it (it is not a trusted extension), hence here and not in the migration."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first():
                return
            if (
                conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
                is None
            ):
                raise RuntimeError(
                    "PostGIS is not installed on the PostgreSQL server (Debian/Ubuntu: "
                    "apt-get install postgresql-15-postgis-3); see docs/operations.md"
                )
            try:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            except DBAPIError as exc:  # created meanwhile by a concurrent run
                if not _raced(exc):
                    raise
    finally:
        engine.dispose()


def _ensure_role(conn: Connection, role: str, options: str) -> None:
    found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if found is None:
        try:
            conn.exec_driver_sql(f'CREATE ROLE "{role}" {options}')
            return
        except DBAPIError as exc:  # created meanwhile by a concurrent run: align it below
            if not _raced(exc):
                raise
    conn.exec_driver_sql(f'ALTER ROLE "{role}" {options}')


def _raced(exc: DBAPIError) -> bool:
    return "already exists" in str(exc) or "duplicate key" in str(exc)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _url(admin: URL, user: str, password: str | None, database: str) -> str:
    url = admin.set(drivername="postgresql", username=user, password=password, database=database)
    return url.render_as_string(hide_password=False)
