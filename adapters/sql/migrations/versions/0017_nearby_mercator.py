"""The public nearby search as one plain statement over a view: a Mercator index, and the
pets' public columns kept on the report.

`tt_nearby_public_reports` (0015) cost about 0.8 ms of backend CPU a search at 1,000,000 open
reports (docs/performance.md, "The search endpoint over HTTP"), in three pieces:

- It walked a planar index on (lon, lat) in degrees. A degree of longitude is cos(lat) of one of
  latitude, so that walk read about 1/cos(lat) times the rows it kept (55 for 22 at 52 N), each
  a random heap page. Mercator coordinates (x = lon, y = asinh(tan(lat)), both in degrees) are
  conformal: near any point the map scales every direction by the same sec(lat), so the walk's
  order is the sphere's up to a factor that barely moves across a search (0.1 % over 5 km at
  52 N), and the walk can stop a few rows past the last one kept.
- It joined the pets by primary key for each hit (about 11 microseconds a hit: a three-level
  B-tree and a heap page of a 150 MB table, at random). The report now carries the pet's public
  columns (`pet_name`, `pet_species`, `pet_breed`, `pet_colors`, `pet_size`), kept by two
  triggers: BEFORE INSERT on lost_reports copies them from the pet; AFTER UPDATE on pets copies
  a change to every report of the pet, in the same transaction. The application never names
  these columns (as with `location`); they exist on PostgreSQL only, for this read. SQLite and
  the other adapters still read the pets.
- PL/pgSQL (the call, its settings, the arrays, the sphere distance of every row read): the
  adapter now sends one plain statement over the view `tt_public_open_reports` and decides when
  the walk has read enough (the bound below) with the core's distance, which it computed anyway.

The view reads lost_reports with its owner's rights (not security_invoker; the owner has
BYPASSRLS), as the SECURITY DEFINER functions do: the app role may SELECT it and nothing else of
other families' reports. It shows what the function returned: the public columns and the exact
point, which the adapter needs for the core's distance and which never leaves the adapter.

The bound (stated here, applied in the adapter): Mercator scales lengths by sec(lat); every
point of the great-circle arc from the centre (latitude phi0) to a point at angular distance t
is within t of the centre, so |lat| <= |phi0| + t along it, and the arc's image is at most
B(t) = degrees(t) * sec(|phi0| + t) long. So no point within t of the centre is planar-farther
than B(t): B(radius) is the half side of the box the walk stays in, and once the walk has passed
B(kth), kth being the sphere distance of the limit-th nearest row read, every unread row is
farther than kth. Within 1 degree of a pole (sec unbounded) or when the box crosses the
antimeridian the adapter walks the geography index (0009's) through the same view.

0015's function and its planar (lon, lat) index are dropped: nothing else used them.

Plain CREATE INDEX and one UPDATE of every report (the copy): run with the deploy; about 90 s
at 1,000,000 reports on the benchmark machine. Downgrade restores 0015's function and index.

Revision ID: 0017_nearby_mercator
Revises: 0016_purge_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import context, op

from adapters.sql.migrations.grants import grant_to_app_role

revision = "0017_nearby_mercator"
down_revision = "0016_purge_indexes"
branch_labels = None
depends_on = None

_PET_COLUMNS = ("pet_name", "pet_species", "pet_breed", "pet_colors", "pet_size")

_COPY = """
CREATE FUNCTION tt_lost_report_copy_pet() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    SELECT p.name, p.species, p.breed, p.colors, p.size
      INTO NEW.pet_name, NEW.pet_species, NEW.pet_breed, NEW.pet_colors, NEW.pet_size
      FROM public.pets p WHERE p.id = NEW.pet_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER tt_lost_reports_copy_pet BEFORE INSERT OR UPDATE OF pet_id ON lost_reports
    FOR EACH ROW EXECUTE FUNCTION tt_lost_report_copy_pet();

