"""The geo index over the SQL database (GeoIndex port): the tables are the index.

- PostgreSQL: PostGIS. Open reports nearest first by a walk of the Mercator index over the
  view `tt_public_open_reports` (migration 0017, D35), bounded here to the sphere's answer
  (`planar_walk_done`); within a degree of a pole or across the antimeridian through
  `tt_nearby_open_reports` (SECURITY DEFINER: ids and points only), `ST_DWithin` on the
  generated `geography` column with its partial GiST index, nearest first by `<->` (a KNN walk
  that stops at the limit, migration 0009). Ties are settled here, by id.
  Alert candidates: `users.alert_location` (generated, GiST), `ST_DWithin`, by user id.
- SQLite: a bounding box (`model.geo.bbox`: two lon ranges across the antimeridian, every
  longitude near a pole) on the indexed lat/lon columns.

Either way the database only prefilters, with a little slack; the core's `distance_km`
decides (boundary included) and orders, so every adapter answers the same to the metre.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Row, and_, or_, select, text

from adapters.sql.lost_found import lost_reports
from adapters.sql.tables import users
from tailtracker_core.model.geo import EARTH_RADIUS_KM, GeoPoint, bbox, distance_km
from tailtracker_core.model.lost_found import ReportStatus
from tailtracker_core.model.pets import Species
from tailtracker_core.ports import IndexedReport

__all__ = ["SqlGeoIndex", "mercator_reach", "planar_box", "planar_walk_done"]

# PostGIS's sphere (mean radius 6371008.77 m) and ours (6371008.8 m) differ by 5e-9; the slack
# also covers rounding in either formula. Candidates inside the slack but beyond the radius
# are dropped by the exact check.
_REL_SLACK = 1e-6
_ABS_SLACK_M = 1.0

_NEARBY_PG = text("SELECT id, lat, lon FROM tt_nearby_open_reports(:lat, :lon, :radius_m, :species, :lim)")
# The Mercator walk (migration 0017, D35): nearest first in the plane of the index, inside the
# box of half side :half (degrees), each row with its planar distance.
_NEARBY_PLANAR_PG = text(
    "SELECT id, lat, lon, mercator <-> c.pt AS walked FROM tt_public_open_reports,"
    " (SELECT public.ST_MakePoint(:lon, degrees(asinh(tan(radians(:lat))))) AS pt) c"
    " WHERE mercator && public.ST_Expand(c.pt, :half)"
    " AND (CAST(:species AS text) IS NULL OR species = :species)"
    " ORDER BY mercator <-> c.pt LIMIT :lim"
)
_POLAR_REACH = 89.0  # degrees of latitude from which a search walks the geography index
_POINTS_PG = text("SELECT id, lat, lon, species FROM tt_open_report_points(:after, :lim)")
_ALERTS_PG = text(
    "SELECT id, alert_lat, alert_lon, alert_radius_km FROM users "
    "WHERE alert_location IS NOT NULL "
    "AND public.ST_DWithin(alert_location, "
    "public.ST_SetSRID(public.ST_MakePoint(:lon, :lat), 4326)::public.geography, :radius_m, false) "
    "AND alert_radius_km * 1000.0 * (1 + 1e-6) + 1.0 >= public.ST_Distance(alert_location, "
    "public.ST_SetSRID(public.ST_MakePoint(:lon, :lat), 4326)::public.geography, false) "
    "AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)) "
    "ORDER BY id LIMIT :lim"
)


_OPEN_LITERAL = text("lost_reports.status = 'open'")


def _slack_m(radius_km: float) -> float:
    return radius_km * 1000.0 * (1 + _REL_SLACK) + _ABS_SLACK_M


def mercator_reach(lat: float, km: float) -> float | None:
    """B: no point within `km` (the core's distance) of a centre at latitude `lat` is farther
    than this from it in the Mercator plane of `ix_lost_reports_open_mercator` (degrees), with
    slack for rounding; None when the search comes within a degree of a pole. Why it holds:
    migration 0017 (Mercator scales lengths by sec(lat), and |lat| <= |lat0| + km along the
    arc)."""
    t = km / EARTH_RADIUS_KM
    reach = abs(lat) + math.degrees(t)
    if reach >= _POLAR_REACH:
        return None
    return math.degrees(t) / math.cos(math.radians(reach)) * (1 + 1e-9) + 1e-9


def planar_box(point: GeoPoint, radius_km: float) -> float | None:
    """The Mercator walk's box (half side, degrees) for this search, or None where the plane
    breaks (within a degree of a pole, across the antimeridian): walk the geography instead."""
    half = mercator_reach(point.lat, radius_km)
    if half is None or point.lon - half < -180.0 or point.lon + half > 180.0:
        return None
    return half


def planar_walk_done(
    lat: float, half: float, fetch: int, rows: int, walked: float, kth_km: float | None
) -> bool:
    """Whether `rows` rows of a Mercator walk asked for `fetch` hold every open report of the
    page: the box is exhausted; or the walk (now at planar distance `walked`) has passed B(radius),
    beyond which no point of the circle lies; or it has passed B(kth), kth being the core's
    distance of the limit-th nearest row read (None: fewer read), so every unread row is farther
    on the sphere, ties at the cut included."""
    if rows < fetch or walked > half:
        return True
    if kth_km is None:
        return False
    bound = mercator_reach(lat, kth_km)
    return bound is not None and bound < walked


class SqlGeoIndex:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    # --- open reports ----------------------------------------------------------------------

    def nearby_open_reports(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[tuple[UUID, float]]:
        if limit <= 0 or not radius_km >= 0:
            return []
        if not self._postgres:
            return self._nearby_sqlite(point, radius_km, species, limit)
        half = planar_box(point, radius_km)
        if half is not None:
            return self._nearby_planar(point, radius_km, half, species, limit)
        fetch = limit + 16
        with self._read() as conn:
            while True:
                params = {
                    "lat": point.lat,
                    "lon": point.lon,
                    "radius_m": _slack_m(radius_km),
                    "species": species.value if species is not None else None,
                    "lim": fetch,
                }
                rows = conn.execute(_NEARBY_PG, params).all()
                hits = _exact(point, radius_km, ((r.id, r.lat, r.lon) for r in rows))
                if len(rows) < fetch:
                    return hits[:limit]  # every report within the radius (plus slack) was seen
                # Rows come nearest first by PostGIS's sphere (ties in no order: migration 0009);
                # a row left out is at least as far as the last one. The page is complete when
                # that row is clearly beyond the last hit kept, so no tie at the cut is lost.
                last = distance_km(point, GeoPoint(rows[-1].lat, rows[-1].lon))
                if len(hits) >= limit and last > hits[limit - 1][1] * (1 + _REL_SLACK) + _ABS_SLACK_M / 1000:
                    return hits[:limit]
                fetch *= 4

    def _nearby_planar(
        self, point: GeoPoint, radius_km: float, half: float, species: Species | None, limit: int
    ) -> list[tuple[UUID, float]]:
        fetch = limit + 2
        with self._read() as conn:
            while True:
                params = {
                    "lat": point.lat,
                    "lon": point.lon,
                    "half": half,
                    "species": species.value if species is not None else None,
                    "lim": fetch,
                }
                rows = conn.execute(_NEARBY_PLANAR_PG, params).all()
                hits = _exact(point, radius_km, ((r.id, r.lat, r.lon) for r in rows))
                kth = hits[limit - 1][1] if len(hits) >= limit else None
                walked = rows[-1].walked if rows else 0.0
                if planar_walk_done(point.lat, half, fetch, len(rows), walked, kth):
                    return hits[:limit]
                fetch *= 2

    def _nearby_sqlite(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[tuple[UUID, float]]:
        box = bbox(point, radius_km)
        t = lost_reports
        stmt = select(t.c.id, t.c.lat, t.c.lon).where(
            _OPEN_LITERAL,  # a literal, so SQLite can use the partial index
            t.c.lat.between(box.min_lat, box.max_lat),
            or_(*(t.c.lon.between(lo, hi) for lo, hi in box.lon_ranges)),
        )
        if species is not None:
            stmt = stmt.where(t.c.species == species.value)
        with self._read() as conn:
            rows = conn.execute(stmt).all()
        return _exact(point, radius_km, ((r.id, r.lat, r.lon) for r in rows))[:limit]

    def open_reports(self, after: UUID | None, limit: int) -> list[IndexedReport]:
        if limit <= 0:
            return []
        with self._read() as conn:
            if self._postgres:
                rows = conn.execute(_POINTS_PG, {"after": after, "lim": limit}).all()
            else:
                t = lost_reports
                stmt = (
                    select(t.c.id, t.c.lat, t.c.lon, t.c.species)
                    .where(t.c.status == ReportStatus.OPEN.value)
                    .order_by(t.c.id)
                    .limit(limit)
                )
                if after is not None:
                    stmt = stmt.where(t.c.id > after)
                rows = conn.execute(stmt).all()
        return [IndexedReport(r.id, GeoPoint(r.lat, r.lon), Species(r.species)) for r in rows]

    def put(self, entry: IndexedReport) -> None:
        return None  # the table is the index

    def remove(self, report_id: UUID) -> None:
        return None

    # --- who could be alerted --------------------------------------------------------------

    def alert_candidates(
        self, point: GeoPoint, radius_km: float, after_user_id: UUID | None, limit: int
    ) -> list[tuple[UUID, float]]:
        if limit <= 0 or not radius_km >= 0:
            return []
        out: list[tuple[UUID, float]] = []
        after = after_user_id
        with self._read() as conn:
            while len(out) < limit:
                rows = self._alert_page(conn, point, radius_km, after, limit)
                for r in rows:
                    km = distance_km(point, GeoPoint(r.alert_lat, r.alert_lon))
                    if km <= radius_km and km <= r.alert_radius_km:
                        out.append((r.id, km))
                        if len(out) == limit:
                            break
                if len(rows) < limit:
                    break  # scanned everything
                after = rows[-1].id  # rows the exact check dropped still move the scan on
        return out

    def _alert_page(
        self, conn: Connection, point: GeoPoint, radius_km: float, after: UUID | None, limit: int
    ) -> list[Row[Any]]:
        if self._postgres:
            params = {
                "lat": point.lat,
                "lon": point.lon,
                "radius_m": _slack_m(radius_km),
                "after": after,
                "lim": limit,
            }
            return list(conn.execute(_ALERTS_PG, params).all())
        box = bbox(point, radius_km)
        u = users
        stmt = (
            select(u.c.id, u.c.alert_lat, u.c.alert_lon, u.c.alert_radius_km)
            .where(
                u.c.alert_lat.is_not(None),
                u.c.alert_lon.is_not(None),
                u.c.alert_radius_km.is_not(None),
                u.c.alert_lat.between(box.min_lat, box.max_lat),
                or_(*(u.c.alert_lon.between(lo, hi) for lo, hi in box.lon_ranges)),
            )
            .order_by(u.c.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(and_(u.c.id > after))
        return list(conn.execute(stmt).all())


def _exact(
    point: GeoPoint, radius_km: float, rows: Iterable[tuple[UUID, float, float]]
) -> list[tuple[UUID, float]]:
    """The rows within `radius_km` by the core's distance (boundary included), nearest first."""
    hits = []
    for report_id, lat, lon in rows:
        km = distance_km(point, GeoPoint(lat, lon))
        if km <= radius_km:
            hits.append((report_id, km))
    hits.sort(key=lambda h: (h[1], h[0]))
    return hits
