import math
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tailtracker_core.model.geo import EARTH_RADIUS_KM, GeoPoint, distance_km
from tailtracker_core.model.lost_found import FoundReport, LostReport, ReportStatus
from tailtracker_core.model.matching import (
    LostPet,
    MatchSettings,
    breed_similarity,
    colour_similarity,
    match_found_report,
    match_key,
    match_lost_report,
    score_pair,
    sex_similarity,
    size_similarity,
)
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, PetDraft, Sex, Size, Species
from tailtracker_core.testing.strategies import valid_microchips
from tests.unit.matching_cases import CASES, Case, Side
from tests.unit.test_geo import destination

LAST_SEEN = datetime(2025, 5, 1, 18, 0, tzinfo=UTC)
ORIGIN = GeoPoint(48.137, 11.575)


def north_of(p: GeoPoint, km: float) -> GeoPoint:
    return GeoPoint(p.lat + math.degrees(km / EARTH_RADIUS_KM), p.lon)


def lost_pet(side: Side, *, radius_km: float = 5.0, location: GeoPoint = ORIGIN, status=ReportStatus.OPEN):
    report = LostReport(
        uuid4(), uuid4(), uuid4(), LAST_SEEN, location, radius_km, None, None, LAST_SEEN, status
    )
    chip = Microchip.parse(side.chip) if side.chip else None
    return LostPet(report, side.species, side.breed, side.colours, side.size, side.sex, chip)


def found_report(side: Side, *, location: GeoPoint, seen_at: datetime) -> FoundReport:
    chip = Microchip.parse(side.chip) if side.chip else None
    return FoundReport(
        uuid4(),
        uuid4(),
        side.species,
        side.colours,
        seen_at,
        location,
        seen_at,
        side.breed,
        side.size,
        side.sex,
        chip,
    )


def build(case: Case) -> tuple[FoundReport, LostPet]:
    status = ReportStatus.OPEN if case.open else ReportStatus.CLOSED
    lost = lost_pet(case.lost, radius_km=case.radius_km, status=status)
    seen = LAST_SEEN + timedelta(hours=case.hours)
    return found_report(case.found, location=north_of(ORIGIN, case.km), seen_at=seen), lost


# --- the hand-checked table ---------------------------------------------------------------


def test_the_table_has_at_least_twelve_cases():
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hand_checked_case(case: Case):
    found, lost = build(case)
    m = score_pair(found, lost)
    if case.score is None:
        assert m is None
        assert match_found_report(found, [lost]) == []
        return
    assert m is not None
    assert m.score == pytest.approx(case.score, abs=1e-6)
    assert m.distance_km == pytest.approx(case.km, abs=1e-6)
    assert m.days == pytest.approx(abs(case.hours) / 24, abs=1e-9)
    assert (m.certain, m.notify) == (case.certain, case.notify)
    assert (match_found_report(found, [lost]) == [m]) is case.returned


def test_a_certain_match_ranks_before_an_equal_score_and_scores_rank_best_first():
    chip = "276098106543210"
    found = found_report(Side(chip=chip), location=ORIGIN, seen_at=LAST_SEEN)
    identical = lost_pet(Side())  # 1.0 by score
    chipped = lost_pet(Side(chip=chip), location=north_of(ORIGIN, -300))  # 1.0, certain
    five_km = lost_pet(Side(), location=north_of(ORIGIN, 5))  # 0.35*e^-1 + 0.65 = 0.778757804
    ranked = match_found_report(found, [five_km, identical, chipped])
    assert [m.lost_report_id for m in ranked] == [chipped.report.id, identical.report.id, five_km.report.id]
    assert [m.score for m in ranked] == pytest.approx([1.0, 1.0, 0.778757804], abs=1e-6)


# --- components ---------------------------------------------------------------------------

breeds = st.one_of(
    st.none(), st.sampled_from(["Beagle", " beagle", "BEAGLE ", "Poodle", "unknown", "", "Border  Collie"])
)
colour_lists = st.lists(st.sampled_from(["black", "White", " tan", "grey", "ginger", "TAN"]), max_size=4)
sizes = st.none() | st.sampled_from(list(Size))
sexes = st.none() | st.sampled_from(list(Sex))


