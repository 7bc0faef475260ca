"""Redis GEO as a cache of open lost reports, for hot radius searches (GeoIndex port).

Keys (one sorted set per species plus one for all, so a species search reads only its own):
`{prefix}open:all`, `{prefix}open:<species>`, and `{prefix}polar`, a hash of the reports
Redis GEO cannot hold (beyond ±85.05112878° latitude, the limit of its Web-Mercator geohash):
id -> "lat lon species", scanned whole when a search reaches that far (a handful of rows).

Consistency with the database (the authority), see docs/lost-and-found.md:
- fed through the outbox: `lost_report.opened` -> `put`, `lost_report.resolved` -> `remove`
  (entrypoints/tasks.py); `rebuild` repopulates from the database (`tailtracker geo-rebuild`);
- the read path NEVER trusts the cache alone: every candidate is re-checked in the database
  (`lost_reports.open_lost_pets`, one round trip) for its status and exact point, so a report
  closed a moment ago is absent at once, before its event is handled. Candidates the database
  no longer has open are dropped from the cache on the way (self-repair);
- Redis measures on its own sphere (6372.797 km) with ~0.6 m geohash precision, so it is asked
  for a slightly wider circle; the core's `distance_km` on the database's point decides.
- alert candidates (users) and `open_reports` are the authority's answers: users are not cached;
- a `{prefix}built` key marks a complete cache; without it (Redis restarted empty, flushed)
  searches go to the database until `rebuild` (the worker runs `ensure_built` at start).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast
from uuid import UUID

import redis

from tailtracker_core.model.geo import GeoPoint, bbox, distance_km
from tailtracker_core.model.pets import Species
from tailtracker_core.ports import GeoIndex, IndexedReport, UnitOfWorkFactory

__all__ = ["GEO_LAT_LIMIT", "RedisGeoIndex"]

GEO_LAT_LIMIT = 85.05112878  # Redis GEOADD refuses latitudes beyond this
_REDIS_EARTH_KM = 6372.7975608  # Redis's sphere; ours is 6371.0088 km
_SCALE = _REDIS_EARTH_KM / 6371.0088 * (1 + 1e-6)
_SLACK_KM = 0.005  # geohash cells are < 1 m; five metres is plenty


def _lon(lon: float) -> float:
    """180 as -180 (the same meridian): Redis misses the western neighbours of a search
    centred exactly on lon 180 (seen on Redis 7.0)."""
    return -180.0 if lon >= 180.0 else lon


class RedisGeoIndex:
    def __init__(
        self,
        client: redis.Redis,
        authority: GeoIndex,
        uow_factory: UnitOfWorkFactory,
        prefix: str = "tt:geo:",
    ) -> None:
        self._client = client
        self._authority = authority
        self._uow = uow_factory
        self._prefix = prefix

    # --- keys ----------------------------------------------------------------------------

    def _key(self, species: Species | None) -> str:
        return f"{self._prefix}open:{species.value if species is not None else 'all'}"

    @property
    def _polar(self) -> str:
        return f"{self._prefix}polar"

    @property
    def _built(self) -> str:
        """Set by a finished `rebuild`; gone when Redis lost its data (restart, flush,
        eviction), and then the reads go to the database until the cache is rebuilt."""
        return f"{self._prefix}built"

    def is_built(self) -> bool:
        return bool(self._client.exists(self._built))

    def ensure_built(self) -> int | None:
        """Rebuild when the cache is not known to be complete (the worker calls it at start)."""
        return None if self.is_built() else self.rebuild()

    # --- the feed ------------------------------------------------------------------------

    def put(self, entry: IndexedReport) -> None:
        member = str(entry.report_id)
        pipe = self._client.pipeline(transaction=True)
        for species in Species:  # a report is in one species key only, whatever it was before
            if species is not entry.species:
                pipe.zrem(self._key(species), member)
        if abs(entry.location.lat) <= GEO_LAT_LIMIT:
            lon_lat = (_lon(entry.location.lon), entry.location.lat, member)
            pipe.geoadd(self._key(None), lon_lat)
            pipe.geoadd(self._key(entry.species), lon_lat)
            pipe.hdel(self._polar, member)
        else:
            pipe.zrem(self._key(None), member)
            pipe.zrem(self._key(entry.species), member)
            pipe.hset(
                self._polar, member, f"{entry.location.lat!r} {entry.location.lon!r} {entry.species.value}"
            )
        pipe.execute()

    def remove(self, report_id: UUID) -> None:
        self._remove([str(report_id)])

    def _remove(self, members: Sequence[str]) -> None:
        if not members:
            return
        pipe = self._client.pipeline(transaction=True)
        pipe.zrem(self._key(None), *members)
        for species in Species:
            pipe.zrem(self._key(species), *members)
        pipe.hdel(self._polar, *members)
        pipe.execute()

    def rebuild(self, page: int = 1000) -> int:
        """Make the cache hold exactly the database's open reports; returns how many.

        In place, never by swapping keys: a `put` handled meanwhile is never lost (a swap
        would drop it). An entry resolved meanwhile may linger; the read path's re-check hides
        it and drops it."""
        count = 0
        after: UUID | None = None
        while True:
            entries = self._authority.open_reports(after, page)
            for entry in entries:
                self.put(entry)
            count += len(entries)
            if len(entries) < page:
                break
            after = entries[-1].report_id
        cached = {m.decode() for m, _ in self._client.zscan_iter(self._key(None), count=1000)}
        for species in Species:
            cached |= {m.decode() for m, _ in self._client.zscan_iter(self._key(species), count=1000)}
        cached |= {m.decode() for m in cast("dict[bytes, bytes]", self._client.hgetall(self._polar))}
        self._drop_unless_open(sorted(cached))
        self._client.set(self._built, b"1")
        return count

    def _drop_unless_open(self, members: Sequence[str], batch: int = 500) -> None:
        for i in range(0, len(members), batch):
            chunk = members[i : i + batch]
            with self._uow(None) as uow:
                still = {
                    str(lp.report.id) for lp in uow.lost_reports.open_lost_pets([UUID(m) for m in chunk])
                }
            self._remove([m for m in chunk if m not in still])

    # --- reads ---------------------------------------------------------------------------

    def nearby_open_reports(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[tuple[UUID, float]]:
        if limit <= 0 or not radius_km >= 0:
            return []
        if not self.is_built():
            return self._authority.nearby_open_reports(point, radius_km, species, limit)
        box = bbox(point, radius_km)
        polar = box.max_lat >= GEO_LAT_LIMIT or box.min_lat <= -GEO_LAT_LIMIT
        reaches_geo = box.min_lat <= GEO_LAT_LIMIT and box.max_lat >= -GEO_LAT_LIMIT
        # A centre beyond Redis's limit searches from the nearest point it accepts, with the
        # radius grown by the distance between the two (a superset, by the triangle inequality).
        centre = GeoPoint(max(-GEO_LAT_LIMIT, min(GEO_LAT_LIMIT, point.lat)), point.lon)
        extra_km = distance_km(point, centre)
        ordered = not polar and extra_km == 0.0  # Redis's order is ours: COUNT may cut the list
        fetch: int | None = 2 * limit + 16 if ordered else None
        while True:
            candidates: list[str] = []
            exhausted = True
            if reaches_geo:
                found = self._search(centre, (radius_km + extra_km) * _SCALE + _SLACK_KM, species, fetch)
                candidates.extend(found)
                exhausted = fetch is None or len(found) < fetch
            if polar:
                candidates.extend(self._polar_members(species))
            hits = self._recheck(point, radius_km, candidates)
            if exhausted or len(hits) >= limit + 8:
                return hits[:limit]
            assert fetch is not None
            fetch *= 4

    def _search(
        self, centre: GeoPoint, radius_km: float, species: Species | None, count: int | None
    ) -> list[str]:
        radius_km = min(radius_km, math.pi * _REDIS_EARTH_KM)  # the whole sphere at most
        members = self._client.geosearch(
            self._key(species),
            longitude=_lon(centre.lon),
            latitude=centre.lat,
            radius=radius_km,
            unit="km",
            sort="ASC",
            count=count,
        )
        return [m.decode() for m in cast("list[bytes]", members)]

    def _polar_members(self, species: Species | None) -> list[str]:
        out = []
        for member, value in cast("dict[bytes, bytes]", self._client.hgetall(self._polar)).items():
            if species is None or value.decode().rsplit(" ", 1)[-1] == species.value:
                out.append(member.decode())
        return out

    def _recheck(self, point: GeoPoint, radius_km: float, members: Sequence[str]) -> list[tuple[UUID, float]]:
        """The authoritative status and exact point of each candidate, from the database."""
        if not members:
            return []
        wanted = list(dict.fromkeys(members))
        with self._uow(None) as uow:
            open_now = {
                lp.report.id: lp.report.location
                for lp in uow.lost_reports.open_lost_pets([UUID(m) for m in wanted])
            }
        stale = [m for m in wanted if UUID(m) not in open_now]
        if stale:
            self._remove(stale)  # resolved or deleted: the cache repairs itself
        hits = [(rid, distance_km(point, where)) for rid, where in open_now.items()]
        return sorted(((rid, km) for rid, km in hits if km <= radius_km), key=lambda h: (h[1], h[0]))

    def alert_candidates(
        self, point: GeoPoint, radius_km: float, after_user_id: UUID | None, limit: int
    ) -> list[tuple[UUID, float]]:
        return self._authority.alert_candidates(point, radius_km, after_user_id, limit)

    def open_reports(self, after: UUID | None, limit: int) -> list[IndexedReport]:
        return self._authority.open_reports(after, limit)
