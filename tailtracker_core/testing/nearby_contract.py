"""Contract of the NearbyReader port (the public nearby search's read side), as a pytest base
class: one suite for every adapter (memory, SQLite in a thread, PostgreSQL on asyncpg, and the
threaded reader over the Redis geo cache).

Subclass `NearbyReaderContract` and provide, over one EMPTY store:

- `uow_factory`: the UnitOfWorkFactory of the authoritative store (reports are opened and
  closed through it, as the use cases do);
- `nearby_reader`: the NearbyReader under test over that store (the suite closes it);
- optionally `geo_feed`: a GeoIndex to `put` opened reports into (a cache adapter); None by
  default (the database is the index). Resolving never calls `remove`: "closed at once".

What it pins down is `lost_found.nearby_public`'s answer: open reports only, within the radius
by the core's distance to the EXACT point (boundary included), nearest first by that distance,
ties by id, at most `limit`, one species when given; each hit is the public view with the
distance to the PUBLIC (~100 m) point. The hard places are the geo contract's: the
antimeridian, the North Pole, ties beyond an adapter's first page.

The tests are plain sync tests driving the coroutines through one `asyncio.Runner` per test.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

import pytest

from tailtracker_core.model.accounts import User
from tailtracker_core.model.geo import GeoPoint, distance_km, rounded
from tailtracker_core.model.lost_found import LostReport, NearbyReport, ReportStatus
from tailtracker_core.model.pets import Size, Species
from tailtracker_core.ports import GeoIndex, IndexedReport, NearbyReader, UnitOfWorkFactory
from tailtracker_core.testing.geo_contract import destination
from tailtracker_core.testing.lost_found_contract import (
    arrange_family,
    arrange_lost_report,
    arrange_pet,
    arrange_user,
    resolve_report,
)

__all__ = ["NearbyReaderContract"]

_T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class NearbyReaderContract:
    @pytest.fixture
    def aio(self, nearby_reader: NearbyReader) -> Iterator[asyncio.Runner]:
        with asyncio.Runner() as runner:
            yield runner
            runner.run(nearby_reader.close())

    @pytest.fixture
    def geo_feed(self) -> GeoIndex | None:
        return None

    @pytest.fixture
    def owner(self, uow_factory: UnitOfWorkFactory) -> User:
        return arrange_user(uow_factory)

    # --- arranging, as the application does ----------------------------------------------

    def open_report(
        self,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
        where: GeoPoint,
        species: Species = Species.DOG,
        **pet: object,
    ) -> LostReport:
        family = arrange_family(uow_factory, owner)
        animal = arrange_pet(uow_factory, owner, family, species=species, **pet)
        report = arrange_lost_report(uow_factory, owner, animal, where)
        if geo_feed is not None:
            geo_feed.put(IndexedReport(report.id, where, species))
        return report

    def search(
        self,
        aio: asyncio.Runner,
        reader: NearbyReader,
        point: GeoPoint,
        radius_km: float,
        species: Species | None = None,
        limit: int = 20,
    ) -> list[NearbyReport]:
        return aio.run(reader.nearby(point, radius_km, species, limit))

    @staticmethod
    def ids(hits: list[NearbyReport]) -> list[UUID]:
        return [h.report.report_id for h in hits]

    # --- the answers ---------------------------------------------------------------------

    def test_nothing_to_find(self, aio: asyncio.Runner, nearby_reader: NearbyReader) -> None:
        assert self.search(aio, nearby_reader, GeoPoint(0.0, 0.0), 50.0) == []

    def test_public_views_nearest_first_with_distances_to_the_public_point(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        centre = GeoPoint(48.8566, 2.3522)
        places = {km: destination(centre, b, km) for km, b in ((3.0, 10), (0.5, 200), (7.5, 95), (1.2, 300))}
        reports = {km: self.open_report(uow_factory, geo_feed, owner, p) for km, p in places.items()}
        self.open_report(uow_factory, geo_feed, owner, destination(centre, 45, 12.0))  # outside
        tom = self.open_report(
            uow_factory,
            geo_feed,
            owner,
            destination(centre, 150, 2.0),
            Species.CAT,
            name="Tom",
            breed="Maine Coon",
            colors=["black", "white"],
            size=Size.SMALL,
        )
        hits = self.search(aio, nearby_reader, centre, 10.0)
        assert self.ids(hits) == [reports[0.5].id, reports[1.2].id, tom.id, reports[3.0].id, reports[7.5].id]
        exact = {**{reports[k].id: p for k, p in places.items()}, tom.id: destination(centre, 150, 2.0)}
        seen = {r.id: r.last_seen_at for r in (*reports.values(), tom)}
        for hit in hits:
            public = rounded(exact[hit.report.report_id], 100.0)
            assert hit.report.location == public  # the ~100 m cell, never the exact point
            assert hit.distance_km == pytest.approx(distance_km(centre, public), abs=1e-9)
            assert hit.report.status is ReportStatus.OPEN
            assert hit.report.last_seen_at == seen[hit.report.report_id]
        view = hits[2].report
        assert (view.pet_name, view.species, view.breed, view.colours, view.size, view.photo_id) == (
            "Tom",
            Species.CAT,
            "Maine Coon",
            ("black", "white"),
            Size.SMALL,
            None,
        )
        assert (hits[0].report.breed, hits[0].report.colours, hits[0].report.size) == (None, (), None)

    def test_the_radius_decides_by_the_exact_point_boundary_included(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        centre = GeoPoint(-33.8688, 151.2093)
        edge = destination(centre, 137.0, 5.0)
        report = self.open_report(uow_factory, geo_feed, owner, edge)
        exact = distance_km(centre, edge)
        assert self.ids(self.search(aio, nearby_reader, centre, exact)) == [report.id]
        assert self.search(aio, nearby_reader, centre, exact - 0.001) == []  # one metre short

    def test_closed_and_found_reports_are_absent_at_once(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        centre = GeoPoint(-1.2921, 36.8219)
        kept = self.open_report(uow_factory, geo_feed, owner, destination(centre, 0, 1.0))
        closed = self.open_report(uow_factory, geo_feed, owner, destination(centre, 0, 0.5))
        found = self.open_report(uow_factory, geo_feed, owner, destination(centre, 0, 0.2))
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0)) == [found.id, closed.id, kept.id]
        resolve_report(uow_factory, owner, closed, found=False)  # no `remove`: the event is in flight
        resolve_report(uow_factory, owner, found, found=True)
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0)) == [kept.id]
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0, limit=1)) == [kept.id]

    def test_an_edited_pet_shows_at_once(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        # PostgreSQL keeps a copy of the pet's public columns on the report (migration 0017):
        # an edit must reach the search in the same commit, and only the edited pet's report.
        centre = GeoPoint(55.6761, 12.5683)
        edited = self.open_report(uow_factory, geo_feed, owner, destination(centre, 30, 1.0), name="Rex")
        other = self.open_report(uow_factory, geo_feed, owner, destination(centre, 60, 2.0), name="Bella")
        with uow_factory(owner.id) as uow:
            pet = uow.pets.get(edited.pet_id)
            assert pet is not None
            draft = pet.draft()
            draft.name, draft.breed, draft.colors, draft.size = (
                "Rexy",
                "Beagle",
                ["tan", "white"],
                Size.MEDIUM,
            )
            pet.apply(draft, _T0)
            uow.pets.save(pet)
            uow.commit()
        hits = self.search(aio, nearby_reader, centre, 5.0)
        assert self.ids(hits) == [edited.id, other.id]
        first, second = hits[0].report, hits[1].report
        assert (first.pet_name, first.breed, first.colours, first.size) == (
            "Rexy",
            "Beagle",
            ("tan", "white"),
            Size.MEDIUM,
        )
        assert (second.pet_name, second.breed) == ("Bella", None)

    def test_species_filter(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        centre = GeoPoint(40.4168, -3.7038)
        dog = self.open_report(uow_factory, geo_feed, owner, destination(centre, 0, 1.0), Species.DOG)
        cat = self.open_report(uow_factory, geo_feed, owner, destination(centre, 90, 2.0), Species.CAT)
        cat2 = self.open_report(uow_factory, geo_feed, owner, destination(centre, 180, 0.5), Species.CAT)
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0, Species.CAT)) == [cat2.id, cat.id]
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0, Species.DOG)) == [dog.id]
        assert self.search(aio, nearby_reader, centre, 5.0, Species.RABBIT) == []
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0)) == [cat2.id, dog.id, cat.id]

    def test_limit_keeps_the_nearest_and_ties_come_in_id_order(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        # More reports on one spot than an adapter's first page (PostgreSQL asks limit + 2
        # rows with ties in no order): the ones kept are still the lowest ids.
        spot = GeoPoint(48.137, 11.575)
        nearest = self.open_report(uow_factory, geo_feed, owner, destination(spot, 90, 0.4))
        tied = [self.open_report(uow_factory, geo_feed, owner, spot) for _ in range(40)]
        centre = destination(spot, 90, 1.0)  # `nearest` is 0.6 km away, the tied ones 1 km
        lowest = sorted(r.id for r in tied)
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0, limit=1)) == [nearest.id]
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0, limit=20)) == [nearest.id, *lowest[:19]]
        assert self.ids(self.search(aio, nearby_reader, centre, 5.0, limit=100)) == [nearest.id, *lowest]
        assert self.search(aio, nearby_reader, centre, 5.0, limit=0) == []

    def test_across_the_antimeridian(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        east, west, far_west = GeoPoint(0.0, 179.99), GeoPoint(0.0, -179.99), GeoPoint(0.0, -179.9)
        r_east = self.open_report(uow_factory, geo_feed, owner, east)
        r_west = self.open_report(uow_factory, geo_feed, owner, west)
        r_far = self.open_report(uow_factory, geo_feed, owner, far_west)
        assert self.ids(self.search(aio, nearby_reader, east, 5.0)) == [r_east.id, r_west.id]
        assert self.ids(self.search(aio, nearby_reader, west, 5.0)) == [r_west.id, r_east.id]
        assert self.ids(self.search(aio, nearby_reader, east, 15.0)) == [r_east.id, r_west.id, r_far.id]
        on_line = self.search(aio, nearby_reader, GeoPoint(0.0, 180.0), 2.0)
        assert set(self.ids(on_line)) == {r_east.id, r_west.id}

    def test_near_the_north_pole_and_across_it(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        centre = GeoPoint(89.9, 0.0)
        across, beside, pole, lower = (
            GeoPoint(89.9, 180.0),  # 22.24 km away, over the pole
            GeoPoint(89.95, 90.0),  # 12.4 km
            GeoPoint(90.0, -45.0),  # 11.1 km
            GeoPoint(89.6, 0.0),  # 33.4 km
        )
        reports = {
            p: self.open_report(uow_factory, geo_feed, owner, p) for p in (across, beside, pole, lower)
        }
        hits = self.search(aio, nearby_reader, centre, 25.0)
        assert self.ids(hits) == [reports[pole].id, reports[beside].id, reports[across].id]
        for hit, where in zip(hits, (pole, beside, across), strict=True):
            assert hit.distance_km == pytest.approx(distance_km(centre, rounded(where, 100.0)), abs=1e-9)

    def test_agrees_with_brute_force_around_the_hard_places(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        """Seeded random reports (some closed) and searches around the antimeridian, both
        poles, Svalbard and the equator: the answer is the brute-force one, order included."""
        rng = random.Random(20261206)
        hubs = [GeoPoint(0.0, 180.0), GeoPoint(89.99, 0.0), GeoPoint(-89.99, 0.0), GeoPoint(85.05, 179.9)]
        hubs += [GeoPoint(78.2232, 15.6267), GeoPoint(0.0, 0.0)]
        placed: dict[UUID, tuple[GeoPoint, Species]] = {}
        for _ in range(50):
            where = destination(rng.choice(hubs), rng.uniform(0, 360), rng.uniform(0, 40))
            species = rng.choice([Species.DOG, Species.CAT])
            report = self.open_report(uow_factory, geo_feed, owner, where, species)
            if rng.random() < 0.2:
                resolve_report(uow_factory, owner, report, found=rng.random() < 0.5)
            else:
                placed[report.id] = (where, species)
        for _ in range(30):
            centre = destination(rng.choice(hubs), rng.uniform(0, 360), rng.uniform(0, 30))
            radius = rng.choice([0.5, 5.0, 25.0, 50.0])
            species_filter = rng.choice([None, Species.DOG, Species.CAT])
            limit = rng.choice([1, 5, 20, 100])
            expected = sorted(
                (d, rid)
                for rid, (where, sp) in placed.items()
                if (d := distance_km(centre, where)) <= radius and species_filter in (None, sp)
            )[:limit]
            got = self.search(aio, nearby_reader, centre, radius, species_filter, limit)
            assert self.ids(got) == [rid for _, rid in expected], (centre, radius, species_filter, limit)
            for hit in got:
                public = rounded(placed[hit.report.report_id][0], 100.0)
                assert hit.distance_km == pytest.approx(distance_km(centre, public), abs=1e-9)

    def test_agrees_with_brute_force_in_a_dense_cluster(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        """Many more reports than any first page, at 60 N (a degree of longitude is half one of
        latitude) and on the equator: an adapter that reads nearest first by another metric
        (PostgreSQL's planar walk) must read on until its answer is the sphere's."""
        rng = random.Random(61)
        family = arrange_family(uow_factory, owner)
        placed: dict[UUID, GeoPoint] = {}
        for hub in (GeoPoint(60.17, 24.94), GeoPoint(0.0, 30.0)):
            for i in range(70):
                where = destination(hub, rng.uniform(0, 360), 3.0 * math.sqrt(rng.random()))
                animal = arrange_pet(uow_factory, owner, family, name=f"Pet {i}")
                report = arrange_lost_report(uow_factory, owner, animal, where)
                if geo_feed is not None:
                    geo_feed.put(IndexedReport(report.id, where, Species.DOG))
                placed[report.id] = where
            for _ in range(6):
                centre = destination(hub, rng.uniform(0, 360), rng.uniform(0, 2.5))
                radius = rng.choice([1.0, 5.0])
                limit = rng.choice([1, 5, 20, 60])
                expected = sorted(
                    (d, rid) for rid, where in placed.items() if (d := distance_km(centre, where)) <= radius
                )[:limit]
                got = self.search(aio, nearby_reader, centre, radius, None, limit)
                assert self.ids(got) == [rid for _, rid in expected], (centre, radius, limit)

    def test_searches_at_the_same_time_each_get_their_own_answer(
        self,
        aio: asyncio.Runner,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        geo_feed: GeoIndex | None,
        owner: User,
    ) -> None:
        """Many searches in flight at once (an adapter may send them together), with different
        centres, radii, species, limits, some near the pole and across the antimeridian, some
        with more hits than a first page: each answer is its own brute-force one."""
        rng = random.Random(1206)
        hubs = [GeoPoint(52.52, 13.405), GeoPoint(52.55, 13.45), GeoPoint(0.0, 179.99), GeoPoint(89.6, 20.0)]
        placed: dict[UUID, tuple[GeoPoint, Species]] = {}
        for _ in range(60):
            where = destination(rng.choice(hubs), rng.uniform(0, 360), 4.0 * math.sqrt(rng.random()))
            species = rng.choice([Species.DOG, Species.CAT])
            placed[self.open_report(uow_factory, geo_feed, owner, where, species).id] = (where, species)
        asks = [
            (
                destination(rng.choice(hubs), rng.uniform(0, 360), rng.uniform(0, 3)),
                rng.choice([1.0, 5.0, 25.0]),
                rng.choice([None, Species.DOG, Species.CAT]),
                rng.choice([1, 3, 20, 100]),
            )
            for _ in range(48)
        ]

        async def all_at_once() -> list[list[NearbyReport]]:
            return list(
                await asyncio.gather(*(nearby_reader.nearby(c, r, sp, lim) for c, r, sp, lim in asks))
            )

        for (centre, radius, species_filter, limit), got in zip(asks, aio.run(all_at_once()), strict=True):
            expected = sorted(
                (d, rid)
                for rid, (where, sp) in placed.items()
                if (d := distance_km(centre, where)) <= radius and species_filter in (None, sp)
            )[:limit]
            assert self.ids(got) == [rid for _, rid in expected], (centre, radius, species_filter, limit)
