"""Calendar feeds: secret, revocable iCalendar subscription tokens (stored as SHA-256 hashes).

On PostgreSQL: row-level security (a user sees and changes only their own feeds, in families
they belong to), the SECURITY DEFINER look-up by token hash for anonymous calendar apps, and
the app role's grants.

Revision ID: 0012_calendar_feeds
Revises: 0011_lost_pet_alert_batches
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op

revision = "0012_calendar_feeds"
down_revision = "0011_lost_pet_alert_batches"
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


_MINE = "created_by = public.tt_current_user() AND family_id IN (SELECT public.tt_member_families())"

_POLICIES = f"""
CREATE POLICY calendar_feeds_select ON calendar_feeds FOR SELECT USING ({_MINE});
CREATE POLICY calendar_feeds_insert ON calendar_feeds FOR INSERT WITH CHECK ({_MINE});
CREATE POLICY calendar_feeds_update ON calendar_feeds FOR UPDATE USING ({_MINE}) WITH CHECK ({_MINE});
CREATE POLICY calendar_feeds_delete ON calendar_feeds FOR DELETE USING ({_MINE});
"""

# A calendar app presents only the token: nobody is signed in. This returns the one feed row
# behind a token hash (revoked or not; the use case decides), nothing else. The use case then
# reads the feed's content as the feed's creator, under the ordinary policies.
_LOOKUP = """
CREATE FUNCTION tt_calendar_feed_by_token(p_token_hash text)
RETURNS TABLE (
    id uuid, scope text, family_id uuid, pet_id uuid, token_hash text, created_by uuid,
    created_at timestamptz, revoked_at timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT f.id, f.scope::text, f.family_id, f.pet_id, f.token_hash::text, f.created_by,
           f.created_at, f.revoked_at
    FROM public.calendar_feeds f
    WHERE f.token_hash = p_token_hash
$$;
"""
_SIGNATURE = "tt_calendar_feed_by_token(text)"


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pet_id", sa.Uuid(), sa.ForeignKey("pets.id", ondelete="CASCADE")),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("created_by", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.CheckConstraint(
            "(scope = 'pet' AND pet_id IS NOT NULL) OR (scope = 'family' AND pet_id IS NULL)",
            name="ck_calendar_feeds_scope",
        ),
    )
    op.create_index("ux_calendar_feeds_token_hash", "calendar_feeds", ["token_hash"], unique=True)
    op.create_index(
        "ux_calendar_feeds_live_pet",
        "calendar_feeds",
        ["created_by", "pet_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL AND scope = 'pet'"),
        postgresql_where=sa.text("revoked_at IS NULL AND scope = 'pet'"),
    )
    op.create_index(
        "ux_calendar_feeds_live_family",
        "calendar_feeds",
        ["created_by", "family_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL AND scope = 'family'"),
        postgresql_where=sa.text("revoked_at IS NULL AND scope = 'family'"),
    )
    op.create_index("ix_calendar_feeds_family_id", "calendar_feeds", ["family_id"])
    op.create_index("ix_calendar_feeds_pet_id", "calendar_feeds", ["pet_id"])

    if op.get_bind().dialect.name == "postgresql":
        role = _app_role()
        op.execute("ALTER TABLE calendar_feeds ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE calendar_feeds FORCE ROW LEVEL SECURITY")
        op.execute(_POLICIES)
        op.execute(_LOOKUP)
        op.execute(f"REVOKE ALL ON FUNCTION {_SIGNATURE} FROM PUBLIC")
        grants = [
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_feeds TO {role}",
            f"GRANT EXECUTE ON FUNCTION {_SIGNATURE} TO {role}",
        ]
        body = "".join(f"EXECUTE '{g}'; " for g in grants)
        op.execute(
            f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN {body}END IF; END $$"
        )


def downgrade() -> None:
    op.drop_table("calendar_feeds")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_SIGNATURE}")
