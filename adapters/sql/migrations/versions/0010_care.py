"""Care and health: vaccinations, medical records, care schedules and their completions, with
the reminder cursors (`next_fire_at`, indexed); on PostgreSQL row-level security like `pets`,
the app role's grants, and the SECURITY DEFINER functions of the reminder scheduler.

Revision ID: 0010_care
Revises: 0009_knn_open_reports
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0010_care"
down_revision = "0009_knn_open_reports"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CARE_TABLES = ("vaccinations", "medical_records", "care_schedules", "care_completions")
CURSOR = sa.text("next_fire_at IS NOT NULL")


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def _owned() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("pet_id", sa.Uuid(), sa.ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "vaccinations",
        *_owned(),
        sa.Column("vaccine_code", sa.String(40), nullable=False),
        sa.Column("vaccine_name", sa.String(100), nullable=False),
        sa.Column("administered_on", sa.Date(), nullable=False),
        sa.Column("next_due_on", sa.Date()),
        sa.Column("lot_number", sa.String(40)),
        sa.Column("clinic", sa.String(200)),
        sa.Column("certificate_id", sa.Uuid()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_fire_at", TS),
    )
    op.create_index("ix_vaccinations_pet_id_id", "vaccinations", ["pet_id", "id"])
    op.create_index(
        "ix_vaccinations_next_fire_at",
        "vaccinations",
        ["next_fire_at"],
        sqlite_where=CURSOR,
        postgresql_where=CURSOR,
    )
    op.create_table(
        "medical_records",
        *_owned(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("vet", sa.String(200)),
        sa.Column("file_ids", JSON_LIST, nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_medical_records_pet_id_id", "medical_records", ["pet_id", "id"])
    op.create_table(
        "care_schedules",
        *_owned(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("dtstart", sa.DateTime(timezone=False), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_fire_at", TS),
    )
    op.create_index("ix_care_schedules_pet_id_id", "care_schedules", ["pet_id", "id"])
    op.create_index(
        "ix_care_schedules_next_fire_at",
        "care_schedules",
        ["next_fire_at"],
        sqlite_where=CURSOR,
        postgresql_where=CURSOR,
    )
    op.create_table(
        "care_completions",
        sa.Column(
            "schedule_id",
            sa.Uuid(),
            sa.ForeignKey("care_schedules.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("occurrence_key", sa.String(100), primary_key=True),
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
        sa.Column("completed_by", sa.Uuid(), nullable=False),
        sa.Column("completed_at", TS, nullable=False),
        sa.Column("occurs_at", TS, nullable=False),
    )
    op.create_index(
        "ix_care_completions_schedule_occurs", "care_completions", ["schedule_id", "occurs_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        _row_level_security(_app_role())


_MEMBER = "(SELECT public.tt_member_families())"

# The reminder scheduler reads due cursors of every family and moves them on, as the app role
# with no acting user: these functions run as the table owner (RLS bypassed) and do only that.
_FUNCTIONS = """
CREATE FUNCTION tt_due_vaccinations(p_before timestamptz, p_limit integer)
RETURNS TABLE (id uuid, pet_id uuid, family_id uuid, next_fire_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT v.id, v.pet_id, v.family_id, v.next_fire_at FROM public.vaccinations v
    WHERE v.next_fire_at IS NOT NULL AND v.next_fire_at <= p_before
    ORDER BY v.next_fire_at, v.id LIMIT p_limit
$$;

CREATE FUNCTION tt_due_care_schedules(p_before timestamptz, p_limit integer)
RETURNS TABLE (id uuid, pet_id uuid, family_id uuid, next_fire_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT s.id, s.pet_id, s.family_id, s.next_fire_at FROM public.care_schedules s
    WHERE s.next_fire_at IS NOT NULL AND s.next_fire_at <= p_before
    ORDER BY s.next_fire_at, s.id LIMIT p_limit
$$;

CREATE FUNCTION tt_advance_vaccination(p_id uuid, p_at timestamptz) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.vaccinations SET next_fire_at = p_at WHERE id = p_id
$$;

CREATE FUNCTION tt_advance_care_schedule(p_id uuid, p_at timestamptz) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.care_schedules SET next_fire_at = p_at WHERE id = p_id
$$;
"""

_FUNCTION_SIGNATURES = (
    "tt_due_vaccinations(timestamptz, integer)",
    "tt_due_care_schedules(timestamptz, integer)",
    "tt_advance_vaccination(uuid, timestamptz)",
    "tt_advance_care_schedule(uuid, timestamptz)",
)


def _row_level_security(app_role: str) -> None:
    for table in CARE_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_all ON {table} FOR ALL "
            f"USING (family_id IN {_MEMBER}) WITH CHECK (family_id IN {_MEMBER})"
        )
    op.execute(_FUNCTIONS)
    for signature in _FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    grants = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(CARE_TABLES)} TO {app_role}",
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
    for table in reversed(CARE_TABLES):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for signature in _FUNCTION_SIGNATURES:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
