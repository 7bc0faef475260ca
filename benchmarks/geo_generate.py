"""Load PostgreSQL with the lost-and-found data set (issue 4's benchmark).

    .venv/bin/python -m benchmarks.geo_generate [--fresh] [--reports 1000000 --users 200000]

A database of its own (`tailtracker_geobench`, the benchmark roles of `benchmarks.generate`),
provisioned with the application's `provision_postgres` (which creates PostGIS) and `migrate`,
then filled with INSERT ... SELECT over generate_series as the owner role (BYPASSRLS), all in
PostgreSQL: no row crosses the wire. Then VACUUM ANALYZE.

Shape (deterministic positions for a given --seed through setseed(); ids are UUIDv7 of the
rows' creation time from gen_random_uuid(), so they differ from one build to the next):
- `--reports` open lost reports over Germany's bounding box (lat 47.27-55.06, lon 5.87-15.04):
  85% clustered around 20 cities (a normal spread per city, sigma 6-14 km, weighted by size),
  15% uniform noise over the box. Each report has its own pet (one open report per pet) and
  the pets belong to `--reports / 4` families, each with one owner (users without an alert
  area). `public_lat`/`public_lon` are the 100 m cell of `model.geo.rounded`, computed in SQL
  (checked against the Python function on a sample after loading).
- `--users` users with an alert area, placed like the reports (people live where pets get
  lost): radius 2 km (15%), 5 km (55%), 10 km (15%), 25 km (15%); radii above the free tier's
  5 km come with an active premium subscription. `location_alerts` consent: 80% granted,
  10% granted then withdrawn, 10% never asked.

The GiST and B-tree indexes of the loaded tables are dropped before the load and created again
with their own definitions after it (a bulk load is several times faster that way; a sorted
GiST build also packs the tree better than one grown row by row, see docs/performance.md).

Idempotent: a database already holding the requested sizes is left alone; `--fresh` rebuilds.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time

import psycopg

from benchmarks.generate import (
    _BREEDS,
    _COLORS,
    _FIRST,
    _LAST,
    _PET_NAMES,
    DEFAULT_ADMIN_URL,
    DbUrls,
    _database_exists,
    _drop_database,
    _loader_url,
    _password_hash,
    provision,
)

__all__ = ["BBOX", "CITIES", "DEFAULT_DATABASE", "NOISE", "generate", "loaded_counts", "main"]

DEFAULT_DATABASE = "tailtracker_geobench"

BBOX = (47.27, 55.06, 5.87, 15.04)  # Germany: min lat, max lat, min lon, max lon
NOISE = 0.15  # share of points spread uniformly over the box
# (name, lat, lon, weight, sigma km): the 20 largest cities, weight ~ population
CITIES = [
    ("Berlin", 52.520, 13.405, 3.7, 14.0),
    ("Hamburg", 53.551, 9.994, 1.9, 12.0),
    ("Munich", 48.137, 11.575, 1.5, 11.0),
    ("Cologne", 50.938, 6.960, 1.1, 10.0),
    ("Frankfurt", 50.110, 8.682, 0.76, 9.0),
    ("Stuttgart", 48.776, 9.183, 0.63, 9.0),
    ("Dusseldorf", 51.228, 6.773, 0.62, 8.0),
    ("Leipzig", 51.340, 12.375, 0.6, 8.0),
    ("Dortmund", 51.514, 7.466, 0.59, 8.0),
    ("Essen", 51.456, 7.012, 0.58, 8.0),
    ("Bremen", 53.079, 8.802, 0.57, 8.0),
    ("Dresden", 51.051, 13.738, 0.56, 8.0),
    ("Hanover", 52.375, 9.732, 0.54, 8.0),
    ("Nuremberg", 49.452, 11.077, 0.52, 8.0),
    ("Duisburg", 51.434, 6.762, 0.5, 7.0),
    ("Bochum", 51.482, 7.216, 0.36, 6.0),
    ("Wuppertal", 51.256, 7.150, 0.35, 6.0),
    ("Bielefeld", 52.021, 8.532, 0.33, 7.0),
    ("Bonn", 50.737, 7.098, 0.33, 6.0),
    ("Munster", 51.960, 7.626, 0.32, 7.0),
]
_NOW = "2026-11-25 12:00:00+00"

# Sizes the --fresh check compares; one open report per pet.
_TABLES = ("users", "families", "memberships", "pets", "lost_reports", "consent_records")


# The generated rows only: `benchmarks.geo_run fanout` adds (and replaces) rows of its own.
_FANOUT_FAMILY = "(SELECT id FROM families WHERE name = 'Fan-out')"
_OWN = {
    "users": "email_key NOT LIKE 'fanout.%'",
    "families": "name <> 'Fan-out'",
    "memberships": f"family_id NOT IN {_FANOUT_FAMILY}",
    "pets": f"family_id NOT IN {_FANOUT_FAMILY}",
    "lost_reports": f"family_id NOT IN {_FANOUT_FAMILY}",
    "consent_records": "user_id NOT IN (SELECT id FROM users WHERE email_key LIKE 'fanout.%')",
}


def loaded_counts(url: str) -> dict[str, int] | None:
    with psycopg.connect(url, connect_timeout=10) as conn:
        if conn.execute("SELECT to_regclass('public.lost_reports')").fetchone() == (None,):
            return None
        sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM {t} WHERE {_OWN[t]})" for t in _TABLES)
        row = conn.execute(sql).fetchone()
        assert row is not None
        return dict(zip(_TABLES, row, strict=True))


def _array(values: list[str | None]) -> str:
    """A SQL text[] literal (values hold no quote)."""
    return "ARRAY[" + ",".join("NULL" if v is None else f"'{v}'" for v in values) + "]::text[]"


def _setup_sql() -> str:
    """Session-local helpers: the city table, a point drawn from the data's distribution,
    UUIDv7 of a time, and model.geo.rounded(point, 100 m)."""
    total = sum(c[3] for c in CITIES)
    rows, acc = [], NOISE
    for name, lat, lon, weight, sigma in CITIES:
        share = (1 - NOISE) * weight / total
        rows.append(f"('{name}', {lat}, {lon}, {sigma}, {acc!r}, {acc + share!r})")
        acc += share
    min_lat, max_lat, min_lon, max_lon = BBOX
    quarter_m = math.pi / 2 * 6371.0088 * 1000
    n_rows = max(1, math.floor(quarter_m / 100.0))
    return f"""
