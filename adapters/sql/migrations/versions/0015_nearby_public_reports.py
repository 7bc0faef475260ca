"""The public nearby search in one statement: `tt_nearby_public_reports`, and a planar index.

The search used two statements: `tt_nearby_open_reports` (the KNN walk, 0009) in one
transaction, then `tt_public_lost_reports` (0003) for the hits' public views in a second one.
This function does both in one go, for the async read side (adapters/sql/lost_reads.py,
docs/decisions.md D33): it finds the p_limit open reports nearest to the centre within the
radius (PostGIS's sphere, ties by id) and returns their public columns, the pets joined by
primary key for those rows only.

How it walks: the geography GiST index has no sort support, so it is built by insertion and
its pages overlap; a nearest-first walk of it reads about a hundred index pages even for one
row (0.4 ms of CPU at 1,000,000 reports, docs/performance.md). A planar GiST index on
`location::geometry` (lon/lat degrees; built sorted) is walked for a tenth of that, but its
order is not the sphere's: the function reads on in planar order until the rows read provably
hold the p_limit nearest on the sphere (the bounds below), then sorts those by the sphere.
Searches that reach a pole or cross the antimeridian keep 0009's geography walk. The plan is
pinned as in 0009 (sort and bitmap scans off, JIT off, while it runs).

It also returns the exact point, as `tt_nearby_open_reports` already does for the app role:
the adapter needs it to decide the radius boundary and the order with the core's distance
(D19); it never leaves the adapter. The colours come as JSON text (decoded by the adapter with
msgspec, cheaper than the pool's jsonb codec per row).

SECURITY DEFINER (owner's rights, RLS bypassed for this read only), search_path pinned,
EXECUTE for the app role only. STABLE: one statement, one snapshot, so a report closed before
it ran is not returned. No transaction is needed around it.

Revision ID: 0015_nearby_public_reports
Revises: 0014_batched_delivery
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from adapters.sql.migrations.grants import grant_to_app_role

revision = "0015_nearby_public_reports"
down_revision = "0014_batched_delivery"
branch_labels = None
depends_on = None

_SIGNATURE = "tt_nearby_public_reports(double precision, double precision, double precision, text, integer)"

_INDEX = (
    "CREATE INDEX ix_lost_reports_open_point ON lost_reports "
    "USING gist ((location::public.geometry)) WHERE status = 'open'"
)

# The geography path (0009's walk) for searches that reach a pole or cross the antimeridian;
# the planar path otherwise. The bounds, with d an angular distance (radians, measured on a
# sphere smaller than either sphere in play, so it errs wide), phi0 the centre's latitude and
# c = cos(phi0) cos(|phi0| + d) <= cos(phi0) cos(phi) for every point within d: the haversine
# identity sin^2(dlat/2) + cos(phi0) cos(phi) sin^2(dlon/2) = sin^2(theta/2) gives |dlat| <= d
# and |dlon| <= L(d) = 2 asin(sin(d/2) / sqrt(c)) (the box), and, as sin(x)/x decreases, the
# planar distance sqrt(dlat^2 + dlon^2) <= max(d, L(d)) = L(d) (the walk's stopping rule).
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
    pt public.geometry := public.ST_SetSRID(public.ST_MakePoint(p_lon, p_lat), 4326);
    earth constant double precision := 6371000.0;  -- below both spheres' radii: bounds err wide
    delta double precision := p_radius_m / earth;
    reach double precision := abs(p_lat) + degrees(delta);
    ratio double precision;
    half_lat double precision;
    half_lon double precision;
    box public.geometry;
    scan integer;
    n integer;
    dmax double precision;
    kth double precision;
    c_id uuid[]; c_pet uuid[]; c_lat float8[]; c_lon float8[]; c_plat float8[]; c_plon float8[];
    c_seen timestamptz[]; c_s float8[];
BEGIN
    IF reach < 89.0 THEN
        ratio := sin(delta / 2) / sqrt(cos(radians(p_lat)) * cos(radians(reach)));
        half_lat := degrees(delta) * (1 + 1e-9) + 1e-9;
        half_lon := CASE WHEN ratio < 0.5 THEN degrees(2 * asin(ratio)) * (1 + 1e-9) + 1e-9 END;
    END IF;
    IF half_lon IS NULL OR p_lon - half_lon < -180.0 OR p_lon + half_lon > 180.0 THEN
        -- Near a pole or across the antimeridian: the nearest-first walk of the geography index.
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
        RETURN;
    END IF;
    -- Elsewhere: the planar walk of the (lon, lat) index, nearest first in degrees, inside the
    -- box around the circle, until the rows seen hold the p_limit nearest on the sphere: the
    -- box is exhausted, or the rows left are planar-farther than any point as near as the
    -- p_limit-th hit can be (B above). A degree of longitude is shorter than one of latitude,
    -- so about 1/cos(lat) times the rows wanted are read.
    box := public.ST_MakeEnvelope(p_lon - half_lon, p_lat - half_lat, p_lon + half_lon, p_lat + half_lat, 4326);
    scan := ceil(p_limit * 1.3 / cos(radians(p_lat)))::integer + 8;
    LOOP
        SELECT count(*), max(c.d),
               array_agg(c.id), array_agg(c.pet_id), array_agg(c.lat), array_agg(c.lon),
               array_agg(c.public_lat), array_agg(c.public_lon), array_agg(c.last_seen_at), array_agg(c.s)
          INTO n, dmax, c_id, c_pet, c_lat, c_lon, c_plat, c_plon, c_seen, c_s
        FROM (
            SELECT r.id, r.pet_id, r.lat, r.lon, r.public_lat, r.public_lon, r.last_seen_at,
                   r.location::public.geometry OPERATOR(public.<->) pt AS d,
                   public.ST_Distance(r.location, centre, false) AS s
            FROM public.lost_reports r
            WHERE r.status = 'open'
              AND (p_species IS NULL OR r.species = p_species)
              AND r.location::public.geometry OPERATOR(public.&&) box
            ORDER BY r.location::public.geometry OPERATOR(public.<->) pt
            LIMIT scan
        ) c;
        EXIT WHEN n < scan;
        SELECT u.s INTO kth FROM unnest(c_s) AS u(s) WHERE u.s <= p_radius_m
            ORDER BY u.s OFFSET p_limit - 1 LIMIT 1;
        EXIT WHEN kth IS NOT NULL AND degrees(2 * asin(least(1.0, sin(kth / earth / 2)
            / sqrt(cos(radians(p_lat)) * cos(radians(abs(p_lat) + degrees(kth / earth))))))
        ) * (1 + 1e-9) + 1e-9 < dmax;
        scan := scan * 4;
    END LOOP;
    RETURN QUERY
        SELECT k.id, k.lat, k.lon, p.name::text, p.species::text, p.breed::text, p.colors::text,
               p.size::text, k.public_lat, k.public_lon, k.last_seen_at
        FROM (
            SELECT * FROM unnest(c_id, c_pet, c_lat, c_lon, c_plat, c_plon, c_seen, c_s)
                AS u(id, pet_id, lat, lon, public_lat, public_lon, last_seen_at, s)
            WHERE u.s <= p_radius_m
            ORDER BY u.s, u.id
            LIMIT p_limit
        ) k
        JOIN public.pets p ON p.id = k.pet_id;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_INDEX)
    op.execute(_FUNCTION)
    op.execute(f"REVOKE ALL ON FUNCTION {_SIGNATURE} FROM PUBLIC")
    grant_to_app_role(f"GRANT EXECUTE ON FUNCTION {_SIGNATURE} TO {{role}}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {_SIGNATURE}")
        op.execute("DROP INDEX IF EXISTS ix_lost_reports_open_point")
