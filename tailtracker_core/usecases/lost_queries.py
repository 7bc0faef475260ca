"""Lost-and-found queries for the async read side: the public nearby search.

The search runs on a `NearbyReader`, which an adapter may answer in one round trip
(PostgreSQL: one statement, docs/decisions.md D33); the rules stay here, in the core: the
radius is checked against the caller's tier before any I/O, and at most `SEARCH_LIMIT` hits.
"""

from __future__ import annotations

from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.lost_found import NearbyReport, check_radius
from tailtracker_core.model.pets import Species
from tailtracker_core.model.tiers import Tier, TierTable
from tailtracker_core.ports import NearbyReader
from tailtracker_core.usecases.lost_found import SEARCH_LIMIT

__all__ = ["search_nearby"]


async def search_nearby(
    reader: NearbyReader,
    tiers: TierTable,
    tier: Tier,
    point: GeoPoint,
    radius_km: float,
    species: Species | None,
    limit: int = SEARCH_LIMIT,
) -> list[NearbyReport]:
    """Open reports within `radius_km` (at most the caller's tier's alert radius; signed-out
    callers search with the free tier's), nearest first, at most `limit` (and SEARCH_LIMIT),
    as public views with the distance to their public point."""
    radius = check_radius(radius_km, tier, tiers)  # 422 / 403 before any I/O
    if limit <= 0:
        return []
    return await reader.nearby(point, radius, species, min(limit, SEARCH_LIMIT))
