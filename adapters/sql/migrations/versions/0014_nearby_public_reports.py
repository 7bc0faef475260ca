"""The public nearby search in one statement: `tt_nearby_public_reports`.

The search used two: `tt_nearby_open_reports` (the KNN walk, 0009) in one transaction, then
`tt_public_lost_reports` (0003) for the hits' public views in a second one. This function
does both in one go, for the async read side (adapters/sql/lost_reads.py, docs/decisions.md
D31): the same nearest-first walk of the partial GiST index with the same pinned plan (sort
and bitmap scans off, JIT off, while it runs), stopping at the limit, then the pets of the
rows kept by primary key, returning the public columns. It also returns the exact point, as
`tt_nearby_open_reports` already does for the app role: the adapter needs it to decide the
radius boundary and the order with the core's distance (D19); it never leaves the adapter.
The colours come as JSON text (the adapter decodes them with msgspec, cheaper than the pool's
jsonb codec per row).

SECURITY DEFINER (owner's rights, RLS bypassed for this read only), search_path pinned,
EXECUTE for the app role only. STABLE: one statement, one snapshot, so a report closed before
it ran is not returned. No transaction is needed around it.

Revision ID: 0014_nearby_public_reports
Revises: 0013_reminders
Create Date: 2026-12-06
"""

from __future__ import annotations

import re

from alembic import context, op

revision = "0014_nearby_public_reports"
down_revision = "0013_reminders"
branch_labels = None
depends_on = None

_SIGNATURE = "tt_nearby_public_reports(double precision, double precision, double precision, text, integer)"

_FUNCTION = """
CREATE FUNCTION tt_nearby_public_reports(
    p_lat double precision, p_lon double precision, p_radius_m double precision,
    p_species text, p_limit integer
) RETURNS TABLE (
    id uuid, lat double precision, lon double precision, pet_name text, species text,
    breed text, colors text, size text, public_lat double precision,
    public_lon double precision, last_seen_at timestamptz
)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
SET enable_sort = off SET enable_bitmapscan = off SET jit = off
AS $$
DECLARE
    centre public.geography := public.ST_SetSRID(public.ST_MakePoint(p_lon, p_lat), 4326)::public.geography;
BEGIN
    RETURN QUERY
        SELECT n.id, n.lat, n.lon, p.name::text, p.species::text, p.breed::text, p.colors::text,
               p.size::text, n.public_lat, n.public_lon, n.last_seen_at
        FROM (
            SELECT r.id, r.pet_id, r.lat, r.lon, r.public_lat, r.public_lon, r.last_seen_at
            FROM public.lost_reports r
            WHERE r.status = 'open'
              AND (p_species IS NULL OR r.species = p_species)
              AND public.ST_DWithin(r.location, centre, p_radius_m, false)
            ORDER BY r.location OPERATOR(public.<->) centre
            LIMIT p_limit
        ) n
        JOIN public.pets p ON p.id = n.pet_id;
END
$$;
"""


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
    op.execute(_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {_SIGNATURE} FROM PUBLIC")
    grant = f"GRANT EXECUTE ON FUNCTION {_SIGNATURE} TO {app_role}"
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {_quote(app_role)}) "
        f"THEN EXECUTE {_quote(grant)}; ELSE RAISE NOTICE 'role % does not exist: no grants', "
        f"{_quote(app_role)}; END IF; END $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_SIGNATURE}")
