"""Contract of the GeoIndex port, as a pytest base class: one suite, the same fixtures, for
every adapter (memory, SQLite, PostgreSQL with PostGIS, Redis GEO).

Subclass `GeoIndexContract` and provide, over one EMPTY store:

- `uow_factory`: the UnitOfWorkFactory of the authoritative store (reports are opened and
  closed through it, as the use cases do);
- `geo_index`: the GeoIndex under test over that store.

Reports are opened and resolved the way the application does it: written through the unit of
work, then `put` / `remove` as the outbox handler would. The "closed at once" test resolves a
report WITHOUT calling `remove`, as when its event has not been handled yet.

The fixtures are the hard places: the antimeridian (lon 179.99 and -179.99), high latitudes
(89.9 N, across the North Pole, Svalbard at 78 N), the exact radius boundary, ties.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from uuid import UUID

import pytest

from tailtracker_core.model.accounts import User
from tailtracker_core.model.geo import EARTH_RADIUS_KM, GeoPoint, distance_km
from tailtracker_core.model.lost_found import LostReport
from tailtracker_core.model.pets import Species
from tailtracker_core.ports import GeoIndex, IndexedReport, UnitOfWorkFactory
from tailtracker_core.testing.lost_found_contract import (
    arrange_family,
    arrange_lost_report,
    arrange_pet,
    arrange_user,
    resolve_report,
)

__all__ = ["GeoIndexContract", "destination"]

_T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def destination(start: GeoPoint, bearing_deg: float, km: float) -> GeoPoint:
    """The point `km` from `start` along the initial bearing (great circle on the core's sphere)."""
    d = km / EARTH_RADIUS_KM
    lat1, lon1, b = math.radians(start.lat), math.radians(start.lon), math.radians(bearing_deg)
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b))
    lon2 = lon1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2)
    )
    lon = (math.degrees(lon2) + 540.0) % 360.0 - 180.0
    return GeoPoint(max(-90.0, min(90.0, math.degrees(lat2))), lon)


