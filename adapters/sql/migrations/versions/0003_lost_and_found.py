"""Lost and found: lost reports, found reports, sightings, matches, and the geo index.

Both dialects: lat/lon columns, a unique open report per pet, the id-ordered indexes.
SQLite: B-tree indexes on lat (then lon) for the bounding-box prefilter of the geo index.
PostgreSQL: PostGIS (the extension must exist: `provision_postgres` creates it as the admin),
generated `geography(Point, 4326)` columns with GiST indexes (open reports, found reports,
users' alert locations), row-level security on the four tables, and the SECURITY DEFINER
functions of the documented cross-family paths (docs/lost-and-found.md).

Revision ID: 0003_lost_and_found
Revises: 0002_idempotency_keys
Create Date: 2026-11-25
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision = "0003_lost_and_found"
down_revision = "0002_idempotency_keys"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON_LIST = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLES = ("lost_reports", "found_reports", "sightings", "matches")


def _app_role() -> str:
    role = context.config.attributes.get("app_role") or context.get_x_argument(as_dictionary=True).get(
        "app_role", "tailtracker_app"
    )
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    return str(role)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _require_postgis()
    op.create_table(
        "lost_reports",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("pet_id", sa.Uuid(), sa.ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("family_id", sa.Uuid(), sa.ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
        sa.Column("species", sa.String(16), nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("public_lat", sa.Double(), nullable=False),
        sa.Column("public_lon", sa.Double(), nullable=False),
        sa.Column("radius_km", sa.Double(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("reward", sa.String(200)),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_lost_reports_point"
        ),
        sa.CheckConstraint("status IN ('open', 'found', 'closed')", name="ck_lost_reports_status"),
    )
    op.create_index("ix_lost_reports_family_id_id", "lost_reports", ["family_id", "id"])
    op.create_index("ix_lost_reports_pet_id", "lost_reports", ["pet_id"])
    # One open report per pet, whoever writes concurrently.
    op.create_index(
        "ux_lost_reports_open_pet",
        "lost_reports",
        ["pet_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )

    op.create_table(
        "found_reports",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("reporter_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("species", sa.String(16), nullable=False),
        sa.Column("colours", JSON_LIST, nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("filed_at", TS, nullable=False),
        sa.Column("breed", sa.String(100)),
        sa.Column("size", sa.String(16)),
        sa.Column("sex", sa.String(16)),
        sa.Column("microchip", sa.String(15)),
        sa.Column("description", sa.Text()),
        sa.Column("photo_id", sa.Uuid()),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="ck_found_reports_point"
        ),
    )
    op.create_index("ix_found_reports_reporter_id_id", "found_reports", ["reporter_id", "id"])

    op.create_table(
        "sightings",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "report_id", sa.Uuid(), sa.ForeignKey("lost_reports.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("photo_id", sa.Uuid()),
    )
    op.create_index("ix_sightings_report_id_id", "sightings", ["report_id", "id"])

    op.create_table(
        "matches",
        sa.Column(
            "lost_report_id",
            sa.Uuid(),
            sa.ForeignKey("lost_reports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "found_report_id",
            sa.Uuid(),
            sa.ForeignKey("found_reports.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("certain", sa.Boolean(), nullable=False),
        sa.Column("distance_km", sa.Double(), nullable=False),
        sa.Column("days", sa.Double(), nullable=False),
        sa.Column("part_distance", sa.Double()),
        sa.Column("part_time", sa.Double()),
        sa.Column("part_breed", sa.Double()),
        sa.Column("part_colours", sa.Double()),
        sa.Column("part_size", sa.Double()),
        sa.Column("part_sex", sa.Double()),
        sa.Column("notify", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_matches_found_report_id", "matches", ["found_report_id"])

    if postgres:
        _postgis_columns()
        _row_level_security(_app_role())
    else:
        # The portable geo index: a bounding box (model/geo.bbox) on these, exact distance after.
        op.create_index(
            "ix_lost_reports_open_lat_lon",
            "lost_reports",
            ["lat", "lon"],
            sqlite_where=sa.text("status = 'open'"),
        )
        op.create_index("ix_found_reports_species_lat_lon", "found_reports", ["species", "lat", "lon"])
        op.create_index(
            "ix_users_alert_lat_lon",
            "users",
            ["alert_lat", "alert_lon"],
            sqlite_where=sa.text(
                "alert_lat IS NOT NULL AND alert_lon IS NOT NULL AND alert_radius_km IS NOT NULL"
            ),
        )


def _require_postgis() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first() is not None:
        return
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
    if available is None:
        raise RuntimeError(
            "PostGIS is not installed on this PostgreSQL server (Debian: apt-get install "
            "postgresql-15-postgis-3); see docs/operations.md"
        )
    is_super = bind.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    if not is_super:
        raise RuntimeError(
            "the postgis extension is missing in this database: run provision_postgres (as an admin) "
            "or CREATE EXTENSION postgis as a superuser, then migrate again; see docs/operations.md"
        )
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


# Stored generated columns: written by PostgreSQL from lat/lon, never by the application.
_POINT = "public.ST_SetSRID(public.ST_MakePoint({lon}, {lat}), 4326)::public.geography"


def _postgis_columns() -> None:
    op.execute(
        "ALTER TABLE lost_reports ADD COLUMN location public.geography(Point, 4326) "
        f"GENERATED ALWAYS AS ({_POINT.format(lon='lon', lat='lat')}) STORED"
    )
    op.execute(
        "CREATE INDEX ix_lost_reports_open_location ON lost_reports USING gist (location) "
        "WHERE status = 'open'"
    )
    op.execute(
        "ALTER TABLE found_reports ADD COLUMN location public.geography(Point, 4326) "
        f"GENERATED ALWAYS AS ({_POINT.format(lon='lon', lat='lat')}) STORED"
    )
    op.execute("CREATE INDEX ix_found_reports_location ON found_reports USING gist (location)")
    op.execute(
        "ALTER TABLE users ADD COLUMN alert_location public.geography(Point, 4326) "
        "GENERATED ALWAYS AS (CASE WHEN alert_lat IS NULL OR alert_lon IS NULL OR alert_radius_km IS NULL "
        f"THEN NULL ELSE {_POINT.format(lon='alert_lon', lat='alert_lat')} END) STORED"
    )
    op.execute(
        "CREATE INDEX ix_users_alert_location ON users USING gist (alert_location) "
        "WHERE alert_location IS NOT NULL"
    )


# SECURITY DEFINER functions run as the table owner (BYPASSRLS) and pin their search_path, as
# in 0001. Each answers one documented cross-family question and returns only what it says.
_FUNCTIONS = """
CREATE FUNCTION tt_lost_report_family(p_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT family_id FROM public.lost_reports WHERE id = p_id
$$;

CREATE FUNCTION tt_found_report_reporter(p_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT reporter_id FROM public.found_reports WHERE id = p_id
$$;

-- The public view: public columns only (the ~100 m cell, never the exact point, the family,
-- the description or the reward), for anyone, signed in or not.
CREATE FUNCTION tt_public_lost_reports(p_ids uuid[])
RETURNS TABLE (
    id uuid, status text, pet_name text, species text, breed text, colors jsonb, size text,
    public_lat double precision, public_lon double precision, last_seen_at timestamptz
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT r.id, r.status::text, p.name::text, p.species::text, p.breed::text, p.colors,
           p.size::text, r.public_lat, r.public_lon, r.last_seen_at
    FROM public.lost_reports r JOIN public.pets p ON p.id = r.pet_id
    WHERE r.id = ANY (p_ids)
$$;

-- Open reports in full and their pets, for matching, sightings and the alert fan-out.
CREATE FUNCTION tt_open_lost_reports(p_ids uuid[]) RETURNS SETOF public.lost_reports
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT * FROM public.lost_reports WHERE id = ANY (p_ids) AND status = 'open'
$$;

CREATE FUNCTION tt_pets_of_open_lost_reports(p_ids uuid[]) RETURNS SETOF public.pets
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT p.* FROM public.pets p
    WHERE p.id IN (SELECT r.pet_id FROM public.lost_reports r WHERE r.id = ANY (p_ids) AND r.status = 'open')
$$;

-- The geo index: open reports near a point, nearest first (GiST: ST_DWithin, then <->).
-- Sphere distances (use_spheroid false), like the core's; callers pass a little slack and
-- decide with the core's distance.
CREATE FUNCTION tt_nearby_open_reports(
    p_lat double precision, p_lon double precision, p_radius_m double precision,
    p_species text, p_limit integer
) RETURNS TABLE (id uuid, lat double precision, lon double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    centre public.geography := public.ST_SetSRID(public.ST_MakePoint(p_lon, p_lat), 4326)::public.geography;
BEGIN
    RETURN QUERY
        SELECT r.id, r.lat, r.lon FROM public.lost_reports r
        WHERE r.status = 'open'
          AND (p_species IS NULL OR r.species = p_species)
          AND public.ST_DWithin(r.location, centre, p_radius_m, false)
        ORDER BY r.location OPERATOR(public.<->) centre, r.id
        LIMIT p_limit;
END
$$;

CREATE FUNCTION tt_open_report_points(p_after uuid, p_limit integer)
RETURNS TABLE (id uuid, lat double precision, lon double precision, species text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT r.id, r.lat, r.lon, r.species::text FROM public.lost_reports r
    WHERE r.status = 'open' AND (p_after IS NULL OR r.id > p_after)
    ORDER BY r.id LIMIT p_limit
$$;

-- Found reports a newly opened lost report may match, whoever filed them.
CREATE FUNCTION tt_found_report_candidates(
    p_lat double precision, p_lon double precision, p_radius_m double precision,
    p_species text, p_from timestamptz, p_until timestamptz
) RETURNS SETOF public.found_reports
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY
        SELECT f.* FROM public.found_reports f
        WHERE f.species = p_species AND f.seen_at BETWEEN p_from AND p_until
          AND public.ST_DWithin(
              f.location,
              public.ST_SetSRID(public.ST_MakePoint(p_lon, p_lat), 4326)::public.geography,
              p_radius_m, false);
END
$$;
"""

_FUNCTION_SIGNATURES = (
    "tt_lost_report_family(uuid)",
    "tt_found_report_reporter(uuid)",
    "tt_public_lost_reports(uuid[])",
    "tt_open_lost_reports(uuid[])",
    "tt_pets_of_open_lost_reports(uuid[])",
    "tt_nearby_open_reports(double precision, double precision, double precision, text, integer)",
    "tt_open_report_points(uuid, integer)",
    "tt_found_report_candidates(double precision, double precision, double precision, text, "
    "timestamptz, timestamptz)",
)

_ME = "public.tt_current_user()"
_MEMBER = "(SELECT public.tt_member_families())"
_MATCH_SIDE = (
    f"(public.tt_lost_report_family(lost_report_id) IN {_MEMBER} "
    f"OR public.tt_found_report_reporter(found_report_id) = {_ME})"
)

_POLICIES = f"""
CREATE POLICY lost_reports_all ON lost_reports FOR ALL
    USING (family_id IN {_MEMBER}) WITH CHECK (family_id IN {_MEMBER});

CREATE POLICY found_reports_select ON found_reports FOR SELECT
    USING (reporter_id = {_ME} OR id IN (SELECT m.found_report_id FROM public.matches m));
CREATE POLICY found_reports_insert ON found_reports FOR INSERT WITH CHECK (reporter_id = {_ME});
CREATE POLICY found_reports_update ON found_reports FOR UPDATE
    USING (reporter_id = {_ME}) WITH CHECK (reporter_id = {_ME});
CREATE POLICY found_reports_delete ON found_reports FOR DELETE USING (reporter_id = {_ME});

CREATE POLICY sightings_select ON sightings FOR SELECT
    USING (family_id IN {_MEMBER} OR reporter_id = {_ME});
CREATE POLICY sightings_insert ON sightings FOR INSERT
    WITH CHECK (reporter_id = {_ME} AND family_id = public.tt_lost_report_family(report_id));
CREATE POLICY sightings_delete ON sightings FOR DELETE USING (family_id IN {_MEMBER});

CREATE POLICY matches_all ON matches FOR ALL USING {_MATCH_SIDE} WITH CHECK {_MATCH_SIDE};
"""


def _row_level_security(app_role: str) -> None:
    op.execute(_FUNCTIONS)
    for table in TABLES:
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
        f"THEN {body}END IF; END $$"
    )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # The functions depend on the tables' row types, so they go first; the two that the
    # policies call go after the tables (and their policies).
    policy_helpers = _FUNCTION_SIGNATURES[:2]
    if postgres:
        for signature in _FUNCTION_SIGNATURES[2:]:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
        op.execute("DROP POLICY IF EXISTS found_reports_select ON found_reports")  # reads matches
    for table in reversed(TABLES):
        op.drop_table(table)  # policies, generated columns and indexes go with them
    if postgres:
        for signature in policy_helpers:
            op.execute(f"DROP FUNCTION IF EXISTS {signature}")
        op.execute("DROP INDEX IF EXISTS ix_users_alert_location")
        op.execute("ALTER TABLE users DROP COLUMN IF EXISTS alert_location")
    else:
        op.drop_index("ix_users_alert_lat_lon", "users")
