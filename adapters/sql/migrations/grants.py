"""Granting the app role from a migration (migrations from 0014 on; the earlier ones carry
their own copy and stay as they were run)."""

from __future__ import annotations

import re

from alembic import context, op

__all__ = ["grant_to_app_role"]


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def grant_to_app_role(*grants: str) -> None:
    """Run each `GRANT ... TO {role}` for the app role when that role exists (a NOTICE
    otherwise: a database migrated before its roles are provisioned gets its grants then)."""
    role = _app_role()
    statements = "".join(f"EXECUTE {_quote(g.format(role=role))}; " for g in grants)
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_quote(role)}) "  # noqa: S608
        f"THEN {statements}ELSE RAISE NOTICE 'role % does not exist: no grants', "
        f"{_quote(role)}; END IF; END $$"
    )