CREATE TEMP TABLE geo_cities (name text, lat float8, lon float8, sigma_km float8, lo float8, hi float8);
INSERT INTO geo_cities VALUES {",".join(rows)};
UPDATE geo_cities SET hi = 2 WHERE hi = (SELECT max(hi) FROM geo_cities);  -- float rounding

-- A point: uniform over the box below NOISE, else normal around a city (Box-Muller).
CREATE FUNCTION pg_temp.geo_point(OUT lat float8, OUT lon float8) LANGUAGE plpgsql VOLATILE AS $$
DECLARE u float8 := random(); c record; r float8; a float8;
BEGIN
    IF u < {NOISE!r} THEN
        lat := {min_lat} + random() * {max_lat - min_lat!r};
        lon := {min_lon} + random() * {max_lon - min_lon!r};
        RETURN;
    END IF;
    SELECT * INTO c FROM geo_cities WHERE u >= geo_cities.lo AND u < geo_cities.hi;
    r := sqrt(-2 * ln(1 - random())) * c.sigma_km;
    a := 2 * pi() * random();
    lat := c.lat + r * sin(a) / 111.195;
    lon := c.lon + r * cos(a) / (111.195 * cos(radians(c.lat)));
END $$;

CREATE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
        substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
        52, 1), 53, 1), 'hex')::uuid
$$;