@given(breeds, breeds)
def test_breed_similarity_is_symmetric_and_in_range(a, b):
    assert breed_similarity(a, b) == breed_similarity(b, a) in (0.0, 0.5, 1.0)


@given(colour_lists, colour_lists)
def test_colour_similarity_is_symmetric_and_in_range(a, b):
    s = colour_similarity(a, b)
    assert s == colour_similarity(b, a) and 0.0 <= s <= 1.0
    assert colour_similarity(a, a) == (1.0 if a else 0.5)


@given(sexes, sexes, sizes, sizes)
def test_sex_and_size_similarity_are_symmetric(sa, sb, za, zb):
    assert sex_similarity(sa, sb) == sex_similarity(sb, sa)
    assert size_similarity(za, zb) == size_similarity(zb, za)


def test_unknown_sex_is_unknown_not_a_third_sex():
    assert sex_similarity(Sex.UNKNOWN, Sex.UNKNOWN) == 0.5 == sex_similarity(Sex.UNKNOWN, Sex.MALE)


# --- scores -------------------------------------------------------------------------------

sides = st.builds(
    Side,
    species=st.sampled_from([Species.DOG, Species.CAT]),
    breed=breeds,
    colours=colour_lists.map(tuple),
    size=sizes,
    sex=sexes,
    chip=st.none(),
)
hours = st.floats(-30, 62 * 24)
kms = st.floats(0, 60)
radii = st.floats(0.5, 50)


@st.composite
def pairs(draw, *, same_species: bool = False):
    lost_side, found_side = draw(sides), draw(sides)
    if same_species:
        found_side = attrs.evolve(found_side, species=lost_side.species)
    radius = draw(radii)
    lost = lost_pet(lost_side, radius_km=radius)
    where = destination(ORIGIN, draw(st.floats(0, 360)), draw(kms))
    found = found_report(found_side, location=where, seen_at=LAST_SEEN + timedelta(hours=draw(hours)))
    return found, lost


def score_or_zero(found: FoundReport, lost: LostPet) -> float:
    m = score_pair(found, lost)
    return 0.0 if m is None else m.score


@given(pairs())
def test_a_score_is_between_0_and_1(pair):
    m = score_pair(*pair)
    assert m is None or 0.0 <= m.score <= 1.0


@given(pairs(same_species=True))
def test_swapping_the_symmetric_traits_changes_nothing(pair):
    found, lost = pair
    swapped_found = attrs.evolve(found, breed=lost.breed, colours=lost.colours, size=lost.size, sex=lost.sex)
    swapped_lost = attrs.evolve(
        lost, breed=found.breed, colours=found.colours, size=found.size, sex=found.sex
    )
    assert score_or_zero(found, lost) == pytest.approx(score_or_zero(swapped_found, swapped_lost), abs=1e-12)


@given(pairs(same_species=True), st.floats(0, 60), st.floats(0, 60), st.floats(0, 360))
def test_the_score_never_rises_with_distance(pair, d1, d2, bearing):
    found, lost = pair
    near, far = sorted((d1, d2))
    at = lambda km: attrs.evolve(found, location=destination(ORIGIN, bearing, km))  # noqa: E731
    assert score_or_zero(at(near), lost) >= score_or_zero(at(far), lost) - 1e-12


@given(pairs(same_species=True), st.floats(0, 62 * 24), st.floats(0, 62 * 24), st.sampled_from([1, -1]))
def test_the_score_never_rises_with_the_time_gap_on_either_side(pair, h1, h2, sign):
    found, lost = pair
    small, large = sorted((h1, h2))
    at = lambda h: attrs.evolve(found, seen_at=LAST_SEEN + sign * timedelta(hours=h))  # noqa: E731
    assert score_or_zero(at(small), lost) >= score_or_zero(at(large), lost) - 1e-12


