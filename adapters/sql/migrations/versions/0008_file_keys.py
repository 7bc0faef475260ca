"""Files: indexes on the blob keys, and `tt_known_file_keys`, the one cross-family read of
`files`: which of some blob keys a file row names, for the orphan-blob sweep (docs/files.md).

Revision ID: 0008_file_keys
Revises: 0007_lost_pet_alerts
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

from alembic import context, op

revision = "0008_file_keys"
down_revision = "0007_lost_pet_alerts"
branch_labels = None
depends_on = None


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


# SECURITY DEFINER (runs as the table owner, past row-level security) and it reveals only
# which of the keys the caller names are in use: keys are made of random UUIDv7 ids, so a
# caller cannot learn anything it could not already name.
_FUNCTION = """
CREATE FUNCTION tt_known_file_keys(p_keys text[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k FROM pg_catalog.unnest(p_keys) AS k
    WHERE EXISTS (SELECT 1 FROM public.files f WHERE f.storage_key = k)
       OR EXISTS (SELECT 1 FROM public.files f WHERE f.thumbnail_key = k)
$$;
"""


def upgrade() -> None:
    op.create_index("ix_files_storage_key", "files", ["storage_key"])
    op.create_index("ix_files_thumbnail_key", "files", ["thumbnail_key"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        op.execute("REVOKE ALL ON FUNCTION tt_known_file_keys(text[]) FROM PUBLIC")
        role = _app_role()
        grant = f"GRANT EXECUTE ON FUNCTION tt_known_file_keys(text[]) TO {role}"
        op.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN EXECUTE '{grant}'; END IF; END $$"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tt_known_file_keys(text[])")
    op.drop_index("ix_files_thumbnail_key", "files")
    op.drop_index("ix_files_storage_key", "files")
