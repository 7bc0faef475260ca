"""Lost-pet alerts: the alert ledger (one row per report and recipient, with the recipient's
local day, for the once-only rule and the daily cap) and, on PostgreSQL, its row-level
security and the two SECURITY DEFINER functions of the alert and notice paths.

Revision ID: 0007_lost_pet_alerts
Revises: 0006_bulk_deliveries
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op

revision = "0007_lost_pet_alerts"
down_revision = "0006_bulk_deliveries"
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
        "lost_pet_alert_ledger",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "report_id", sa.Uuid(), sa.ForeignKey("lost_reports.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("day", sa.Date(), nullable=False),  # the recipient's local calendar day
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_lost_pet_alert_ledger_user_day", "lost_pet_alert_ledger", ["user_id", "day"])
    op.create_index("ix_lost_pet_alert_ledger_report", "lost_pet_alert_ledger", ["report_id"])
    if op.get_bind().dialect.name == "postgresql":
        _row_level_security(_app_role())


_FUNCTIONS = """
-- The fan-out's claim of one alert, for any recipient: once per (user, report), at most
-- p_cap per user and local day. A transaction-scoped advisory lock per user serialises the
-- claims of one user (parallel batches of different reports), so the count cannot race;
-- it is released at commit. Runs as the owner (BYPASSRLS); it only ever inserts one row.
CREATE FUNCTION tt_claim_lost_pet_alert(
    p_user uuid, p_report uuid, p_day date, p_cap integer, p_now timestamptz
) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('tt_alert:' || p_user::text, 0));
    IF EXISTS (SELECT 1 FROM public.lost_pet_alert_ledger l
               WHERE l.user_id = p_user AND l.report_id = p_report) THEN
        RETURN false;
    END IF;
    IF (SELECT count(*) FROM public.lost_pet_alert_ledger l
        WHERE l.user_id = p_user AND l.day = p_day) >= p_cap THEN
        RETURN false;
    END IF;
    INSERT INTO public.lost_pet_alert_ledger (user_id, report_id, day, created_at)
    VALUES (p_user, p_report, p_day, p_now);
    RETURN true;
END
$$;

-- Who to notify about a family's pet (a sighting, a match, excluding the family from its
-- own pet's alerts): member ids only, whoever asks; never returned to a client.
CREATE FUNCTION tt_family_member_ids(p_family uuid) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT m.user_id FROM public.memberships m WHERE m.family_id = p_family
$$;
"""

_FUNCTION_SIGNATURES = (
    "tt_claim_lost_pet_alert(uuid, uuid, date, integer, timestamptz)",
    "tt_family_member_ids(uuid)",
)

_POLICIES = """
CREATE POLICY lost_pet_alert_ledger_own ON lost_pet_alert_ledger FOR SELECT
    USING (user_id = public.tt_current_user());
"""


def _row_level_security(app_role: str) -> None:
    op.execute(_FUNCTIONS)
    op.execute("ALTER TABLE lost_pet_alert_ledger ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE lost_pet_alert_ledger FORCE ROW LEVEL SECURITY")
    op.execute(_POLICIES)
    for signature in _FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    grants = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON lost_pet_alert_ledger TO {app_role}",
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
    op.drop_table("lost_pet_alert_ledger")
    if op.get_bind().dialect.name == "postgresql":
        for signature in _FUNCTION_SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
