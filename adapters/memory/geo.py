"""The in-memory geo index: a scan of the committed store with the core's distance.

It is the reference for the GeoIndex contract: it IS its data (put/remove do nothing),
like the database adapters.
"""

from __future__ import annotations

from uuid import UUID

from adapters.memory.uow import MemoryStore
from tailtracker_core.model.geo import GeoPoint, distance_km
from tailtracker_core.model.pets import Species
from tailtracker_core.ports import IndexedReport

__all__ = ["MemoryGeoIndex"]


class MemoryGeoIndex:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def nearby_open_reports(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[tuple[UUID, float]]:
        with self._store.lock:
            d = self._store.data
            hits = [
                (r.id, distance_km(point, r.location))
                for r in d.lost_reports.values()
                if r.is_open and (species is None or d.lost_species.get(r.id) is species)
            ]
        kept = sorted(((i, km) for i, km in hits if km <= radius_km), key=lambda h: (h[1], h[0]))
        return kept[: max(limit, 0)]

    def alert_candidates(
        self, point: GeoPoint, radius_km: float, after_user_id: UUID | None, limit: int
    ) -> list[tuple[UUID, float]]:
        out: list[tuple[UUID, float]] = []
        with self._store.lock:
            users = sorted(self._store.data.users.values(), key=lambda u: u.id)
        for u in users:
            where = u.alert_location
            if (
                where is None
                or u.alert_radius_km is None
                or (after_user_id is not None and u.id <= after_user_id)
            ):
                continue
            km = distance_km(point, where)
            if km <= radius_km and km <= u.alert_radius_km:
                out.append((u.id, km))
                if len(out) >= limit:
                    break
        return out

    def open_reports(self, after: UUID | None, limit: int) -> list[IndexedReport]:
        with self._store.lock:
            d = self._store.data
            rows = sorted(
                (
                    IndexedReport(r.id, r.location, d.lost_species[r.id])
                    for r in d.lost_reports.values()
                    if r.is_open and (after is None or r.id > after)
                ),
                key=lambda e: e.report_id,
            )
        return rows[: max(limit, 0)]

    def put(self, entry: IndexedReport) -> None:
        return None  # the store is the index

    def remove(self, report_id: UUID) -> None:
        return None