@given(st.lists(pairs(), min_size=1, max_size=8), pairs())
def test_matches_are_returned_best_first_only_inside_the_window_and_above_the_threshold(losts, probe):
    found, _ = probe
    candidates = [lost for _, lost in losts]
    settings = MatchSettings()
    ranked = match_found_report(found, candidates, settings)
    assert [m.score for m in ranked] == sorted((m.score for m in ranked), reverse=True)
    by_id = {lost.report.id: lost for lost in candidates}
    for m in ranked:
        lost = by_id[m.lost_report_id]
        delta = found.seen_at - lost.report.last_seen_at
        assert lost.species == found.species
        assert m.score >= 0.30 and m.notify is (m.score > 0.60)
        assert distance_km(found.location, lost.report.location) <= max(lost.report.radius_km, 25.0)
        assert timedelta(days=-1) <= delta <= timedelta(days=60)
        assert m.key == match_key(lost.report.id, found.id)
    assert ranked == sorted(
        (m for m in (score_pair(found, lost) for lost in candidates) if m and m.score >= 0.30),
        key=lambda m: (-m.score, m.distance_km, str(m.lost_report_id)),
    )


@given(pairs(), st.sampled_from([Species.RABBIT, Species.BIRD, Species.OTHER]))
def test_a_species_mismatch_never_matches(pair, other):
    found, lost = pair
    found = attrs.evolve(found, species=other, microchip=lost.microchip)
    assert score_pair(found, lost) is None


@given(st.lists(pairs(), max_size=8), pairs(), valid_microchips, hours, st.floats(0, 20000))
def test_a_chip_match_always_wins(losts, probe, chip, h, km):
    found, _ = probe
    chipped = lost_pet(Side(species=found.species, chip=chip), radius_km=1)
    found = attrs.evolve(
        found,
        microchip=Microchip.parse(chip),
        location=destination(ORIGIN, 45, km),
        seen_at=LAST_SEEN + timedelta(hours=max(h, -24)),
    )
    ranked = match_found_report(found, [lost for _, lost in losts] + [chipped])
    assert ranked[0].lost_report_id == chipped.report.id
    assert (ranked[0].score, ranked[0].certain, ranked[0].notify) == (1.0, True, True)
    assert all(not m.certain for m in ranked[1:])


@given(pairs())
def test_matching_from_either_side_agrees(pair):
    found, lost = pair
    assert match_found_report(found, [lost]) == match_lost_report(lost, [found])


def test_settings_replace_the_defaults():
    found, lost = build(CASES[1])  # 0.544737403 by default
    assert match_found_report(found, [lost], MatchSettings(min_score=0.6)) == []
    strict = MatchSettings(notify_above=0.5)
    (m,) = match_found_report(found, [lost], strict)
    assert m.notify
    heavy = MatchSettings(distance_weight=0.55, breed_weight=0.0)  # same total of 1.0
    assert score_pair(found, lost, heavy).score == pytest.approx(
        0.55 * math.exp(-1) + 0.15 * math.exp(-0.5) + 0.2 * 0.5 + 0.05 * 0.5, abs=1e-9
    )


@pytest.mark.parametrize(
    "changes", [{"breed_weight": 0.3}, {"sex_weight": -0.05, "size_weight": 0.1}, {"distance_scale_km": 0}]
)
def test_settings_that_could_leave_0_to_1_are_refused(changes):
    with pytest.raises(ValueError):
        MatchSettings(**changes)


def test_a_lost_pet_is_built_from_its_report_and_pet():
    now = LAST_SEEN
    draft = PetDraft(
        name="Mia", species=Species.CAT, colors=["black"], microchip=Microchip.parse("123456789")
    )
    pet = Pet.create(uuid4(), uuid4(), draft, now)
    report = LostReport(uuid4(), pet.id, pet.family_id, now, ORIGIN, 5.0, None, None, now)
    lost = LostPet.of(report, pet)
    assert (lost.species, lost.colours, lost.microchip) == (Species.CAT, ("black",), pet.microchip)
    with pytest.raises(ValueError):
        LostPet.of(attrs.evolve(report, pet_id=uuid4()), pet)
