"""Initial schema: accounts, families, invitations, pets, consents, subscriptions, erasure
requests and the outbox; on PostgreSQL also row-level security and the app role's grants.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

FAMILY_TABLES = ("families", "memberships", "invitations", "pets")
APP_TABLES = (
    "users",
    "families",
    "memberships",
    "invitations",
    "pets",
    "consent_records",
    "subscriptions",
    "erasure_requests",
    "outbox",
)


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("email_key", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("alert_lat", sa.Double()),
        sa.Column("alert_lon", sa.Double()),
        sa.Column("alert_radius_km", sa.Double()),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ux_users_email_key", "users", ["email_key"], unique=True)

    op.create_table(
        "families",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])

    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("accepted_at", TS),
        sa.Column("accepted_by", sa.Uuid()),
        sa.Column("revoked_at", TS),
    )
    op.create_index("ux_invitations_token_hash", "invitations", ["token_hash"], unique=True)
    op.create_index("ix_invitations_family_id", "invitations", ["family_id"])

    op.create_table(
        "pets",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("species", sa.String(16), nullable=False),
        sa.Column("sex", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("breed", sa.String(100)),
        sa.Column("birth_date", sa.Date()),
        sa.Column("colors", JSON_LIST, nullable=False),
        sa.Column("size", sa.String(16)),
        sa.Column("weight_kg", sa.Double()),
        sa.Column("microchip", sa.String(15)),
        sa.Column("neutered", sa.Boolean()),
        sa.Column("notes", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_pets_family_id_id", "pets", ["family_id", "id"])

    op.create_table(
        "consent_records",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.String(40), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
    )
    op.create_index("ix_consent_records_user", "consent_records", ["user_id", "recorded_at", "id"])

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_period_end", TS),
        sa.Column("provider", sa.String(32), nullable=False),
    )
    op.create_index("ix_subscriptions_user_id", "subscriptions", ["user_id"])

    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("completed_at", TS),
    )
    op.create_index("ix_erasure_requests_user_id", "erasure_requests", ["user_id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
    )
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["created_at", "id"],
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )

    if op.get_bind().dialect.name == "postgresql":
        _row_level_security(_app_role())


# Every SECURITY DEFINER function pins its search_path so that no object the caller can create shadows a
# table or a function; SECURITY DEFINER ones run as the table owner (BYPASSRLS), which is
# what lets a policy ask "which families is this user in?" without recursing into the
# memberships policy itself.
_FUNCTIONS = """
-- Not SECURITY DEFINER and without a SET clause, so the planner inlines it; every name in it
-- is qualified, so no search_path can redirect it.
CREATE FUNCTION tt_current_user() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(pg_catalog.current_setting('tailtracker.user_id', true), '')::pg_catalog.uuid
$$;

-- PL/pgSQL rather than SQL for the functions on the hot path: PostgreSQL 15 plans a SQL
-- function's body on every call, PL/pgSQL caches the plan for the session.
CREATE FUNCTION tt_current_email() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN (SELECT u.email_key::text FROM public.users u WHERE u.id = public.tt_current_user());
END
$$;

CREATE FUNCTION tt_member_families() RETURNS SETOF uuid ROWS 10
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY SELECT m.family_id FROM public.memberships m WHERE m.user_id = public.tt_current_user();
END
$$;

CREATE FUNCTION tt_owner_families() RETURNS SETOF uuid ROWS 10
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY SELECT m.family_id FROM public.memberships m
        WHERE m.user_id = public.tt_current_user() AND m.role = 'owner';
END
$$;