-- model.geo.rounded(point, 100 m), line by line.
CREATE FUNCTION pg_temp.rounded(lat float8, lon float8, OUT rlat float8, OUT rlon float8)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE n bigint := {n_rows}; r bigint; cells bigint; cell bigint;
BEGIN  -- float8 throughout (a numeric literal would make the arithmetic numeric)
    r := greatest(-n, least(n, round(lat / (90.0::float8 / n::float8))::bigint));
    rlat := r::float8 * 90.0::float8 / n::float8;
    IF abs(r) < n THEN
        cells := greatest(1, floor(2::float8 * pi() * 6371.0088::float8 * 1000::float8
                                   * cos(radians(rlat)) / 100.0::float8)::bigint);
    ELSE
        cells := 1;
    END IF;
    cell := round(lon / (360.0::float8 / cells::float8))::bigint;
    cell := ((cell % cells) + cells) % cells;
    IF 2 * cell > cells THEN cell := cell - cells; END IF;
    rlon := cell::float8 * 360.0::float8 / cells::float8;
END $$;
"""


def _load_sql(reports: int, users: int) -> list[tuple[str, str]]:
    """(label, statement) in load order."""
    families = max(1, reports // 4)
    species = ["dog"] * 45 + ["cat"] * 38 + ["rabbit"] * 8 + ["bird"] * 6 + ["other"] * 3
    names = _array(_PET_NAMES)
    first, last = _array(_FIRST), _array(_LAST)
    colors = _array(_COLORS)
    breeds = {s: _array(b) for s, b in _BREEDS.items()}
    breed_case = "CASE sp " + " ".join(
        f"WHEN '{s}' THEN ({b})[1 + floor(random() * {len(_BREEDS[s])})::int]" for s, b in breeds.items()
    )
    return [
        (
            "owners (users without an alert area)",
            f"""
INSERT INTO users (id, email, email_key, display_name, password_hash, created_at, locale, timezone,
                   version)
SELECT pg_temp.uuid7(t), 'owner.' || g || '@example.test', 'owner.' || g || '@example.test',
       ({first})[1 + mod(g, {len(_FIRST)})] || ' ' || ({last})[1 + mod(g / {len(_FIRST)}, {len(_LAST)})],
       %(hash)s, t, 'de-DE', 'Europe/Berlin', 1
FROM (SELECT g, timestamptz '{_NOW}' - interval '3 years' * random() - interval '30 days' AS t
      FROM generate_series(1, {families}) g) s""",
        ),
        (
            "alert users",
            f"""
INSERT INTO users (id, email, email_key, display_name, password_hash, created_at, locale, timezone,
                   alert_lat, alert_lon, alert_radius_km, version)
SELECT pg_temp.uuid7(t), 'alert.' || g || '@example.test', 'alert.' || g || '@example.test',
       ({first})[1 + mod(g, {len(_FIRST)})] || ' ' || ({last})[1 + mod(g / {len(_FIRST)}, {len(_LAST)})],
       %(hash)s, t, CASE WHEN mod(g, 5) = 0 THEN 'en-GB' ELSE 'de-DE' END, 'Europe/Berlin',
       round((p).lat::numeric, 6), round((p).lon::numeric, 6),
       CASE WHEN u < 0.15 THEN 2 WHEN u < 0.70 THEN 5 WHEN u < 0.85 THEN 10 ELSE 25 END, 1
FROM (SELECT g, random() AS u, pg_temp.geo_point() AS p,
             timestamptz '{_NOW}' - interval '3 years' * random() - interval '30 days' AS t
      FROM generate_series(1, {users}) g OFFSET 0) s""",
        ),
        (
            "premium subscriptions (alert radius above 5 km)",
            f"""
INSERT INTO subscriptions (id, user_id, tier, status, current_period_end, provider)
SELECT pg_temp.uuid7(created_at), id, 'premium', 'active',
       timestamptz '{_NOW}' + interval '30 days', 'manual'
FROM users WHERE alert_radius_km > 5""",
        ),
        (
            "location_alerts consents",
            """
INSERT INTO consent_records (id, user_id, purpose, granted, policy_version, recorded_at, method)
SELECT pg_temp.uuid7(created_at + interval '1 day'), id, 'location_alerts', true, '2026-01',
       created_at + interval '1 day', 'app'
