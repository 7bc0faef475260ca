"""The reminder scheduler's cross-family functions on PostgreSQL (docs/reminders.md): claim due
care schedules and vaccinations with FOR UPDATE SKIP LOCKED (a doubled scheduler splits the
work), and read a pet's audience and its schedules' completions. SQLite needs nothing.

Revision ID: 0013_reminders
Revises: 0012_calendar_feeds
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

from alembic import context, op

revision = "0013_reminders"
down_revision = "0012_calendar_feeds"
branch_labels = None
depends_on = None

# Owner's rights (RLS bypassed), search_path pinned, every name qualified, EXECUTE for the app
# role only. The claims are VOLATILE (FOR UPDATE): the row locks last until the calling
# transaction ends, which is what makes two schedulers take disjoint rows.
_FUNCTIONS = """
CREATE FUNCTION tt_claim_due_care_schedules(p_before timestamptz, p_limit integer)
RETURNS TABLE (id uuid, pet_id uuid, family_id uuid, kind varchar, title varchar, rrule text,
               dtstart timestamp, timezone varchar, notes text, version integer,
               next_fire_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT s.id, s.pet_id, s.family_id, s.kind, s.title, s.rrule, s.dtstart, s.timezone,
           s.notes, s.version, s.next_fire_at
    FROM public.care_schedules s
    WHERE s.next_fire_at IS NOT NULL AND s.next_fire_at < p_before
    ORDER BY s.next_fire_at, s.id LIMIT p_limit
    FOR UPDATE SKIP LOCKED
$$;

CREATE FUNCTION tt_claim_due_vaccinations(p_before timestamptz, p_limit integer)
RETURNS TABLE (id uuid, pet_id uuid, family_id uuid, vaccine_code varchar, vaccine_name varchar,
               administered_on date, next_due_on date, lot_number varchar, clinic varchar,
               certificate_id uuid, version integer, next_fire_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT v.id, v.pet_id, v.family_id, v.vaccine_code, v.vaccine_name, v.administered_on,
           v.next_due_on, v.lot_number, v.clinic, v.certificate_id, v.version, v.next_fire_at
    FROM public.vaccinations v
    WHERE v.next_fire_at IS NOT NULL AND v.next_fire_at < p_before
    ORDER BY v.next_fire_at, v.id LIMIT p_limit
    FOR UPDATE SKIP LOCKED
$$;

-- Many cursors in one statement (the per-row tt_advance_* of care cost a round trip each).
CREATE FUNCTION tt_advance_care_schedules(p_ids uuid[], p_ats timestamptz[]) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.care_schedules s SET next_fire_at = u.at
    FROM unnest(p_ids, p_ats) AS u(id, at) WHERE s.id = u.id
$$;

CREATE FUNCTION tt_advance_vaccinations(p_ids uuid[], p_ats timestamptz[]) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.vaccinations v SET next_fire_at = u.at
    FROM unnest(p_ids, p_ats) AS u(id, at) WHERE v.id = u.id
$$;

CREATE FUNCTION tt_reminder_audiences(p_pet_ids uuid[])
RETURNS TABLE (pet_id uuid, pet_name varchar, family_id uuid, user_id uuid, role varchar)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT p.id, p.name, p.family_id, m.user_id, m.role
    FROM public.pets p JOIN public.memberships m ON m.family_id = p.family_id
    WHERE p.id = ANY (p_pet_ids)
$$;

CREATE FUNCTION tt_reminder_completions(p_schedule_ids uuid[], p_start timestamptz, p_end timestamptz)
RETURNS TABLE (schedule_id uuid, occurrence_key varchar, completed_by uuid,
               completed_at timestamptz, occurs_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT c.schedule_id, c.occurrence_key, c.completed_by, c.completed_at, c.occurs_at
    FROM public.care_completions c
    WHERE c.schedule_id = ANY (p_schedule_ids) AND c.occurs_at >= p_start AND c.occurs_at < p_end
$$;
"""

_FUNCTION_SIGNATURES = (
    "tt_claim_due_care_schedules(timestamptz, integer)",
    "tt_claim_due_vaccinations(timestamptz, integer)",
    "tt_advance_care_schedules(uuid[], timestamptz[])",
    "tt_advance_vaccinations(uuid[], timestamptz[])",
    "tt_reminder_audiences(uuid[])",
    "tt_reminder_completions(uuid[], timestamptz, timestamptz)",
)


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    app_role = _app_role()
    op.execute(_FUNCTIONS)
    for signature in _FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    grants = [f"GRANT EXECUTE ON FUNCTION {signature} TO {app_role}" for signature in _FUNCTION_SIGNATURES]
    body = "".join(f"EXECUTE {_quote(g)}; " for g in grants)
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_quote(app_role)}) "
        f"THEN {body}ELSE RAISE NOTICE 'role % does not exist: no grants', {_quote(app_role)}; "
        "END IF; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for signature in _FUNCTION_SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
