"""Radius search of open lost reports: a nearest-first walk of the GiST index (KNN).

`tt_nearby_open_reports` (0003) ordered by distance, then id. No index gives that order, so
PostgreSQL read every open report within the radius, then sorted them: in a city centre
with 1,000,000 reports (docs/performance.md, issue 4's benchmark) that is 12,000 rows and
20 ms of CPU for the 100 nearest. Ordered by distance alone, the GiST index returns rows
nearest first (`<->` with the `&&` box of ST_DWithin as an index condition) and stops at the
limit: 1.6 ms of CPU. Ties are broken by the caller, which re-sorts by (distance, id) and
asks for more rows when the last one it got is not clearly beyond the ones it keeps
(adapters/sql/geo.py).

The planner's row estimate for ST_DWithin on geography is poor (20 for 12,000), so it would
still pick "filter, then sort" (or a bitmap scan) on its own; the function pins the plan
with per-function settings (`enable_sort`, `enable_bitmapscan` off; `jit` off, because the
pinned plan's cost estimate would otherwise start JIT compilation, 35 ms). The settings
apply only while the function runs. Same signature, grants kept (CREATE OR REPLACE).

Revision ID: 0009_knn_open_reports
Revises: 0008_file_keys
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0009_knn_open_reports"
down_revision = "0008_file_keys"
branch_labels = None
depends_on = None

_HEAD = """
CREATE OR REPLACE FUNCTION tt_nearby_open_reports(
    p_lat double precision, p_lon double precision, p_radius_m double precision,
    p_species text, p_limit integer
) RETURNS TABLE (id uuid, lat double precision, lon double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
"""
_BODY = """AS $$
DECLARE
    centre public.geography := public.ST_SetSRID(public.ST_MakePoint(p_lon, p_lat), 4326)::public.geography;
BEGIN
    RETURN QUERY
        SELECT r.id, r.lat, r.lon FROM public.lost_reports r
        WHERE r.status = 'open'
          AND (p_species IS NULL OR r.species = p_species)
          AND public.ST_DWithin(r.location, centre, p_radius_m, false)
        ORDER BY r.location OPERATOR(public.<->) centre{tie}
        LIMIT p_limit;
END
$$;
"""
_KNN = _HEAD + "SET enable_sort = off SET enable_bitmapscan = off SET jit = off\n" + _BODY.format(tie="")
_BEFORE = _HEAD + _BODY.format(tie=", r.id")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_KNN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # CREATE OR REPLACE keeps the function's settings unless told: drop them first.
        op.execute(
            "ALTER FUNCTION tt_nearby_open_reports(double precision, double precision, double precision, "
            "text, integer) RESET ALL"
        )
        op.execute(_BEFORE)
