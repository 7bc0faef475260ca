"""Files: metadata of pets' photos and documents (the bytes are in the FileStore); on
PostgreSQL row-level security like `pets` and the app role's grants.

Revision ID: 0005_files
Revises: 0004_notifications
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op

revision = "0005_files"
down_revision = "0004_notifications"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pet_id", sa.Uuid(), sa.ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("width", sa.Integer()),
        sa.Column("height", sa.Integer()),
        sa.Column("thumbnail_key", sa.String(512)),
        sa.Column("thumbnail_content_type", sa.String(64)),
        sa.Column("thumbnail_size_bytes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("size_bytes >= 0 AND thumbnail_size_bytes >= 0", name="ck_files_sizes"),
    )
    op.create_index("ix_files_pet_id_kind_id", "files", ["pet_id", "kind", "id"])
    op.create_index("ix_files_family_id", "files", ["family_id"])
    if op.get_bind().dialect.name == "postgresql":
        # As `pets`: members of the file's family only, for every command; the pet must be one
        # of that family's (a row cannot attach a file to another family's pet).
        op.execute("ALTER TABLE files ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE files FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY files_all ON files FOR ALL "
            "USING (family_id IN (SELECT public.tt_member_families())) "
            "WITH CHECK (family_id IN (SELECT public.tt_member_families()) "
            "AND EXISTS (SELECT 1 FROM public.pets p WHERE p.id = pet_id AND p.family_id = files.family_id))"
        )
        role = _app_role()
        grant = f"GRANT SELECT, INSERT, UPDATE, DELETE ON files TO {role}"
        op.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN EXECUTE '{grant}'; END IF; END $$"
        )


def downgrade() -> None:
    op.drop_table("files")
