"""The public nearby search over the in-process store (the embedded default's `memory://`)."""

from __future__ import annotations

from adapters.memory.geo import MemoryGeoIndex
from adapters.memory.uow import MemoryStore
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.lost_found import NearbyReport
from tailtracker_core.model.pets import Species
from tailtracker_core.usecases.lost_found import nearby_public

__all__ = ["MemoryNearbyReader"]


class MemoryNearbyReader:
    """Implements NearbyReader: the memory geo index and the store's public views, inline (no
    I/O, nothing to wait for), so it answers exactly what the sync path answers."""

    def __init__(self, store: MemoryStore, geo: MemoryGeoIndex | None = None) -> None:
        self._store = store
        self._geo = geo or MemoryGeoIndex(store)

    async def nearby(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[NearbyReport]:
        return nearby_public(self._geo, self._store.uow_factory, point, radius_km, species, limit)

    async def close(self) -> None:
        return None
