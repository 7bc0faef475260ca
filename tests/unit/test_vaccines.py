"""Vaccinations: status, superseding, and the WSAVA 2016 core schedule with recorded doses matched."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.pets import Species
from tailtracker_core.model.vaccines import (
    CORE_VACCINES,
    Vaccination,
    VaccinationStatus,
    Vaccine,
    VaccineSettings,
    core_schedule,
    suggested_doses,
    vaccination_status,
)

PET = UUID("00000000-0000-7000-8000-0000000000aa")
TODAY = date(2026, 6, 1)
DHPP, RABIES, FVRCP, FELV = (CORE_VACCINES[c] for c in ("dhpp", "rabies", "fvrcp", "felv"))


def dose(vaccine: Vaccine, given_on: date, next_due: date | None = None) -> Vaccination:
    return Vaccination.record(uuid4(), PET, vaccine, given_on, date(2099, 1, 1), next_due_on=next_due)


def slots(plan_or_suggestions, vaccine: Vaccine) -> list[str]:
    return [p.slot for p in plan_or_suggestions if p.vaccine.code == vaccine.code]


# Status. ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_due", "expected"),
    [
        (None, "ok"),
        (TODAY - timedelta(days=1), "overdue"),
        (TODAY, "due_soon"),
        (TODAY + timedelta(days=30), "due_soon"),
        (TODAY + timedelta(days=31), "ok"),
    ],
)
def test_status_by_next_due_date(next_due, expected):
    v = dose(RABIES, date(2025, 6, 1), next_due)
    assert vaccination_status(v, [v], TODAY) == expected


def test_due_soon_window_is_a_setting():
    v = dose(RABIES, date(2025, 6, 1), TODAY + timedelta(days=45))
    assert vaccination_status(v, [v], TODAY, VaccineSettings(due_soon_days=60)) == "due_soon"


def test_a_later_dose_of_the_same_vaccine_supersedes_even_under_another_spelling():
    old = dose(DHPP, date(2024, 1, 1), date(2025, 1, 1))
    other = dose(RABIES, date(2025, 3, 1), date(2028, 3, 1))
    new = dose(Vaccine("DA2PP", "DA2PP"), date(2025, 2, 1), date(2028, 2, 1))
    all_ = [old, other, new]
    assert vaccination_status(old, all_, TODAY) == VaccinationStatus.SUPERSEDED
    assert vaccination_status(new, all_, TODAY) == VaccinationStatus.OK
    assert vaccination_status(other, all_, TODAY) == VaccinationStatus.OK


doses_strategy = st.lists(
    st.builds(
        dose,
        st.sampled_from([DHPP, RABIES, FVRCP, FELV, Vaccine("lepto", "Leptospirosis")]),
        st.dates(date(2020, 1, 1), date(2026, 5, 31)),
        st.none() | st.dates(date(2026, 6, 1), date(2030, 1, 1)),
    ),
    max_size=12,
)


@given(doses_strategy)
def test_exactly_one_dose_per_vaccine_is_not_superseded(doses):
    current = [d for d in doses if vaccination_status(d, doses, TODAY) != VaccinationStatus.SUPERSEDED]
    assert sorted(d.code for d in current) == sorted({d.code for d in doses})
    for d in current:  # and it is the latest one
        assert all(o.administered_on <= d.administered_on for o in doses if o.code == d.code)


# The suggested core schedule. ---------------------------------------------------------------------

BIRTH = date(2026, 1, 1)  # a Thursday; 8 weeks = 26 Feb, 12 = 26 Mar, 16 = 23 Apr, 52 = 31 Dec


@pytest.mark.parametrize(
    ("species", "given", "today", "expected"),
    [
        # a new puppy: every slot, plus the first 3-yearly revaccination
        (
            Species.DOG,
            [],
            date(2026, 2, 1),
            [
                ("dhpp", "8 weeks", date(2026, 2, 26), "due_soon"),
                ("dhpp", "12 weeks", date(2026, 3, 26), "ok"),
                ("rabies", "12 weeks", date(2026, 3, 26), "ok"),
                ("dhpp", "16 weeks", date(2026, 4, 23), "ok"),
                ("dhpp", "52 weeks", date(2026, 12, 31), "ok"),
                ("rabies", "52 weeks", date(2026, 12, 31), "ok"),
                ("dhpp", "revaccination 1", date(2029, 12, 31), "ok"),
                ("rabies", "revaccination 1", date(2029, 12, 31), "ok"),
            ],
        ),
        # doses on time fill their slots; revaccination counts from the booster actually given
        (
            Species.DOG,
            [
                (DHPP, date(2026, 2, 26)),
                (DHPP, date(2026, 3, 27)),
                (DHPP, date(2026, 4, 23)),
                (DHPP, date(2027, 1, 10)),
                (RABIES, date(2026, 3, 26)),
                (RABIES, date(2027, 1, 10)),
            ],
            date(2027, 2, 1),
            [
                ("dhpp", "revaccination 1", date(2030, 1, 10), "ok"),
                ("rabies", "revaccination 1", date(2030, 1, 10), "ok"),
            ],
        ),
        # one missed primary dose stays suggested, overdue
        (
            Species.DOG,
            [(DHPP, date(2026, 2, 26)), (DHPP, date(2026, 3, 26)), (RABIES, date(2026, 3, 26))],
            date(2026, 5, 1),
            [
                ("dhpp", "16 weeks", date(2026, 4, 23), "overdue"),
                ("dhpp", "52 weeks", date(2026, 12, 31), "ok"),
                ("rabies", "52 weeks", date(2026, 12, 31), "ok"),
                ("dhpp", "revaccination 1", date(2029, 12, 31), "ok"),
                ("rabies", "revaccination 1", date(2029, 12, 31), "ok"),
            ],
        ),
        # a late starter: a dose at 15 weeks counts for the 16-week slot; earlier slots are moot
        (
            Species.DOG,
            [(DHPP, date(2026, 4, 16)), (RABIES, date(2026, 4, 16))],
            date(2026, 4, 20),
            [
                ("dhpp", "52 weeks", date(2026, 12, 31), "ok"),
                ("rabies", "52 weeks", date(2026, 12, 31), "ok"),
                ("dhpp", "revaccination 1", date(2029, 12, 31), "ok"),
                ("rabies", "revaccination 1", date(2029, 12, 31), "ok"),
            ],
        ),
        # a kitten: FVRCP like DHPP, rabies, and FeLV at 8, 12 and 52 weeks with no revaccination
        (
            Species.CAT,
            [(FVRCP, date(2026, 2, 26)), (FELV, date(2026, 2, 26))],
            date(2026, 3, 1),
            [
                ("felv", "12 weeks", date(2026, 3, 26), "due_soon"),
                ("fvrcp", "12 weeks", date(2026, 3, 26), "due_soon"),
                ("rabies", "12 weeks", date(2026, 3, 26), "due_soon"),
                ("fvrcp", "16 weeks", date(2026, 4, 23), "ok"),
                ("felv", "52 weeks", date(2026, 12, 31), "ok"),
                ("fvrcp", "52 weeks", date(2026, 12, 31), "ok"),
                ("rabies", "52 weeks", date(2026, 12, 31), "ok"),
                ("fvrcp", "revaccination 1", date(2029, 12, 31), "ok"),
                ("rabies", "revaccination 1", date(2029, 12, 31), "ok"),
            ],
        ),
        # the vet's next-due date on a dose wins over the computed one (annual rabies by local law)
        (
            Species.CAT,
            [
                (FVRCP, date(2026, 2, 26)),
                (FVRCP, date(2026, 3, 26)),
                (FVRCP, date(2026, 4, 23)),
                (FVRCP, date(2027, 1, 2)),
                (RABIES, date(2026, 3, 26)),
                (RABIES, date(2027, 1, 2), date(2028, 1, 2)),
            ],
            date(2027, 12, 10),
            [
                ("rabies", "revaccination 1", date(2028, 1, 2), "due_soon"),
                ("fvrcp", "revaccination 1", date(2030, 1, 2), "ok"),
            ],
        ),
    ],
)
def test_hand_checked_schedules(species, given, today, expected):
    doses = [dose(*g) for g in given]
    got = suggested_doses(species, BIRTH, doses, today)
    assert sorted((s.vaccine.code, s.slot, s.due_on, str(s.status)) for s in got) == sorted(expected)


def test_felv_is_not_suggested_for_cats_older_than_a_year():
    assert slots(suggested_doses(Species.CAT, BIRTH, [], date(2027, 1, 1)), FELV) != []
    assert slots(suggested_doses(Species.CAT, BIRTH, [], date(2027, 1, 2)), FELV) == []
    assert slots(suggested_doses(Species.DOG, BIRTH, [], TODAY), FELV) == []


def test_an_adult_with_years_of_history_gets_only_the_next_revaccination():
    given = [(RABIES, date(2026, 3, 26)), (RABIES, date(2026, 12, 20))] + [
        (RABIES, date(y, 2, 1)) for y in (2029, 2032)
    ]
    got = suggested_doses(Species.DOG, BIRTH, [dose(*g) for g in given], date(2033, 1, 1))
    assert [(s.slot, s.due_on) for s in got if s.vaccine.code == "rabies"] == [
        ("revaccination 3", date(2035, 2, 1))
    ]


def test_a_gap_of_years_skips_the_missed_revaccinations():
    given = [(RABIES, date(2026, 3, 26)), (RABIES, date(2026, 12, 31)), (RABIES, date(2033, 6, 1))]
    plan = [
        p
        for p in core_schedule(Species.DOG, BIRTH, [dose(*g) for g in given], date(2033, 7, 1))
        if p.vaccine == RABIES
    ]
    assert [(p.slot, p.dose is not None, p.skipped) for p in plan] == [
        ("12 weeks", True, False),
        ("52 weeks", True, False),
        ("revaccination 1", False, True),  # due 2029-12-31, never given: moot now
        ("revaccination 2", True, False),  # due 2032-12-31, given 2033-06-01
        ("revaccination 3", False, False),
    ]
    assert plan[-1].due_on == date(2036, 6, 1)


def test_the_rabies_interval_is_a_setting():
    got = suggested_doses(Species.DOG, BIRTH, [], TODAY, VaccineSettings(rabies_interval_years=1))
    assert [s.due_on for s in got if s.vaccine == RABIES and s.slot == "revaccination 1"] == [
        date(2027, 12, 31)
    ]


def test_no_birth_date_or_no_core_schedule_means_no_suggestions():
    assert suggested_doses(Species.DOG, None, [dose(DHPP, date(2026, 2, 1))], TODAY) == []
    assert suggested_doses(Species.RABBIT, BIRTH, [], TODAY) == []
    assert suggested_doses(Species.DOG, TODAY + timedelta(days=1), [], TODAY) == []


@settings(max_examples=200)
@given(
    st.sampled_from([Species.DOG, Species.CAT]),
    st.dates(date(2015, 1, 1), date(2026, 5, 1)),
    st.lists(
        st.tuples(
            st.sampled_from([DHPP, RABIES, FVRCP, FELV]),
            st.integers(0, 8 * 365),
            st.none() | st.integers(1, 4 * 365),
        ),
        max_size=10,
    ),
    st.integers(0, 10 * 365),
)
def test_suggestions_never_include_a_matched_slot_and_every_dose_fills_at_most_one(
    species, birth, given, age
):
    today = birth + timedelta(days=age)
    doses = [
        dose(
            v,
            min(birth + timedelta(days=d), date(2030, 1, 1)),
            None if n is None else birth + timedelta(days=d + n),
        )
        for v, d, n in given
    ]
    plan = core_schedule(species, birth, doses, today)
    matched = {(p.vaccine.code, p.index) for p in plan if p.dose is not None}
    suggested = suggested_doses(species, birth, doses, today)
    assert not matched & {(s.vaccine.code, s.index) for s in suggested}
    used = [p.dose.id for p in plan if p.dose is not None]
    assert len(used) == len(set(used))
    for code in {p.vaccine.code for p in plan}:
        mine = [p for p in plan if p.vaccine.code == code]
        assert [p.index for p in mine] == list(range(len(mine)))
        filled = [p.dose.administered_on for p in mine if p.dose is not None]
        assert filled == sorted(filled)  # doses fill slots in order
        last = max((p.index for p in mine if p.dose is not None), default=-1)
        assert all(p.skipped == (p.dose is None and p.index < last) for p in mine)
    assert [s.due_on for s in suggested] == sorted(s.due_on for s in suggested)


# Recording. ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"vaccine": Vaccine("", "Rabies")}, "vaccine_code"),
        ({"vaccine": Vaccine("rabies vaccine", "Rabies")}, "vaccine_code"),
        ({"vaccine": Vaccine("rabies", " ")}, "vaccine_name"),
        ({"administered_on": TODAY + timedelta(days=1)}, "administered_on"),
        ({"next_due_on": date(2026, 1, 1)}, "next_due_on"),
        ({"lot_number": "A" * 41}, "lot_number"),
        ({"clinic": "Vets\x00"}, "clinic"),
    ],
)
def test_invalid_doses_are_refused_naming_the_field(kwargs, field):
    args = {"vaccine": RABIES, "administered_on": date(2026, 1, 1)} | kwargs
    with pytest.raises(ValidationFailed) as err:
        Vaccination.record(uuid4(), PET, today=TODAY, **args)
    assert err.value.errors[0].field == field


def test_a_recorded_dose_is_normalised():
    v = Vaccination.record(
        uuid4(),
        PET,
        Vaccine(" RABIES ", " Nobivac Rabies "),
        date(2026, 1, 1),
        TODAY,
        lot_number=" ",
        clinic=" Vets4Pets ",
    )
    assert (v.vaccine, v.lot_number, v.clinic) == (Vaccine("rabies", "Nobivac Rabies"), None, "Vets4Pets")