FROM (SELECT id, created_at, random() AS u FROM users WHERE alert_lat IS NOT NULL) s WHERE u < 0.9""",
        ),
        (
            "withdrawals (1 in 9 of the grants)",
            """
INSERT INTO consent_records (id, user_id, purpose, granted, policy_version, recorded_at, method)
SELECT pg_temp.uuid7(recorded_at + interval '10 days'), user_id, 'location_alerts', false, '2026-01',
       recorded_at + interval '10 days', 'app'
FROM (SELECT user_id, recorded_at, random() AS u FROM consent_records
      WHERE purpose = 'location_alerts' AND granted) s WHERE u < 1.0 / 9""",
        ),
        (
            "families",
            """
CREATE TEMP TABLE geo_owners AS
SELECT row_number() OVER (ORDER BY email_key) AS n, id, created_at FROM users WHERE alert_lat IS NULL;
INSERT INTO families (id, name, created_at, version)
SELECT pg_temp.uuid7(created_at + interval '1 hour'), 'Household ' || n, created_at + interval '1 hour', 1
FROM geo_owners;
CREATE TEMP TABLE geo_families AS
SELECT row_number() OVER (ORDER BY f.created_at, f.id) - 1 AS n, f.id FROM families f""",
        ),
        (
            "memberships (one owner a family)",
            """
INSERT INTO memberships (family_id, user_id, role, joined_at)
SELECT f.id, o.id, 'owner', o.created_at + interval '1 hour'
FROM geo_owners o JOIN families f ON f.name = 'Household ' || o.n""",
        ),
        (
            "pets (one a report)",
            f"""
CREATE TEMP TABLE geo_pets AS
SELECT g, pg_temp.uuid7(t) AS id, t, sp FROM (
    SELECT g, timestamptz '{_NOW}' - interval '2 years' * random() - interval '60 days' AS t,
           ({_array(species)})[1 + floor(random() * {len(species)})::int] AS sp
    FROM generate_series(0, {reports - 1}) g) s;
INSERT INTO pets (id, family_id, name, species, sex, created_at, updated_at, breed, birth_date, colors,
                  size, weight_kg, microchip, neutered, notes, version)
SELECT p.id, f.id, ({names})[1 + floor(random() * {len(_PET_NAMES)})::int], sp,
       (ARRAY['male','female','unknown'])[1 + floor(random() * 3)::int], t, t,
       {breed_case} END,
       date '2010-01-01' + floor(random() * 5000)::int,
       jsonb_build_array(({colors})[1 + floor(random() * {len(_COLORS)})::int]),
       CASE WHEN sp = 'dog' THEN (ARRAY['small','medium','large'])[1 + floor(random() * 3)::int]
            ELSE 'small' END,
       NULL,
       CASE WHEN random() < 0.5 THEN '276' || lpad((floor(random() * 1e12))::bigint::text, 12, '0') END,
       NULL, NULL, 1
FROM geo_pets p JOIN geo_families f ON f.n = mod(p.g, {families})""",
        ),
        (
            "open lost reports",
            f"""
INSERT INTO lost_reports (id, pet_id, family_id, species, last_seen_at, lat, lon, public_lat,
                          public_lon, radius_km, description, reward, opened_at, status, version)
SELECT pg_temp.uuid7(opened), p.id, f.id, p.sp, opened - interval '3 hours', q.lat, q.lon,
       rd.rlat, rd.rlon, CASE WHEN random() < 0.8 THEN 5 ELSE 10 END,
       CASE WHEN random() < 0.5 THEN 'Last seen near the park, wearing a red collar.' END,
       NULL, opened, 'open', 1
FROM (SELECT *, timestamptz '{_NOW}' - interval '60 days' * random() AS opened,
             pg_temp.geo_point() AS gp FROM geo_pets OFFSET 0) p
JOIN geo_families f ON f.n = mod(p.g, {families}),
LATERAL (SELECT round((p.gp).lat::numeric, 6)::float8 AS lat,
                round((p.gp).lon::numeric, 6)::float8 AS lon) q,
