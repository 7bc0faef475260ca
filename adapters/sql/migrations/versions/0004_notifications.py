"""Notifications: deliveries (one per idempotency key, ever), in-app notifications,
notification preferences and disabled (bounced) email addresses; on PostgreSQL row-level
security (each user sees their own) and the two SECURITY DEFINER cross-user functions.

Revision ID: 0004_notifications
Revises: 0003_lost_and_found
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0004_notifications"
down_revision = "0003_lost_and_found"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLES = ("deliveries", "notifications", "notification_preferences", "email_suppressions")


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("deliver_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("sent_at", TS),
        sa.Column("lease_until", TS),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ux_deliveries_key", "deliveries", ["key"], unique=True)
    op.create_index("ix_deliveries_user_id", "deliveries", ["user_id", "id"])
    op.create_index(
        "ix_deliveries_scheduled",
        "deliveries",
        ["deliver_at", "id"],
        sqlite_where=sa.text("status = 'scheduled'"),
        postgresql_where=sa.text("status = 'scheduled'"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS),
    )
    op.create_index("ux_notifications_delivery_id", "notifications", ["delivery_id"], unique=True)
    op.create_index("ix_notifications_user_id_id", "notifications", ["user_id", "id"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("choices", JSON, nullable=False),
        sa.Column("quiet_start", sa.String(8)),
        sa.Column("quiet_end", sa.String(8)),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "email_suppressions",
        sa.Column("email_key", sa.String(254), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _row_level_security(_app_role())


_FUNCTIONS = """
-- The scheduler's path across users: queue every due scheduled delivery, earliest first,
-- skipping rows another scheduler holds. Runs as the owner (BYPASSRLS); it can only move
-- scheduled rows whose time has come to queued, and returns their ids and recipients.
CREATE FUNCTION tt_queue_due_deliveries(p_now timestamptz, p_limit integer)
RETURNS TABLE (id uuid, user_id uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.deliveries d SET status = 'queued', version = d.version + 1
    FROM (
        SELECT x.id FROM public.deliveries x
        WHERE x.status = 'scheduled' AND x.deliver_at <= p_now
        ORDER BY x.deliver_at, x.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ) due
    WHERE d.id = due.id
    RETURNING d.id, d.user_id
$$;

-- Planners (reminders, alerts) read the preferences of the people they notify: read-only.
CREATE FUNCTION tt_notification_preferences(p_user_ids uuid[])
RETURNS TABLE (user_id uuid, choices jsonb, quiet_start text, quiet_end text, updated_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT p.user_id, p.choices, p.quiet_start::text, p.quiet_end::text, p.updated_at
    FROM public.notification_preferences p
    WHERE p.user_id = ANY (p_user_ids)
$$;
"""

_FUNCTION_SIGNATURES = ("tt_queue_due_deliveries(timestamptz, integer)", "tt_notification_preferences(uuid[])")

_ME = "user_id = public.tt_current_user()"
_POLICIES = f"""
CREATE POLICY notifications_own ON notifications FOR ALL USING ({_ME}) WITH CHECK ({_ME});
CREATE POLICY notification_preferences_own ON notification_preferences FOR ALL
    USING ({_ME}) WITH CHECK ({_ME});
-- Anyone's action may notify anyone (an alert, a sighting, a reminder for the whole family):
-- inserting is open; reading and changing are the recipient's (the worker acts as them).
CREATE POLICY deliveries_insert ON deliveries FOR INSERT WITH CHECK (true);
CREATE POLICY deliveries_select ON deliveries FOR SELECT USING ({_ME});
CREATE POLICY deliveries_update ON deliveries FOR UPDATE USING ({_ME}) WITH CHECK ({_ME});
CREATE POLICY deliveries_delete ON deliveries FOR DELETE USING ({_ME});
"""


def _row_level_security(app_role: str) -> None:
    op.execute(_FUNCTIONS)
    for table in ("deliveries", "notifications", "notification_preferences"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(_POLICIES)
    for signature in _FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    grants = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TABLES)} TO {app_role}",
        *(f"GRANT EXECUTE ON FUNCTION {signature} TO {app_role}" for signature in _FUNCTION_SIGNATURES),
    ]
    body = "".join(f"EXECUTE {_quote(g)}; " for g in grants)
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_quote(app_role)}) "
        f"THEN {body}ELSE RAISE NOTICE 'role % does not exist: no grants', {_quote(app_role)}; "
        "END IF; END $$"
    )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for signature in _FUNCTION_SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