CREATE FUNCTION tt_pet_public_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    UPDATE public.lost_reports
       SET pet_name = NEW.name, pet_species = NEW.species, pet_breed = NEW.breed,
           pet_colors = NEW.colors, pet_size = NEW.size
     WHERE pet_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER tt_pets_public_changed AFTER UPDATE OF name, species, breed, colors, size ON pets
    FOR EACH ROW WHEN (
        OLD.name IS DISTINCT FROM NEW.name OR OLD.species IS DISTINCT FROM NEW.species
        OR OLD.breed IS DISTINCT FROM NEW.breed OR OLD.colors IS DISTINCT FROM NEW.colors
        OR OLD.size IS DISTINCT FROM NEW.size
    )
    EXECUTE FUNCTION tt_pet_public_changed();
"""



def _mercator(table: str = "") -> str:
    """The indexed expression: (lon, asinh(tan(lat))) in degrees, a point of SRID 0."""
    return f"public.ST_MakePoint({table}lon, degrees(asinh(tan(radians({table}lat)))))"


_INDEX = (
    f"CREATE INDEX ix_lost_reports_open_mercator ON lost_reports USING gist (({_mercator()})) WHERE status = 'open'"
)

# What the public search reads (adapters/sql/lost_reads.py): the open reports with the pet's
# public columns, the exact point (the adapter measures with the core's distance; it never leaves
# the adapter) and the two indexed expressions. A view without security_invoker reads the table
# with its owner's rights (BYPASSRLS), as the SECURITY DEFINER functions do; the app role may
# SELECT it and nothing else of other families' reports.
_VIEW = f"""
CREATE VIEW tt_public_open_reports AS
SELECT r.id, r.lat, r.lon, r.pet_name::text AS pet_name, r.pet_species::text AS pet_species,
       r.pet_breed::text AS pet_breed, r.pet_colors::text AS pet_colors,
       r.pet_size::text AS pet_size, r.public_lat, r.public_lon, r.last_seen_at,
       r.species::text AS species, r.location, {_mercator("r.")} AS mercator
FROM lost_reports r
WHERE r.status = 'open'
"""

_OLD_FUNCTION = (
    "tt_nearby_public_reports(double precision, double precision, double precision, text, integer)"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE lost_reports ADD COLUMN pet_name varchar(100), ADD COLUMN pet_species varchar(16), "
        "ADD COLUMN pet_breed varchar(100), ADD COLUMN pet_colors jsonb, ADD COLUMN pet_size varchar(16)"
    )
    op.execute(
        "UPDATE lost_reports r SET pet_name = p.name, pet_species = p.species, pet_breed = p.breed, "
        "pet_colors = p.colors, pet_size = p.size FROM pets p WHERE p.id = r.pet_id"
    )
    op.execute(_COPY)
    op.execute(_INDEX)
    op.execute(_VIEW)
    op.execute("REVOKE ALL ON tt_public_open_reports FROM PUBLIC")
    grant_to_app_role("GRANT SELECT ON tt_public_open_reports TO {role}")
    op.execute(f"DROP FUNCTION IF EXISTS {_OLD_FUNCTION}")
    op.execute("DROP INDEX IF EXISTS ix_lost_reports_open_point")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # 0015's index, function and grant, as 0015 made them.
    context.script.get_revision("0015_nearby_public_reports").module.upgrade()  # type: ignore[union-attr]
    op.execute("DROP VIEW IF EXISTS tt_public_open_reports")
    op.execute("DROP INDEX IF EXISTS ix_lost_reports_open_mercator")
    op.execute("DROP TRIGGER IF EXISTS tt_pets_public_changed ON pets")
    op.execute("DROP TRIGGER IF EXISTS tt_lost_reports_copy_pet ON lost_reports")
    op.execute("DROP FUNCTION IF EXISTS tt_pet_public_changed()")
    op.execute("DROP FUNCTION IF EXISTS tt_lost_report_copy_pet()")
    op.execute("ALTER TABLE lost_reports " + ", ".join(f"DROP COLUMN {c}" for c in _PET_COLUMNS))
