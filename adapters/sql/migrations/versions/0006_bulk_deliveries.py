"""Bulk enqueue of notification deliveries on PostgreSQL: one statement for a batch.

Inserting a batch and learning which keys were new needs RETURNING, and under row-level
security RETURNING applies the SELECT policy, which hides deliveries for other users (an
alert fan-out enqueues for its recipients). This SECURITY DEFINER function inserts the
batch (ON CONFLICT (key) DO NOTHING) and returns the ids that went in. It only inserts
deliveries, which the INSERT policy already allows to anyone.

Revision ID: 0006_bulk_deliveries
Revises: 0005_files
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

from alembic import context, op

revision = "0006_bulk_deliveries"
down_revision = "0005_files"
branch_labels = None
depends_on = None

_SIGNATURE = "tt_insert_deliveries(jsonb)"


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
CREATE FUNCTION tt_insert_deliveries(p_rows jsonb) RETURNS SETOF uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.deliveries
    SELECT * FROM jsonb_populate_recordset(NULL::public.deliveries, p_rows)
    ON CONFLICT (key) DO NOTHING
    RETURNING id
$$;
"""
    )
    op.execute(f"REVOKE ALL ON FUNCTION {_SIGNATURE} FROM PUBLIC")
    role = _app_role()
    grant = f"GRANT EXECUTE ON FUNCTION {_SIGNATURE} TO {role}"
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
        f"THEN EXECUTE '{grant}'; END IF; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_SIGNATURE}")
