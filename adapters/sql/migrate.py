"""`migrate(url)`: Alembic `upgrade head`, configured in code (any cwd, installed package);
`downgrade(url, revision)` the way back."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config

from adapters.sql.engine import engine_for

__all__ = ["DEFAULT_APP_ROLE", "downgrade", "migrate"]

DEFAULT_APP_ROLE = "tailtracker_app"
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def migrate(url: str, *, app_role: str = DEFAULT_APP_ROLE, revision: str = "head") -> None:
    """Bring the schema to the newest revision (or to `revision`); running it again changes
    nothing.

    On PostgreSQL, connect as the role that owns the tables (see `provision_postgres`); the
    migration grants `app_role` what the application needs, when that role exists.
    """
    _run(url, app_role, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str, *, app_role: str = DEFAULT_APP_ROLE) -> None:
    """Take the schema back to `revision` (an id, or relative such as "-1"): a rollback of a
    deploy, and how the tests check that each new migration undoes itself."""
    _run(url, app_role, lambda config: command.downgrade(config, revision))


def _run(url: str, app_role: str, step: Callable[[Config], None]) -> None:
    if not _IDENTIFIER.match(app_role):
        raise ValueError(f"not a plain role name: {app_role!r}")
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["app_role"] = app_role
    engine = engine_for(url, pool_size=1)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            step(config)
    finally:
        engine.dispose()
