"""The geo index over the SQL database (GeoIndex port): the tables are the index.

- PostgreSQL: PostGIS. Open reports through `tt_nearby_open_reports` (SECURITY DEFINER: any
  caller may search, it returns ids and points only), `ST_DWithin` on the generated
  `geography` column with its partial GiST index, nearest first by `<->` (a KNN walk of the
  index that stops at the limit, migration 0009; ties are settled here, by id).
  Alert candidates: `users.alert_location` (generated, GiST), `ST_DWithin`, by user id.
- SQLite: a bounding box (`model.geo.bbox`: two lon ranges across the antimeridian, every
  longitude near a pole) on the indexed lat/lon columns.

Either way the database only prefilters, with a little slack; the core's `distance_km`
decides (boundary included) and orders, so every adapter answers the same to the metre.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Row, and_, or_, select, text

from adapters.sql.lost_found import lost_reports
from adapters.sql.tables import users
from tailtracker_core.model.geo import GeoPoint, bbox, distance_km
from tailtracker_core.model.lost_found import ReportStatus
from tailtracker_core.model.pets import Species
from tailtracker_core.ports import IndexedReport

__all__ = ["SqlGeoIndex"]

# PostGIS's sphere (mean radius 6371008.77 m) and ours (6371008.8 m) differ by 5e-9; the slack
# also covers rounding in either formula. Candidates inside the slack but beyond the radius
# are dropped by the exact check.
_REL_SLACK = 1e-6
_ABS_SLACK_M = 1.0

_NEARBY_PG = text("SELECT id, lat, lon FROM tt_nearby_open_reports(:lat, :lon, :radius_m, :species, :lim)")
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
