"""Contract of the lost-and-found repositories (lost_reports, found_reports, sightings,
matches on the UnitOfWork), as a pytest base class.

Subclass `LostFoundContract` and provide `uow_factory` over one EMPTY store. Every write acts
as the user who owns the data (a family member for lost reports and sightings' reads, the
reporter for found reports), so an adapter with row-level security runs the suite with it on;
the cross-family reads (`public`, `open_lost_pets`, `found_reports.candidates`) are asked by
an outsider or by nobody, as the documented paths allow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tailtracker_core.errors import Conflict
from tailtracker_core.model.accounts import User
from tailtracker_core.model.families import Family
from tailtracker_core.model.geo import GeoPoint, rounded
from tailtracker_core.model.lost_found import FoundReport, LostReport, ReportStatus, Sighting, public_view
from tailtracker_core.model.matching import LostPet, Match, ScoreParts
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds

__all__ = [
    "LostFoundContract",
    "arrange_family",
    "arrange_lost_report",
    "arrange_pet",
    "arrange_user",
    "resolve_report",
]

_ids = TestIds()
_T0 = datetime(2026, 11, 20, 9, 30, 15, 250000, tzinfo=UTC)


def arrange_user(uow_factory: UnitOfWorkFactory, **kw: Any) -> User:
    user_id = _ids.new_id()
    user = User(user_id, f"lf-{user_id.hex}@example.org", kw.pop("display_name", "Alex"), "hash", _T0, **kw)
    with uow_factory(user.id) as uow:
        uow.users.add(user)
        uow.commit()
    return user


def arrange_family(uow_factory: UnitOfWorkFactory, owner: User) -> Family:
    family = Family.found(_ids.new_id(), "The family", owner.id, _T0)
    with uow_factory(owner.id) as uow:
        uow.families.add(family)
        uow.commit()
    return family


def arrange_pet(uow_factory: UnitOfWorkFactory, owner: User, family: Family, **kw: Any) -> Pet:
    fields: dict[str, Any] = {"name": "Rex", "species": Species.DOG, "sex": Sex.MALE, **kw}
    pet = Pet(id=_ids.new_id(), family_id=family.id, created_at=_T0, updated_at=_T0, **fields)
    with uow_factory(owner.id) as uow:
        uow.pets.add(pet)
        uow.commit()
    return pet


def arrange_lost_report(
    uow_factory: UnitOfWorkFactory,
    owner: User,
    pet: Pet,
    location: GeoPoint,
    *,
    radius_km: float = 5.0,
    **kw: Any,
) -> LostReport:
    report = LostReport(
        id=_ids.new_id(),
        pet_id=pet.id,
        family_id=pet.family_id,
        last_seen_at=kw.pop("last_seen_at", _T0 - timedelta(hours=3)),
        location=location,
        radius_km=radius_km,
        description=kw.pop("description", None),
        reward=kw.pop("reward", None),
        opened_at=kw.pop("opened_at", _T0),
        **kw,
    )
    with uow_factory(owner.id) as uow:
        uow.lost_reports.add(report)
        uow.commit()
    return report


def _found(reporter: User, location: GeoPoint, **kw: Any) -> FoundReport:
    fields: dict[str, Any] = {
        "species": Species.DOG,
        "colours": ("black",),
        "seen_at": _T0,
        "filed_at": _T0 + timedelta(minutes=5),
        **kw,
    }
    return FoundReport(id=_ids.new_id(), reporter_id=reporter.id, location=location, **fields)


def _match(
    lost: LostReport, found: FoundReport, score: float, *, certain: bool = False, km: float = 1.0
) -> Match:
    parts = None if certain else ScoreParts(0.8187307531, 0.9, 1.0, 0.5, 0.5, 0.0)
    return Match(lost.id, found.id, score, certain, km, 0.125, parts, certain or score > 0.6)


_LONDON = GeoPoint(51.507351, -0.127758)


def resolve_report(
    uow_factory: UnitOfWorkFactory, owner: User, report: LostReport, *, found: bool = False
) -> None:
    """Mark the report found or close it, as its family would (no geo index update: the event
    is still in flight)."""
    with uow_factory(owner.id) as uow:
        stored = uow.lost_reports.get(report.id)
        assert stored is not None
        if found:
            stored.mark_found(_T0 + timedelta(hours=2))
        else:
            stored.close(_T0 + timedelta(hours=2))
        uow.lost_reports.save(stored)
        uow.commit()


class LostFoundContract:
    """The behaviour every lost-and-found repository adapter shares with the in-memory one."""

    @pytest.fixture
    def family_setup(self, uow_factory: UnitOfWorkFactory) -> tuple[User, Family, Pet]:
        owner = arrange_user(uow_factory)
        family = arrange_family(uow_factory, owner)
        pet = arrange_pet(
            uow_factory,
            owner,
            family,
            breed="Border Collie",
            colors=["black", "white"],
            size=Size.MEDIUM,
            microchip=Microchip("985112345678901"),
        )
        return owner, family, pet

    # --- lost reports --------------------------------------------------------------------

    def test_lost_report_round_trips_every_field(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        report = arrange_lost_report(
            uow_factory,
            owner,
            pet,
            GeoPoint(-33.8688197, 151.2092955),
            radius_km=12.5,
            description="Ran off near the ferry.\nAnswers to Rex 🐾",
            reward="€200",
        )
        with uow_factory(owner.id) as uow:
            got = uow.lost_reports.get(report.id)
        assert got == report
        assert got is not None
        assert got.last_seen_at.utcoffset() == timedelta(0)

    def test_resolved_report_round_trips(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        report = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        report.mark_found(_T0 + timedelta(days=1))
        with uow_factory(owner.id) as uow:
            uow.lost_reports.save(report)
            uow.commit()
        with uow_factory(owner.id) as uow:
            got = uow.lost_reports.get(report.id)
        assert got == report
        assert got is not None
        assert (got.status, got.resolved_at, got.version) == (ReportStatus.FOUND, _T0 + timedelta(days=1), 2)

    def test_one_open_report_per_pet(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        first = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        second = LostReport(_ids.new_id(), pet.id, pet.family_id, _T0, _LONDON, 5.0, None, None, _T0)
        with uow_factory(owner.id) as uow, pytest.raises(Conflict):
            uow.lost_reports.add(second)
        with uow_factory(owner.id) as uow:
            assert uow.lost_reports.get(second.id) is None
            assert uow.lost_reports.open_for_pet(pet.id) == first
            first.close(_T0 + timedelta(hours=1))
            uow.lost_reports.save(first)
            uow.lost_reports.add(second)  # a closed report does not block a new one
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.lost_reports.open_for_pet(pet.id) == second

    def test_save_refuses_a_stale_version(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        report = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        with uow_factory(owner.id) as uow:
            mine = uow.lost_reports.get(report.id)
        with uow_factory(owner.id) as uow:
            theirs = uow.lost_reports.get(report.id)
            assert theirs is not None
            theirs.close(_T0 + timedelta(hours=1))
            uow.lost_reports.save(theirs)
            uow.commit()
        assert mine is not None
        mine.mark_found(_T0 + timedelta(hours=2))
        with uow_factory(owner.id) as uow, pytest.raises(Conflict):
            uow.lost_reports.save(mine)
        with uow_factory(owner.id) as uow:
            assert uow.lost_reports.get(report.id) == theirs

    def test_open_for_pet_is_none_without_an_open_report(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        with uow_factory(owner.id) as uow:
            assert uow.lost_reports.open_for_pet(pet.id) is None

    def test_list_for_families_pages_in_id_order_and_filters_status(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, family, _ = family_setup
        pets = [arrange_pet(uow_factory, owner, family, name=f"Pet {i}") for i in range(4)]
        reports = [arrange_lost_report(uow_factory, owner, p, _LONDON) for p in pets]
        reports[1].close(_T0 + timedelta(hours=1))
        with uow_factory(owner.id) as uow:
            uow.lost_reports.save(reports[1])
            uow.commit()
        other_owner = arrange_user(uow_factory)
        other_family = arrange_family(uow_factory, other_owner)
        arrange_lost_report(
            uow_factory, other_owner, arrange_pet(uow_factory, other_owner, other_family), _LONDON
        )
        with uow_factory(owner.id) as uow:
            page1 = uow.lost_reports.list_for_families([family.id], None, None, 3)
            page2 = uow.lost_reports.list_for_families([family.id], None, page1[-1].id, 3)
            open_only = uow.lost_reports.list_for_families([family.id], ReportStatus.OPEN, None, 10)
            closed = uow.lost_reports.list_for_families([family.id], ReportStatus.CLOSED, None, 10)
            nothing = uow.lost_reports.list_for_families([], None, None, 10)
        assert [r.id for r in page1 + page2] == [r.id for r in reports]
        assert [r.id for r in open_only] == [reports[0].id, reports[2].id, reports[3].id]
        assert closed == [reports[1]]
        assert nothing == []

    def test_public_view_is_for_anyone_and_shows_only_public_fields(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        report = arrange_lost_report(uow_factory, owner, pet, GeoPoint(51.5073519, -0.1277589), reward="€50")
        outsider = arrange_user(uow_factory)
        unknown = _ids.new_id()
        for actor in (outsider.id, None):
            with uow_factory(actor) as uow:
                views = uow.lost_reports.public([unknown, report.id])
            assert views == [public_view(report, pet)]
            view = views[0]
            assert view.location == rounded(report.location, 100.0) != report.location
            assert (view.pet_name, view.species, view.breed, view.colours, view.size) == (
                "Rex",
                Species.DOG,
                "Border Collie",
                ("black", "white"),
                Size.MEDIUM,
            )

    def test_public_keeps_the_order_asked_and_shows_resolved_reports(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, family, pet = family_setup
        first = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        second = arrange_lost_report(uow_factory, owner, arrange_pet(uow_factory, owner, family), _LONDON)
        first.close(_T0 + timedelta(hours=1))
        with uow_factory(owner.id) as uow:
            uow.lost_reports.save(first)
            uow.commit()
        with uow_factory(None) as uow:
            views = uow.lost_reports.public([second.id, first.id, second.id])
        assert [(v.report_id, v.status) for v in views] == [
            (second.id, ReportStatus.OPEN),
            (first.id, ReportStatus.CLOSED),
        ]

    def test_open_lost_pets_crosses_families_and_skips_resolved_reports(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, family, pet = family_setup
        report = arrange_lost_report(uow_factory, owner, pet, _LONDON, description="private")
        other_pet = arrange_pet(uow_factory, owner, family, name="Tom", species=Species.CAT)
        closed = arrange_lost_report(uow_factory, owner, other_pet, _LONDON)
        closed.close(_T0 + timedelta(hours=1))
        with uow_factory(owner.id) as uow:
            uow.lost_reports.save(closed)
            uow.commit()
        finder = arrange_user(uow_factory)
        for actor in (finder.id, None):
            with uow_factory(actor) as uow:
                got = uow.lost_reports.open_lost_pets([closed.id, _ids.new_id(), report.id])
            assert got == [LostPet.of(report, pet)]
            assert got[0].microchip == Microchip("985112345678901")

    def test_open_ids_with_chip_find_the_pet_anywhere_across_families(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, family, pet = family_setup  # chipped 985112345678901
        chip = Microchip("985112345678901")
        report = arrange_lost_report(uow_factory, owner, pet, GeoPoint(-33.8688, 151.2093))
        twin = arrange_pet(uow_factory, owner, family, name="Twin", microchip=chip)  # a typo'd record
        twin_report = arrange_lost_report(uow_factory, owner, twin, GeoPoint(64.1466, -21.9426))
        cat = arrange_pet(uow_factory, owner, family, name="Tom", species=Species.CAT, microchip=chip)
        arrange_lost_report(uow_factory, owner, cat, _LONDON)
        closed_pet = arrange_pet(uow_factory, owner, family, name="Old", microchip=chip)
        closed = arrange_lost_report(uow_factory, owner, closed_pet, _LONDON)
        resolve_report(uow_factory, owner, closed)
        plain = arrange_pet(uow_factory, owner, family, name="Plain")
        arrange_lost_report(uow_factory, owner, plain, _LONDON)
        finder = arrange_user(uow_factory)
        for actor in (finder.id, None):
            with uow_factory(actor) as uow:
                got = uow.lost_reports.open_ids_with_chip(chip, Species.DOG, 10)
                first = uow.lost_reports.open_ids_with_chip(chip, Species.DOG, 1)
                none = uow.lost_reports.open_ids_with_chip(chip, Species.DOG, 0)
                other = uow.lost_reports.open_ids_with_chip(Microchip("985112345678902"), Species.DOG, 10)
            assert got == sorted([report.id, twin_report.id])
            assert first == got[:1]
            assert none == other == []

    def test_deleting_the_pet_deletes_its_reports(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        report = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        with uow_factory(owner.id) as uow:
            uow.sightings.add(
                Sighting(_ids.new_id(), report.id, report.family_id, owner.id, _T0, _LONDON, None, _T0)
            )
            uow.commit()
        with uow_factory(owner.id) as uow:
            uow.pets.delete(pet.id)
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.lost_reports.get(report.id) is None
            assert uow.sightings.list_for_report(report.id, None, 10) == []

    def test_rolled_back_reports_are_not_stored(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        report = LostReport(_ids.new_id(), pet.id, pet.family_id, _T0, _LONDON, 5.0, None, None, _T0)
        with uow_factory(owner.id) as uow:
            uow.lost_reports.add(report)
        with uow_factory(owner.id) as uow:
            assert uow.lost_reports.get(report.id) is None

    # --- found reports -------------------------------------------------------------------

    def test_found_report_round_trips_every_field(self, uow_factory: UnitOfWorkFactory) -> None:
        finder = arrange_user(uow_factory)
        full = _found(
            finder,
            GeoPoint(64.1466, -21.9426),
            breed="Labrador Retriever",
            size=Size.LARGE,
            sex=Sex.FEMALE,
            microchip=Microchip("276098106543210"),
            description="Friendly, blue collar.\nNo tag.",
            photo_id=_ids.new_id(),
            colours=("yellow", "white"),
        )
        bare = _found(finder, GeoPoint(-90.0, 180.0), species=Species.CAT, colours=())
        with uow_factory(finder.id) as uow:
            uow.found_reports.add(full)
            uow.found_reports.add(bare)
            uow.commit()
        with uow_factory(finder.id) as uow:
            assert uow.found_reports.get(full.id) == full
            assert uow.found_reports.get(bare.id) == bare
            assert uow.found_reports.get(_ids.new_id()) is None

    def test_found_reports_list_for_reporter_pages(self, uow_factory: UnitOfWorkFactory) -> None:
        finder, other = arrange_user(uow_factory), arrange_user(uow_factory)
        mine = [_found(finder, _LONDON) for _ in range(3)]
        with uow_factory(finder.id) as uow:
            for r in mine:
                uow.found_reports.add(r)
            uow.commit()
        with uow_factory(other.id) as uow:
            uow.found_reports.add(_found(other, _LONDON))
            uow.commit()
        with uow_factory(finder.id) as uow:
            page1 = uow.found_reports.list_for_reporter(finder.id, None, 2)
            page2 = uow.found_reports.list_for_reporter(finder.id, page1[-1].id, 2)
        assert page1 + page2 == mine

    def test_found_report_candidates_are_in_window_radius_and_species_nearest_first(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        finder = arrange_user(uow_factory)
        centre = GeoPoint(0.0, 179.99)
        near = _found(finder, GeoPoint(0.0, -179.99))  # 2.22 km across the antimeridian
        nearer = _found(finder, GeoPoint(0.0, 179.995))
        far = _found(finder, GeoPoint(0.0, 179.5))  # 54 km
        cat = _found(finder, GeoPoint(0.0, 179.99), species=Species.CAT)
        early = _found(finder, GeoPoint(0.0, 179.99), seen_at=_T0 - timedelta(days=3))
        late = _found(finder, GeoPoint(0.0, 179.99), seen_at=_T0 + timedelta(days=70))
        edge = _found(finder, GeoPoint(0.0, 179.98), seen_at=_T0 + timedelta(days=60))
        with uow_factory(finder.id) as uow:
            for r in (near, nearer, far, cat, early, late, edge):
                uow.found_reports.add(r)
            uow.commit()
        outsider = arrange_user(uow_factory)
        with uow_factory(outsider.id) as uow:
            got = uow.found_reports.candidates(
                centre, 25.0, Species.DOG, _T0 - timedelta(days=1), _T0 + timedelta(days=60), 10
            )
            limited = uow.found_reports.candidates(
                centre, 25.0, Species.DOG, _T0 - timedelta(days=1), _T0 + timedelta(days=60), 2
            )
        assert [r.id for r in got] == [nearer.id, edge.id, near.id]
        assert got[0] == nearer
        assert [r.id for r in limited] == [nearer.id, edge.id]

    def test_found_reports_with_chip_ignore_distance_and_lateness_latest_first(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        finder = arrange_user(uow_factory)
        chip = Microchip("985112345678901")
        far = _found(finder, GeoPoint(-33.8688, 151.2093), microchip=chip)
        late = _found(finder, _LONDON, microchip=chip, seen_at=_T0 + timedelta(days=400))
        edge = _found(finder, _LONDON, microchip=chip, seen_at=_T0 - timedelta(days=1))
        early = _found(finder, _LONDON, microchip=chip, seen_at=_T0 - timedelta(days=1, seconds=1))
        cat = _found(finder, _LONDON, microchip=chip, species=Species.CAT)
        other_chip = _found(finder, _LONDON, microchip=Microchip("985112345678902"))
        unchipped = _found(finder, _LONDON)
        tie = _found(finder, _LONDON, microchip=chip)  # same seen_at as `far`: id order
        with uow_factory(finder.id) as uow:
            for r in (far, late, edge, early, cat, other_chip, unchipped, tie):
                uow.found_reports.add(r)
            uow.commit()
        outsider = arrange_user(uow_factory)
        since = _T0 - timedelta(days=1)
        for actor in (outsider.id, None):
            with uow_factory(actor) as uow:
                got = uow.found_reports.with_chip(chip, Species.DOG, since, 10)
                limited = uow.found_reports.with_chip(chip, Species.DOG, since, 2)
                none = uow.found_reports.with_chip(chip, Species.DOG, since, 0)
            assert [r.id for r in got] == [late.id, *sorted([far.id, tie.id]), edge.id]
            assert got[0] == late
            assert [r.id for r in limited] == [r.id for r in got[:2]]
            assert none == []

    # --- sightings -----------------------------------------------------------------------

    def test_sightings_round_trip_and_list_for_their_report(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, family, pet = family_setup
        report = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        other = arrange_lost_report(uow_factory, owner, arrange_pet(uow_factory, owner, family), _LONDON)
        finder = arrange_user(uow_factory)
        seen = [
            Sighting.record(_ids.new_id(), report, finder.id, _T0 - timedelta(hours=i), _LONDON, note, _T0)
            for i, note in enumerate(["by the river\nheading north", None, "at the bakery"])
        ]
        seen.append(
            Sighting(
                _ids.new_id(), report.id, report.family_id, finder.id, _T0, _LONDON, None, _T0, _ids.new_id()
            )
        )
        with uow_factory(finder.id) as uow:
            for s in seen:
                uow.sightings.add(s)
            uow.sightings.add(Sighting.record(_ids.new_id(), other, finder.id, _T0, _LONDON, None, _T0))
            uow.commit()
        with uow_factory(owner.id) as uow:
            page1 = uow.sightings.list_for_report(report.id, None, 3)
            page2 = uow.sightings.list_for_report(report.id, page1[-1].id, 3)
        assert page1 + page2 == seen

    # --- matches -------------------------------------------------------------------------

    def test_match_upsert_says_whether_the_pair_is_new_and_keeps_the_latest(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, _, pet = family_setup
        lost = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        finder = arrange_user(uow_factory)
        found = _found(finder, _LONDON)
        with uow_factory(finder.id) as uow:
            uow.found_reports.add(found)
            uow.commit()
        first = _match(lost, found, 0.55)
        again = _match(lost, found, 0.71, km=0.25)
        with uow_factory(finder.id) as uow:
            assert uow.matches.upsert(first) is True
            uow.commit()
        with uow_factory(finder.id) as uow:
            assert uow.matches.upsert(again) is False
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.matches.for_lost_report(lost.id, 10) == [again]
        with uow_factory(finder.id) as uow:
            assert uow.matches.for_found_report(found.id, 10) == [again]

    def test_matches_come_best_first(
        self, uow_factory: UnitOfWorkFactory, family_setup: tuple[User, Family, Pet]
    ) -> None:
        owner, family, pet = family_setup
        lost = arrange_lost_report(uow_factory, owner, pet, _LONDON)
        lost2 = arrange_lost_report(uow_factory, owner, arrange_pet(uow_factory, owner, family), _LONDON)
        finder = arrange_user(uow_factory)
        founds = [_found(finder, _LONDON) for _ in range(4)]
        with uow_factory(finder.id) as uow:
            for f in founds:
                uow.found_reports.add(f)
            uow.commit()
        low = _match(lost, founds[0], 0.35)
        high_far = _match(lost, founds[1], 0.8, km=3.0)
        high_near = _match(lost, founds[2], 0.8, km=1.0)
        chip = _match(lost, founds[3], 1.0, certain=True, km=40.0)
        other_side = _match(lost2, founds[1], 0.5)
        with uow_factory(finder.id) as uow:
            for m in (low, high_far, chip, high_near, other_side):
                assert uow.matches.upsert(m) is True
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.matches.for_lost_report(lost.id, 10) == [chip, high_near, high_far, low]
            assert uow.matches.for_lost_report(lost.id, 2) == [chip, high_near]
        with uow_factory(finder.id) as uow:
            assert uow.matches.for_found_report(founds[1].id, 10) == [high_far, other_side]
