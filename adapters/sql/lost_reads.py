"""The read side of the public nearby search: `NearbyReader` adapters for
`GET /v1/lost-reports?lat=&lon=&radius_km=` (docs/decisions.md D33).

- `AsyncpgNearbyReader` (PostgreSQL): usually ONE plain statement per search, no transaction
  around it, over the view `tt_public_open_reports` (migration 0017: the open reports with their
  pets' public columns, read with the owner's rights): a nearest-first walk of the Mercator
  index inside the box around the circle, `limit + 2` rows; the adapter asks again for twice as
  many only when the rows read cannot yet prove that they hold the nearest on the sphere (the
  bound in `adapters/sql/geo.py`). The first pages of searches started in the same turn of the
  event loop share one statement (D37). Within a degree of a pole or across the antimeridian,
  the geography index's walk instead. asyncpg prepares each statement once per connection (its statement
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

from adapters.sql.geo import planar_box, planar_walk_done
from adapters.sql.reads import AsyncpgPetReader
from tailtracker_core.model.geo import GeoPoint, distances_from
from tailtracker_core.model.lost_found import NearbyReport, PublicLostReport, ReportStatus
from tailtracker_core.model.pets import Size, Species
from tailtracker_core.ports import GeoIndex, NearbyReader, UnitOfWorkFactory
from tailtracker_core.usecases.lost_found import nearby_public

__all__ = [
    "NEARBY_PLANAR",
    "NEARBY_PLANAR_MANY",
    "NEARBY_SPHERE",
    "AsyncpgNearbyReader",
    "ThreadedNearbyReader",
    "nearby_reader_for",
]

# Both statements read the view `tt_public_open_reports` (migration 0017): the open reports with
# their pets' public columns and the exact point, as the owner sees them (the app role is under
# RLS). The first walks the Mercator index nearest first in the plane, inside the box of half
# side $3 (degrees) around the centre, and returns each row's planar distance; the second, for
# searches within a degree of a pole or across the antimeridian, walks the geography index
# nearest first on PostGIS's sphere within $3 metres.
_COLUMNS = (
    "id, lat, lon, pet_name, pet_species, pet_breed, pet_colors, pet_size, public_lat, public_lon,"
    " last_seen_at"
)
NEARBY_PLANAR = (
    f"SELECT {_COLUMNS}, mercator <-> c.pt FROM tt_public_open_reports,"  # noqa: S608 (constants only)
    " (SELECT public.ST_MakePoint($2, degrees(asinh(tan(radians($1))))) AS pt) c"
    " WHERE mercator && public.ST_Expand(c.pt, $3) AND (CAST($4 AS text) IS NULL OR species = $4)"
    " ORDER BY mercator <-> c.pt LIMIT $5"
)
# The first page of several planar searches in one statement: each row is a NEARBY_PLANAR row
# followed by the 1-based position of its search in the arrays ($1 lat, $2 lon, $3 half side,
# $4 species or NULL, $5 rows asked). Each LATERAL subquery is the same Mercator KNN walk.
NEARBY_PLANAR_MANY = (
    f"SELECT {', '.join('v.' + c.strip() for c in _COLUMNS.split(','))}, v.walked, q.i"  # noqa: S608
    " FROM unnest($1::float8[], $2::float8[], $3::float8[], $4::text[], $5::int[])"
    " WITH ORDINALITY AS q(lat, lon, half, species, lim, i)"
    " CROSS JOIN LATERAL (SELECT t.*, t.mercator <-> c.pt AS walked FROM tt_public_open_reports t,"
    " (SELECT public.ST_MakePoint(q.lon, degrees(asinh(tan(radians(q.lat))))) AS pt) c"
    " WHERE t.mercator && public.ST_Expand(c.pt, q.half) AND (q.species IS NULL OR t.species = q.species)"
    " ORDER BY t.mercator <-> c.pt LIMIT q.lim) v"
)
NEARBY_SPHERE = (
    f"SELECT {_COLUMNS} FROM tt_public_open_reports,"  # noqa: S608 (constants only)
    " (SELECT public.ST_SetSRID(public.ST_MakePoint($2, $1), 4326)::public.geography AS g) c"
    " WHERE public.ST_DWithin(location, c.g, $3, false) AND (CAST($4 AS text) IS NULL OR species = $4)"
    " ORDER BY location <-> c.g LIMIT $5"
)

# As adapters/sql/geo.py: PostGIS's sphere and ours differ by 5e-9; the slack covers that and
# rounding. Rows inside the slack but beyond the radius are dropped by the exact check.
_REL_SLACK = 1e-6
_ABS_SLACK_M = 1.0
_EXTRA_ROWS = 2  # rows asked beyond the limit: the next ones tell that the cut is not a tie

_decode_colours = msgspec.json.Decoder(tuple[str, ...]).decode  # `colors` comes as JSON text
_SPECIES = {s.value: s for s in Species}
_SIZES = {s.value: s for s in Size}


def _slack_m(radius_km: float) -> float:
    return radius_km * 1000.0 * (1 + _REL_SLACK) + _ABS_SLACK_M


class AsyncpgNearbyReader:
    """Implements NearbyReader on PostgreSQL with asyncpg. The first page of every planar
    search started in the same turn of the event loop goes out in one statement
    (`NEARBY_PLANAR_MANY`, at most `max_batch` searches); a search that must read further, or
    that walks the sphere, sends its own (D37)."""

    def __init__(self, pools: AsyncpgPetReader, *, max_batch: int = 16) -> None:
        self._pools = pools
        self._first_pages = _FirstPages(pools, max_batch)

    async def nearby(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[NearbyReport]:
        if limit <= 0 or not radius_km >= 0:
            return []
        wanted = species.value if species is not None else None
        measure = distances_from(point)
        half = planar_box(point, radius_km)
        if half is None:
            pool = await self._pools.pool()
            async with pool.acquire() as conn:
                kept = await _on_the_sphere(conn, measure, point, radius_km, wanted, limit)
        else:
            first = await self._first_pages.fetch(point.lat, point.lon, half, wanted, limit + _EXTRA_ROWS)
            kept = await self._in_the_plane(first, measure, point, radius_km, half, wanted, limit)
        return [_hit(measure, r) for _, _, r in kept[:limit]]

    async def _in_the_plane(
        self,
        rows: list[Any],
        measure: Callable[[float, float], float],
        point: GeoPoint,
        radius_km: float,
        half: float,
        species: str | None,
        limit: int,
    ) -> list[tuple[float, Any, Any]]:
        """The Mercator walk: `rows` are the nearest `limit + 2` in the plane (in no given
        order); twice as many are read each time until `planar_walk_done` (the bound of
        migration 0017) shows that they hold the page, ties at the cut included; the core's
        distance and order decide."""
        fetch = limit + _EXTRA_ROWS
        while True:
            kept, _ = _within(measure, radius_km, rows)
            kth = kept[limit - 1][0] if len(kept) >= limit else None
            walked = max((r[_PLANAR] for r in rows), default=0.0)
            if planar_walk_done(point.lat, half, fetch, len(rows), walked, kth):
                return kept
            fetch *= 2
            pool = await self._pools.pool()
            async with pool.acquire() as conn:
                rows = await conn.fetch(NEARBY_PLANAR, point.lat, point.lon, half, species, fetch)

    async def close(self) -> None:
        await self._pools.close()  # shared: closing twice is harmless


_Ask = tuple[float, float, float, str | None, int, "asyncio.Future[list[Any]]"]


class _FirstPages:
    """Coalesces first pages. `fetch` queues a search; the first one queued has the queue sent
    at the next turn of the event loop, by when every request already received has queued its
    own; a full queue goes at once. One connection and one round trip serve the whole batch;
    each caller gets its own rows, or the statement's error. Nothing is cached: each batch
    reads the database as it is when it runs."""

    def __init__(self, pools: AsyncpgPetReader, max_batch: int) -> None:
        self._pools = pools
        self._max = max(1, max_batch)
        self._queue: list[_Ask] = []
        self._sending: set[asyncio.Task[None]] = set()

    def fetch(
        self, lat: float, lon: float, half: float, species: str | None, rows: int
    ) -> asyncio.Future[list[Any]]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[Any]] = loop.create_future()
        self._queue.append((lat, lon, half, species, rows, answer))
        if len(self._queue) >= self._max:
            self._send()
        elif len(self._queue) == 1:
            loop.call_soon(self._send)
        return answer

    def _send(self) -> None:
        asks, self._queue = self._queue, []
        if asks:
            task = asyncio.get_running_loop().create_task(self._run(asks))
            self._sending.add(task)  # a strong reference until it is done
            task.add_done_callback(self._sending.discard)

    async def _run(self, asks: list[_Ask]) -> None:
        try:
            pool = await self._pools.pool()
            async with pool.acquire() as conn:
                if len(asks) == 1:
                    lat, lon, half, species, rows, _ = asks[0]
                    pages = [await conn.fetch(NEARBY_PLANAR, lat, lon, half, species, rows)]
                else:
                    columns = [[a[k] for a in asks] for k in range(5)]
                    pages = [[] for _ in asks]
                    for r in await conn.fetch(NEARBY_PLANAR_MANY, *columns):
                        pages[r[_ASK] - 1].append(r)
        except asyncio.CancelledError:
            for *_, answer in asks:
                answer.cancel()
            raise
        except Exception as error:  # every caller in the batch sees the statement's error
            for *_, answer in asks:
                if not answer.done():
                    answer.set_exception(error)
            return
        for (*_, answer), page in zip(asks, pages, strict=True):
            if not answer.done():  # a caller that went away (cancelled) is skipped
                answer.set_result(page)


def _beyond(km: float) -> float:
    """A distance clearly beyond `km`, whichever sphere measured it."""
    return km * (1 + _REL_SLACK) + _ABS_SLACK_M / 1000


async def _on_the_sphere(
    conn: Any,
    measure: Callable[[float, float], float],
    point: GeoPoint,
    radius_km: float,
    species: str | None,
    limit: int,
) -> list[tuple[float, Any, Any]]:
    """The geography walk (near a pole, across the antimeridian): rows come nearest first on
    PostGIS's sphere; the page is complete when the farthest row returned is clearly beyond the
    last hit kept, so no tie at the cut is decided by the database's order."""
    fetch = limit + _EXTRA_ROWS
    while True:
        rows = await conn.fetch(NEARBY_SPHERE, point.lat, point.lon, _slack_m(radius_km), species, fetch)
        kept, farthest = _within(measure, radius_km, rows)
        if len(rows) < fetch:
            return kept  # every open report within the radius (plus slack) came back
        if len(kept) >= limit and farthest > _beyond(kept[limit - 1][0]):
            return kept
        fetch *= 4


# Columns of NEARBY_PLANAR, NEARBY_PLANAR_MANY and NEARBY_SPHERE by position (cheaper than by
# name); _ASK, the search's position in a batch, is NEARBY_PLANAR_MANY's only.
_ID, _LAT, _LON, _NAME, _SPECIES_COL, _BREED, _COLORS, _SIZE, _PUBLIC_LAT, _PUBLIC_LON, _SEEN = range(11)
_PLANAR, _ASK = 11, 12


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
        report_id=r[_ID],  # asyncpg's UUID: a uuid.UUID subclass, not copied (2.7 us a hit)
        status=ReportStatus.OPEN,  # the view shows open reports only
        pet_name=r[_NAME],
        species=_SPECIES[r[_SPECIES_COL]],
        breed=r[_BREED],
        colours=_decode_colours(r[_COLORS]),
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
