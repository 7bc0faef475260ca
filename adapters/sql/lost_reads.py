"""The read side of the public nearby search: `NearbyReader` adapters for
`GET /v1/lost-reports?lat=&lon=&radius_km=` (docs/decisions.md D33).

- `AsyncpgNearbyReader` (PostgreSQL): ONE statement per search, no transaction around it:
  `tt_nearby_public_reports` (migration 0015, SECURITY DEFINER) finds the nearest open reports
  (a planar GiST walk bounded to the sphere's answer; 0009's geography walk near the poles and
  across the antimeridian) and returns the public columns of the rows it keeps, with the exact
  point for the core's distance. asyncpg prepares it once per connection (its statement
  cache). The connections are the pet reader's pool (`AsyncpgPetReader.pool`).
- `ThreadedNearbyReader` (SQLite, and any database without an async reader): the GeoIndex
  port and the public views of the sync repositories (`lost_found.nearby_public`) in a worker
  thread; with a Redis geo cache configured, that GeoIndex is the cache (D24).

Either way the core's `distance_km` to the EXACT point decides the radius (boundary included)
and the order (ties by id), as every GeoIndex adapter does (D19); the distance shown is to the
PUBLIC point (trilateration).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msgspec

from adapters.sql.reads import AsyncpgPetReader, plain_uuid
from tailtracker_core.model.geo import GeoPoint, distances_from
from tailtracker_core.model.lost_found import NearbyReport, PublicLostReport, ReportStatus
from tailtracker_core.model.pets import Size, Species
from tailtracker_core.ports import GeoIndex, NearbyReader, UnitOfWorkFactory
from tailtracker_core.usecases.lost_found import nearby_public

__all__ = ["NEARBY_PUBLIC", "AsyncpgNearbyReader", "ThreadedNearbyReader", "nearby_reader_for"]

NEARBY_PUBLIC = (
    "SELECT id, lat, lon, pet_name, species, breed, colors, size, public_lat, public_lon, last_seen_at"
    " FROM tt_nearby_public_reports($1, $2, $3, $4, $5)"
)

# As adapters/sql/geo.py: PostGIS's sphere and ours differ by 5e-9; the slack covers that and
# rounding. Rows inside the slack but beyond the radius are dropped by the exact check.
_REL_SLACK = 1e-6
_ABS_SLACK_M = 1.0
_EXTRA_ROWS = 2  # rows asked beyond the limit: the next ones tell that the cut is not a tie

_decode_colours = msgspec.json.Decoder(list[str]).decode  # `colors` comes as JSON text
_SPECIES = {s.value: s for s in Species}
_SIZES = {s.value: s for s in Size}


def _slack_m(radius_km: float) -> float:
    return radius_km * 1000.0 * (1 + _REL_SLACK) + _ABS_SLACK_M


class AsyncpgNearbyReader:
    """Implements NearbyReader on PostgreSQL with asyncpg: one statement per search."""

    def __init__(self, pools: AsyncpgPetReader) -> None:
        self._pools = pools

    async def nearby(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[NearbyReport]:
        if limit <= 0 or not radius_km >= 0:
            return []
        pool = await self._pools.pool()
        wanted = species.value if species is not None else None
        measure = distances_from(point)
        fetch = limit + _EXTRA_ROWS
        async with pool.acquire() as conn:
            while True:
                rows = await conn.fetch(
                    NEARBY_PUBLIC, point.lat, point.lon, _slack_m(radius_km), wanted, fetch
                )
                kept, farthest = _within(measure, radius_km, rows)
                if len(rows) < fetch:
                    break  # every open report within the radius (plus slack) came back
                # The walk stopped at `fetch` rows: every row left out is at least as far as the
                # farthest one returned. The page is complete when that row is clearly beyond
                # the last hit kept, so no tie at the cut is decided by the database's order.
                if len(kept) >= limit and farthest > _beyond(kept[limit - 1][0]):
                    break
                fetch *= 4
        return [_hit(measure, r) for _, _, r in kept[:limit]]

    async def close(self) -> None:
        await self._pools.close()  # shared: closing twice is harmless


def _beyond(km: float) -> float:
    """A distance clearly beyond `km`, whichever sphere measured it."""
    return km * (1 + _REL_SLACK) + _ABS_SLACK_M / 1000


# Columns of NEARBY_PUBLIC by position (a record looked up by index is cheaper than by name).
_ID, _LAT, _LON, _NAME, _SPECIES_COL, _BREED, _COLORS, _SIZE, _PUBLIC_LAT, _PUBLIC_LON, _SEEN = range(11)


def _within(
    measure: Callable[[float, float], float], radius_km: float, rows: list[Any]
) -> tuple[list[tuple[float, Any, Any]], float]:
    """(the core's distance to the exact point, id, row) of the rows within the radius,
    nearest first, ties by id; and the distance of the farthest row returned."""
    kept = []
    farthest = 0.0
    for r in rows:
        km = measure(r[_LAT], r[_LON])
        if km > farthest:
            farthest = km
        if km <= radius_km:
            kept.append((km, r[_ID], r))  # asyncpg's UUID orders as uuid.UUID does
    kept.sort(key=_by_distance_then_id)
    return kept, farthest


def _by_distance_then_id(k: tuple[float, Any, Any]) -> tuple[float, Any]:
    return k[0], k[1]


def _hit(measure: Callable[[float, float], float], r: Any) -> NearbyReport:
    size = r[_SIZE]
    public_lat, public_lon = r[_PUBLIC_LAT], r[_PUBLIC_LON]
    view = PublicLostReport(
        report_id=plain_uuid(r[_ID]),
        status=ReportStatus.OPEN,  # the function returns open reports only
        pet_name=r[_NAME],
        species=_SPECIES[r[_SPECIES_COL]],
        breed=r[_BREED],
        colours=tuple(_decode_colours(r[_COLORS])),
        size=_SIZES[size] if size is not None else None,
        photo_id=None,
        location=GeoPoint(public_lat, public_lon),
        last_seen_at=r[_SEEN],
    )
    return NearbyReport(view, measure(public_lat, public_lon))


class ThreadedNearbyReader:
    """Implements NearbyReader over the sync GeoIndex and unit of work, in a worker thread."""

    def __init__(self, geo: GeoIndex, uow_factory: UnitOfWorkFactory) -> None:
        self._geo, self._uow = geo, uow_factory

    async def nearby(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[NearbyReport]:
        return await asyncio.to_thread(nearby_public, self._geo, self._uow, point, radius_km, species, limit)

    async def close(self) -> None:
        return None  # the Database owns the engine


def nearby_reader_for(url: str, database: Any, geo: GeoIndex, pet_reader: Any) -> NearbyReader:
    """One statement on asyncpg for postgresql:// (sharing the pet reader's pool), the
    threaded reader over the GeoIndex otherwise."""
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme in {"postgresql", "postgres"} and isinstance(pet_reader, AsyncpgPetReader):
        return AsyncpgNearbyReader(pet_reader)
    return ThreadedNearbyReader(geo, database.uow_factory)