class GeoIndexContract:
    """What every GeoIndex answers, given the same reports and users."""

    # --- arranging, as the application does ----------------------------------------------

    @pytest.fixture
    def owner(self, uow_factory: UnitOfWorkFactory) -> User:
        return arrange_user(uow_factory)

    def open_report(
        self,
        uow_factory: UnitOfWorkFactory,
        geo_index: GeoIndex,
        owner: User,
        where: GeoPoint,
        species: Species = Species.DOG,
    ) -> LostReport:
        family = arrange_family(uow_factory, owner)
        pet = arrange_pet(uow_factory, owner, family, species=species)
        report = arrange_lost_report(uow_factory, owner, pet, where)
        geo_index.put(IndexedReport(report.id, where, species))
        return report

    def alert_user(
        self, uow_factory: UnitOfWorkFactory, where: GeoPoint | None, radius_km: float | None
    ) -> User:
        return arrange_user(
            uow_factory,
            alert_lat=None if where is None else where.lat,
            alert_lon=None if where is None else where.lon,
            alert_radius_km=radius_km,
        )

    @staticmethod
    def ids(hits: list[tuple[UUID, float]]) -> list[UUID]:
        return [h[0] for h in hits]

    @staticmethod
    def assert_distances(
        hits: list[tuple[UUID, float]], expected: dict[UUID, GeoPoint], centre: GeoPoint
    ) -> None:
        for report_id, km in hits:
            assert km == pytest.approx(distance_km(centre, expected[report_id]), abs=1e-6)

    # --- open reports near a point -------------------------------------------------------

    def test_empty_index_finds_nothing(self, geo_index: GeoIndex) -> None:
        assert geo_index.nearby_open_reports(GeoPoint(0.0, 0.0), 50.0, None, 10) == []
        assert geo_index.alert_candidates(GeoPoint(0.0, 0.0), 50.0, None, 10) == []
        assert geo_index.open_reports(None, 10) == []

    def test_nearest_first_with_distances(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        centre = GeoPoint(48.8566, 2.3522)
        places = {
            km: destination(centre, bearing, km)
            for km, bearing in ((3.0, 10), (0.5, 200), (7.5, 95), (1.2, 300))
        }
        reports = {km: self.open_report(uow_factory, geo_index, owner, p) for km, p in places.items()}
        self.open_report(uow_factory, geo_index, owner, destination(centre, 45, 12.0))  # outside
        hits = geo_index.nearby_open_reports(centre, 10.0, None, 10)
        assert self.ids(hits) == [reports[km].id for km in (0.5, 1.2, 3.0, 7.5)]
        assert [round(km, 6) for _, km in hits] == [0.5, 1.2, 3.0, 7.5]
        self.assert_distances(hits, {reports[k].id: places[k] for k in places}, centre)

    def test_across_the_antimeridian(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        east = GeoPoint(0.0, 179.99)
        west = GeoPoint(0.0, -179.99)
        far_west = GeoPoint(0.0, -179.9)  # 12.2 km from `east`
        r_east = self.open_report(uow_factory, geo_index, owner, east)
        r_west = self.open_report(uow_factory, geo_index, owner, west)
        r_far = self.open_report(uow_factory, geo_index, owner, far_west)
        from_east = geo_index.nearby_open_reports(east, 5.0, None, 10)
        from_west = geo_index.nearby_open_reports(west, 5.0, None, 10)
        assert self.ids(from_east) == [r_east.id, r_west.id]
        assert self.ids(from_west) == [r_west.id, r_east.id]
        assert from_east[1][1] == pytest.approx(2.2239, abs=1e-3)
        wide = geo_index.nearby_open_reports(east, 15.0, None, 10)
        assert self.ids(wide) == [r_east.id, r_west.id, r_far.id]
        # from the other side of the line, at lon 180 exactly (the same meridian as -180)
        on_line = geo_index.nearby_open_reports(GeoPoint(0.0, 180.0), 2.0, None, 10)
        assert set(self.ids(on_line)) == {r_east.id, r_west.id}
        on_line_west = geo_index.nearby_open_reports(GeoPoint(0.0, -180.0), 2.0, None, 10)
        assert set(self.ids(on_line_west)) == set(self.ids(on_line))

    def test_near_the_north_pole_and_across_it(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        centre = GeoPoint(89.9, 0.0)
        across = GeoPoint(89.9, 180.0)  # 22.24 km away, over the pole
        beside = GeoPoint(89.95, 90.0)  # 12.4 km
        pole = GeoPoint(90.0, -45.0)  # 11.1 km
        lower = GeoPoint(89.6, 0.0)  # 33.4 km
        reports = {
            p: self.open_report(uow_factory, geo_index, owner, p) for p in (across, beside, pole, lower)
        }
        hits = geo_index.nearby_open_reports(centre, 25.0, None, 10)
        assert self.ids(hits) == [reports[pole].id, reports[beside].id, reports[across].id]
        self.assert_distances(hits, {r.id: p for p, r in reports.items()}, centre)
        at_pole = geo_index.nearby_open_reports(GeoPoint(90.0, 0.0), 12.0, None, 10)
        assert set(self.ids(at_pole)) == {reports[pole].id, reports[across].id, reports[beside].id}

    def test_svalbard(self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User) -> None:
        longyearbyen = GeoPoint(78.2232, 15.6267)
        east_3km = destination(longyearbyen, 90.0, 3.0)
        north_4km = destination(longyearbyen, 0.0, 4.0)
        east_6km = destination(longyearbyen, 90.0, 6.0)
        r3 = self.open_report(uow_factory, geo_index, owner, east_3km)
        r4 = self.open_report(uow_factory, geo_index, owner, north_4km)
        self.open_report(uow_factory, geo_index, owner, east_6km)
        hits = geo_index.nearby_open_reports(longyearbyen, 5.0, None, 10)
        assert self.ids(hits) == [r3.id, r4.id]
        assert [round(km, 6) for _, km in hits] == [3.0, 4.0]

    def test_the_radius_boundary_is_included(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        centre = GeoPoint(-33.8688, 151.2093)
        edge = destination(centre, 137.0, 5.0)
        report = self.open_report(uow_factory, geo_index, owner, edge)
        exact = distance_km(centre, edge)
        assert self.ids(geo_index.nearby_open_reports(centre, exact, None, 10)) == [report.id]
        assert geo_index.nearby_open_reports(centre, exact - 0.001, None, 10) == []  # one metre short

    def test_species_filter(self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User) -> None:
        centre = GeoPoint(40.4168, -3.7038)
        dog = self.open_report(uow_factory, geo_index, owner, destination(centre, 0, 1.0), Species.DOG)
        cat = self.open_report(uow_factory, geo_index, owner, destination(centre, 90, 2.0), Species.CAT)
        cat2 = self.open_report(uow_factory, geo_index, owner, destination(centre, 180, 0.5), Species.CAT)
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, Species.CAT, 10)) == [cat2.id, cat.id]
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, Species.DOG, 10)) == [dog.id]
        assert geo_index.nearby_open_reports(centre, 5.0, Species.RABBIT, 10) == []
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, None, 10)) == [cat2.id, dog.id, cat.id]

    def test_limit_keeps_the_nearest(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        centre = GeoPoint(35.6762, 139.6503)
        reports = [
            self.open_report(uow_factory, geo_index, owner, destination(centre, 33.0 * i, 0.3 * (i + 1)))
            for i in range(8)
        ]
        assert self.ids(geo_index.nearby_open_reports(centre, 10.0, None, 3)) == [r.id for r in reports[:3]]
        assert self.ids(geo_index.nearby_open_reports(centre, 10.0, None, 1)) == [reports[0].id]
        assert geo_index.nearby_open_reports(centre, 10.0, None, 0) == []

    def test_ties_come_in_id_order(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        spot = GeoPoint(52.52, 13.405)
        reports = [self.open_report(uow_factory, geo_index, owner, spot) for _ in range(3)]
        hits = geo_index.nearby_open_reports(destination(spot, 270, 1.0), 5.0, None, 10)
        assert self.ids(hits) == sorted(r.id for r in reports)

    def test_ties_beyond_the_first_page_still_come_in_id_order(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        # More reports at one spot than an adapter's first page (PostGIS asks limit + 16 rows
        # nearest first with ties in no order): the ones kept are still the lowest ids.
        spot = GeoPoint(48.137, 11.575)
        reports = [self.open_report(uow_factory, geo_index, owner, spot) for _ in range(24)]
        farther = self.open_report(uow_factory, geo_index, owner, destination(spot, 90, 0.5))
        centre = destination(spot, 270, 1.0)
        lowest = sorted(r.id for r in reports)
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, None, 2)) == lowest[:2]
        hits = geo_index.nearby_open_reports(centre, 5.0, None, 25)
        assert self.ids(hits) == [*lowest, farther.id]

    def test_resolved_reports_are_absent_at_once(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        centre = GeoPoint(-1.2921, 36.8219)
        kept = self.open_report(uow_factory, geo_index, owner, destination(centre, 0, 1.0))
        closed = self.open_report(uow_factory, geo_index, owner, destination(centre, 0, 0.5))
        found = self.open_report(uow_factory, geo_index, owner, destination(centre, 0, 0.2))
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, None, 10)) == [
            found.id,
            closed.id,
            kept.id,
        ]
        # resolved in the database; the index has not been told yet (the event is in flight)
        resolve_report(uow_factory, owner, closed)
        resolve_report(uow_factory, owner, found, found=True)
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, None, 10)) == [kept.id]
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, None, 1)) == [kept.id]
        # and once told, still absent (remove is idempotent)
        for report in (closed, found, closed):
            geo_index.remove(report.id)
        assert self.ids(geo_index.nearby_open_reports(centre, 5.0, None, 10)) == [kept.id]
        assert [e.report_id for e in geo_index.open_reports(None, 10)] == [kept.id]

    def test_put_is_idempotent(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        centre = GeoPoint(-22.9068, -43.1729)
        where = destination(centre, 0, 1.0)
        report = self.open_report(uow_factory, geo_index, owner, where)
        geo_index.put(IndexedReport(report.id, where, Species.DOG))
        hits = geo_index.nearby_open_reports(centre, 5.0, None, 10)
        assert self.ids(hits) == [report.id]
        assert hits[0][1] == pytest.approx(1.0, abs=1e-6)

    def test_open_reports_pages_in_id_order(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        spots = [GeoPoint(10.0 * i - 80.0, 170.0 - 40.0 * i) for i in range(5)]
        species = [Species.DOG, Species.CAT, Species.DOG, Species.BIRD, Species.DOG]
        reports = [
            self.open_report(uow_factory, geo_index, owner, p, s) for p, s in zip(spots, species, strict=True)
        ]
        resolve_report(uow_factory, owner, reports[2])
        page1 = geo_index.open_reports(None, 2)
        page2 = geo_index.open_reports(page1[-1].report_id, 10)
        expected = [IndexedReport(r.id, p, s) for r, p, s in zip(reports, spots, species, strict=True)]
        del expected[2]
        assert page1 + page2 == expected

    def test_agrees_with_brute_force_around_the_hard_places(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex, owner: User
    ) -> None:
        """Seeded random reports and searches around the antimeridian, both poles, Redis's
        85.05° limit and the equator; the answer is the brute-force one, order included."""
        rng = random.Random(20261125)
        hubs = [GeoPoint(0.0, 180.0), GeoPoint(89.99, 0.0), GeoPoint(-89.99, 0.0), GeoPoint(85.05, 179.9)]
        hubs += [GeoPoint(-85.1, -179.95), GeoPoint(78.2232, 15.6267), GeoPoint(0.0, 0.0)]
        family = arrange_family(uow_factory, owner)
        placed: dict[UUID, tuple[GeoPoint, Species]] = {}
        for i in range(70):
            where = destination(rng.choice(hubs), rng.uniform(0, 360), rng.uniform(0, 40))
            species = rng.choice([Species.DOG, Species.CAT])
            pet = arrange_pet(uow_factory, owner, family, species=species, name=f"Pet {i}")
            report = arrange_lost_report(uow_factory, owner, pet, where)
            geo_index.put(IndexedReport(report.id, where, species))
            placed[report.id] = (where, species)
        for _ in range(40):
            centre = destination(rng.choice(hubs), rng.uniform(0, 360), rng.uniform(0, 30))
            radius = rng.choice([0.5, 5.0, 25.0, 50.0])
            species_filter = rng.choice([None, Species.DOG, Species.CAT])
            limit = rng.choice([1, 5, 100])
            expected = sorted(
                (d, rid)
                for rid, (where, sp) in placed.items()
                if (d := distance_km(centre, where)) <= radius and species_filter in (None, sp)
            )[:limit]
            got = geo_index.nearby_open_reports(centre, radius, species_filter, limit)
            assert self.ids(got) == [rid for _, rid in expected], (centre, radius, species_filter, limit)

    # --- who could be alerted ------------------------------------------------------------

    def test_alert_candidates_need_both_radii(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex
    ) -> None:
        centre = GeoPoint(51.5074, -0.1278)
        near_wide = self.alert_user(uow_factory, destination(centre, 10, 2.0), 5.0)
        near_narrow = self.alert_user(uow_factory, destination(centre, 100, 2.0), 1.5)  # own radius too small
        edge = destination(centre, 200, 4.0)
        own_edge = self.alert_user(uow_factory, edge, distance_km(centre, edge))  # exactly its own radius
        beyond_report = self.alert_user(uow_factory, destination(centre, 300, 6.0), 50.0)
        self.alert_user(uow_factory, None, 25.0)  # no alert location
        self.alert_user(uow_factory, destination(centre, 0, 0.1), None)  # no radius: not a candidate
        hits = geo_index.alert_candidates(centre, 5.0, None, 100)
        assert self.ids(hits) == sorted([near_wide.id, own_edge.id])
        assert dict(hits)[near_wide.id] == pytest.approx(2.0, abs=1e-6)
        assert dict(hits)[own_edge.id] == pytest.approx(4.0, abs=1e-6)
        wider = geo_index.alert_candidates(centre, 6.5, None, 100)
        assert self.ids(wider) == sorted([near_wide.id, own_edge.id, beyond_report.id])
        assert near_narrow.id not in self.ids(wider)

    def test_alert_candidates_page_by_user_id(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex
    ) -> None:
        centre = GeoPoint(0.0, -179.995)  # pages across the antimeridian too
        users = [
            self.alert_user(uow_factory, destination(centre, 45.0 * i, 0.5 + 0.1 * i), 5.0) for i in range(7)
        ]
        self.alert_user(uow_factory, destination(centre, 90.0, 30.0), 50.0)  # beyond the report's radius
        expected = sorted(u.id for u in users)
        pages: list[UUID] = []
        after: UUID | None = None
        while True:
            page = geo_index.alert_candidates(centre, 5.0, after, 3)
            assert len(page) <= 3
            if not page:
                break
            pages.extend(self.ids(page))
            after = page[-1][0]
        assert pages == expected

    def test_alert_candidates_near_the_pole(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex
    ) -> None:
        centre = GeoPoint(89.95, 10.0)
        over = self.alert_user(uow_factory, GeoPoint(89.95, -170.0), 20.0)  # 11.1 km over the pole
        self.alert_user(uow_factory, GeoPoint(89.0, 10.0), 200.0)  # 105.6 km
        assert self.ids(geo_index.alert_candidates(centre, 15.0, None, 10)) == [over.id]

    def test_alert_candidates_agree_with_brute_force(
        self, uow_factory: UnitOfWorkFactory, geo_index: GeoIndex
    ) -> None:
        rng = random.Random(11)
        hubs = [GeoPoint(0.0, -180.0), GeoPoint(89.95, 45.0), GeoPoint(-60.0, 20.0)]
        users: dict[UUID, tuple[GeoPoint, float]] = {}
        for _ in range(60):
            where = destination(rng.choice(hubs), rng.uniform(0, 360), rng.uniform(0, 30))
            radius = rng.choice([1.0, 5.0, 10.0, 25.0, 50.0])
            users[self.alert_user(uow_factory, where, radius).id] = (where, radius)
        for _ in range(25):
            centre = destination(rng.choice(hubs), rng.uniform(0, 360), rng.uniform(0, 20))
            radius = rng.choice([2.0, 10.0, 50.0])
            expected = sorted(
                uid
                for uid, (where, own) in users.items()
                if (d := distance_km(centre, where)) <= radius and d <= own
            )
            got: list[UUID] = []
            after: UUID | None = None
            while page := geo_index.alert_candidates(centre, radius, after, 7):
                got.extend(self.ids(page))
                after = page[-1][0]
            assert got == expected