LATERAL pg_temp.rounded(q.lat, q.lon) rd""",
        ),
    ]


_LOADED = ("users", "subscriptions", "consent_records", "families", "memberships", "pets", "lost_reports")


def _secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(name, definition) of the loaded tables' indexes that back no constraint."""
    rows = conn.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        (list(_LOADED),),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _check_rounding(conn: psycopg.Connection, sample: int = 2000) -> None:
    """public_lat/lon as the mapping writes them (model.geo.rounded), on a random sample."""
    from tailtracker_core.model.geo import GeoPoint, rounded

    rows = conn.execute(
        "SELECT lat, lon, public_lat, public_lon FROM lost_reports TABLESAMPLE SYSTEM (1) LIMIT %s",
        (sample,),
    ).fetchall()
    bad = [r for r in rows if rounded(GeoPoint(r[0], r[1])) != GeoPoint(r[2], r[3])]
    if bad:
        raise SystemExit(f"public cell differs from model.geo.rounded for {len(bad)} rows, e.g. {bad[0]}")
    print(f"  public cells checked against model.geo.rounded on {len(rows)} rows")


def generate(
    reports: int,
    users: int,
    *,
    seed: int = 42,
    admin_url: str = DEFAULT_ADMIN_URL,
    database: str = DEFAULT_DATABASE,
    fresh: bool = False,
) -> DbUrls:
    """Provision, migrate and load (unless already loaded with these sizes); return the URLs."""
    from adapters.sql import migrate

    started = time.monotonic()
    if fresh and _database_exists(admin_url, database):
        print(f"dropping database {database}")
        _drop_database(admin_url, database)
    urls = provision(admin_url, database)
    migrate(urls.owner, app_role="tt_bench_app")
    counts = loaded_counts(urls.owner)
    assert counts is not None, "the migration did not create the schema"
    if counts["lost_reports"] == reports and counts["users"] == users + max(1, reports // 4):
        print(f"{database} already holds {counts}: nothing to do (use --fresh to rebuild)")
        return urls
    if any(counts.values()):
        raise SystemExit(f"{database} holds other data ({counts}); run again with --fresh to rebuild it")
    with psycopg.connect(_loader_url(urls), connect_timeout=10) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET max_parallel_workers_per_gather = 0")  # one process: setseed() holds
        conn.execute("SELECT setseed(%s)", (random.Random(seed).uniform(-1, 1),))
        conn.execute(_setup_sql())
        indexes = _secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        print(f"  dropped {len(indexes)} secondary indexes for the load")
        password_hash = _password_hash()
        for label, sql in _load_sql(reports, users):
            t0 = time.monotonic()
            cur = conn.execute(sql, {"hash": password_hash} if "%(hash)s" in sql else None)
            print(f"  {label}: {cur.rowcount:,} rows in {time.monotonic() - t0:.1f}s")
        for name, definition in indexes:
            t0 = time.monotonic()
            conn.execute(definition)
            print(f"  {name}: {time.monotonic() - t0:.1f}s")
        _check_rounding(conn)
        conn.commit()
    t0 = time.monotonic()
    with psycopg.connect(urls.owner, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(_LOADED)}")
    print(f"VACUUM ANALYZE in {time.monotonic() - t0:.1f}s")
    print(f"done in {time.monotonic() - started:.1f}s: {loaded_counts(urls.owner)}")
    return urls


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.geo_generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="a superuser URL (default: %(default)s)")
    p.add_argument(
        "--database", default=DEFAULT_DATABASE, help="database to (re)build (default: %(default)s)"
    )
    p.add_argument("--reports", type=int, default=1_000_000, help="open lost reports (default: %(default)s)")
    p.add_argument(
        "--users", type=int, default=200_000, help="users with an alert area (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--fresh", action="store_true", help="drop the database first and rebuild it")
    a = p.parse_args(argv)
    if a.reports < 4 or a.users < 1:
        p.error("need --reports >= 4 and --users >= 1")
    generate(a.reports, a.users, seed=a.seed, admin_url=a.admin_url, database=a.database, fresh=a.fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