-- A user may add themself to a family that has no member yet (founding it) or whose
-- invitation they have just accepted; any other membership is an owner's to add.
CREATE FUNCTION tt_may_join(p_family_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT NOT EXISTS (SELECT 1 FROM public.memberships WHERE family_id = p_family_id)
        OR EXISTS (
            SELECT 1 FROM public.invitations
            WHERE family_id = p_family_id
              AND accepted_by = public.tt_current_user()
              AND revoked_at IS NULL
        )
$$;

-- The invitation behind a token, with what its preview shows, for anyone who holds the
-- token (an invitee is not a member, and may not even be signed in).
CREATE FUNCTION tt_invitation_by_token(p_token_hash text)
RETURNS TABLE (
    id uuid, family_id uuid, email text, role text, token_hash text, invited_by uuid,
    created_at timestamptz, expires_at timestamptz, accepted_at timestamptz,
    accepted_by uuid, revoked_at timestamptz, family_name text, inviter_name text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT i.id, i.family_id, i.email::text, i.role::text, i.token_hash::text, i.invited_by,
           i.created_at, i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at,
           f.name::text, u.display_name::text
    FROM public.invitations i
    JOIN public.families f ON f.id = i.family_id
    LEFT JOIN public.users u ON u.id = i.invited_by
    WHERE i.token_hash = p_token_hash
$$;
"""

_FUNCTION_SIGNATURES = (
    "tt_current_user()",
    "tt_current_email()",
    "tt_member_families()",
    "tt_owner_families()",
    "tt_may_join(uuid)",
    "tt_invitation_by_token(text)",
)

_MEMBER = "(SELECT public.tt_member_families())"
_OWNER = "(SELECT public.tt_owner_families())"
_INVITEE = "lower(email) = public.tt_current_email()"

_POLICIES = f"""
CREATE POLICY families_select ON families FOR SELECT USING (id IN {_MEMBER});
CREATE POLICY families_insert ON families FOR INSERT WITH CHECK (public.tt_current_user() IS NOT NULL);
CREATE POLICY families_update ON families FOR UPDATE
    USING (id IN {_MEMBER}) WITH CHECK (id IN {_MEMBER});
CREATE POLICY families_delete ON families FOR DELETE USING (id IN {_OWNER});

CREATE POLICY memberships_select ON memberships FOR SELECT USING (family_id IN {_MEMBER});
CREATE POLICY memberships_insert ON memberships FOR INSERT WITH CHECK (
    (user_id = public.tt_current_user() AND public.tt_may_join(family_id)) OR family_id IN {_OWNER}
);
CREATE POLICY memberships_update ON memberships FOR UPDATE
    USING (family_id IN {_OWNER}) WITH CHECK (family_id IN {_OWNER});
CREATE POLICY memberships_delete ON memberships FOR DELETE
    USING (user_id = public.tt_current_user() OR family_id IN {_OWNER});

CREATE POLICY invitations_select ON invitations FOR SELECT
    USING (family_id IN {_MEMBER} OR {_INVITEE});
CREATE POLICY invitations_insert ON invitations FOR INSERT WITH CHECK (family_id IN {_OWNER});
CREATE POLICY invitations_update ON invitations FOR UPDATE
    USING (family_id IN {_MEMBER} OR {_INVITEE}) WITH CHECK (family_id IN {_MEMBER} OR {_INVITEE});
CREATE POLICY invitations_delete ON invitations FOR DELETE USING (family_id IN {_OWNER});

CREATE POLICY pets_all ON pets FOR ALL USING (family_id IN {_MEMBER}) WITH CHECK (family_id IN {_MEMBER});
"""


def _row_level_security(app_role: str) -> None:
    op.execute(_FUNCTIONS)
    for table in FAMILY_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(_POLICIES)
    for signature in _FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    grants = [
        f"GRANT USAGE ON SCHEMA public TO {app_role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(APP_TABLES)} TO {app_role}",
        *(f"GRANT EXECUTE ON FUNCTION {signature} TO {app_role}" for signature in _FUNCTION_SIGNATURES),
    ]
    # Without the role (say, a development database used by one superuser) there is nothing
    # to grant; provision_postgres creates it before the first migration.
    body = "".join(f"EXECUTE {_quote(g)}; " for g in grants)
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_quote(app_role)}) "
        f"THEN {body}ELSE RAISE NOTICE 'role % does not exist: no grants', {_quote(app_role)}; "
        "END IF; END $$"
    )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def downgrade() -> None:
    # Policies go with their tables.
    for table in reversed(APP_TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for signature in _FUNCTION_SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
