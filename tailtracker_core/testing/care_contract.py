"""Contract of the care and health repositories (`uow.vaccinations`, `uow.medical_records`,
`uow.care_schedules` with completions and reminder cursors), as a pytest base class.

Subclass `CareRepositoriesContract` and provide `uow_factory` (a UnitOfWorkFactory over one
EMPTY store). Every test writes as a member of the family that owns the data, so an adapter
with row-level security runs the suite with it on; `due` is asked with no acting user, as the
reminder scheduler asks it (across families).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailtracker_core.errors import Conflict
from tailtracker_core.model.accounts import User
from tailtracker_core.model.care import CareCompletion, CareKind, CareSchedule
from tailtracker_core.model.families import Family
from tailtracker_core.model.medical import MedicalRecord, MedicalRecordKind
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.vaccines import Vaccination, Vaccine
from tailtracker_core.ports import DueCursor, IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds

__all__ = ["CareRepositoriesContract"]

_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class CareRepositoriesContract:
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return TestIds()

    # --- helpers ---------------------------------------------------------------------------

    def owner_and_pet(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> tuple[User, Family, Pet]:
        user = User(ids.new_id(), f"care-{ids.new_id().hex}@example.org", "Carer", "hash", _now())
        family = Family.found(ids.new_id(), "Carers", user.id, _now())
        pet = Pet(ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, _now(), _now())
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.families.add(family)
            uow.pets.add(pet)
            uow.commit()
        return user, family, pet

    def dose(self, ids: IdGenerator, pet: Pet, code: str = "rabies", **kw: Any) -> Vaccination:
        fields: dict[str, Any] = {"administered_on": date(2026, 1, 10), **kw}
        return Vaccination(ids.new_id(), pet.id, Vaccine(code, code.upper()), **fields)

    def schedule(self, ids: IdGenerator, pet: Pet, **kw: Any) -> CareSchedule:
        fields: dict[str, Any] = {
            "kind": CareKind.MEDICATION,
            "title": "Pill",
            "rule": "FREQ=DAILY",
            "dtstart": datetime(2026, 11, 1, 8, 0),
            "timezone": "Europe/London",
            **kw,
        }
        return CareSchedule.create(ids.new_id(), pet.id, **fields)

    # --- vaccinations ----------------------------------------------------------------------

    def test_a_vaccination_round_trips_every_field_with_its_cursor(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        full = self.dose(
            ids,
            pet,
            "dhpp",
            next_due_on=date(2029, 1, 10),
            lot_number="LOT-42 ñ",
            clinic="Clínica 🐾",
            certificate_id=ids.new_id(),
            version=3,
        )
        bare = self.dose(ids, pet)
        with uow_factory(user.id) as uow:
            uow.vaccinations.add(full, family.id, T0)
            uow.vaccinations.add(bare, family.id, None)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.get(full.id) == full
            assert uow.vaccinations.get(bare.id) == bare
            assert uow.vaccinations.next_fire_at(full.id) == T0
            assert uow.vaccinations.next_fire_at(bare.id) is None
            assert uow.vaccinations.for_pet(pet.id) == [full, bare]
            assert uow.vaccinations.get(ids.new_id()) is None

    def test_saving_a_vaccination_is_optimistic(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        dose = self.dose(ids, pet)
        with uow_factory(user.id) as uow:
            uow.vaccinations.add(dose, family.id, T0)
            uow.commit()
        changed = dose.revise(dose.vaccine, dose.administered_on, date(2026, 11, 25), None, "L2", None, None)
        with uow_factory(user.id) as uow:
            uow.vaccinations.save(changed)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.get(dose.id) == changed
            assert uow.vaccinations.next_fire_at(dose.id) == T0  # save leaves the cursor alone
            with pytest.raises(Conflict):
                uow.vaccinations.save(changed)  # same version again: someone saved in between
            assert uow.vaccinations.get(dose.id) == changed

    def test_deleting_a_vaccination(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        dose, other = self.dose(ids, pet), self.dose(ids, pet)
        with uow_factory(user.id) as uow:
            uow.vaccinations.add(dose, family.id, T0)
            uow.vaccinations.add(other, family.id, T0)
            uow.commit()
            uow.vaccinations.delete(dose.id)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.get(dose.id) is None
            assert uow.vaccinations.for_pet(pet.id) == [other]
        with uow_factory(None) as uow:
            assert [d.id for d in uow.vaccinations.due(T0, 10)] == [other.id]

    # --- cursors -----------------------------------------------------------------------------

    def test_due_rows_come_earliest_first_across_families_to_the_scheduler(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        a_user, a_family, a_pet = self.owner_and_pet(uow_factory, ids)
        b_user, b_family, b_pet = self.owner_and_pet(uow_factory, ids)
        at = [T0 + timedelta(minutes=m) for m in (30, 0, 45, 15)]
        doses = [self.dose(ids, a_pet), self.dose(ids, b_pet), self.dose(ids, a_pet), self.dose(ids, b_pet)]
        later, never = self.dose(ids, a_pet), self.dose(ids, b_pet)
        schedules = [self.schedule(ids, a_pet), self.schedule(ids, b_pet)]
        with uow_factory(a_user.id) as uow:
            for d, t in zip(doses, at, strict=True):
                if d.pet_id == a_pet.id:
                    uow.vaccinations.add(d, a_family.id, t)
            uow.vaccinations.add(later, a_family.id, T0 + timedelta(hours=2))
            uow.care_schedules.add(schedules[0], a_family.id, T0 + timedelta(minutes=5))
            uow.commit()
        with uow_factory(b_user.id) as uow:
            for d, t in zip(doses, at, strict=True):
                if d.pet_id == b_pet.id:
                    uow.vaccinations.add(d, b_family.id, t)
            uow.vaccinations.add(never, b_family.id, None)
            uow.care_schedules.add(schedules[1], b_family.id, T0)
            uow.commit()
        with uow_factory(None) as uow:
            due = uow.vaccinations.due(T0 + timedelta(minutes=45), 10)
            assert due == [
                DueCursor(doses[1].id, b_pet.id, b_family.id, at[1]),
                DueCursor(doses[3].id, b_pet.id, b_family.id, at[3]),
                DueCursor(doses[0].id, a_pet.id, a_family.id, at[0]),
                DueCursor(doses[2].id, a_pet.id, a_family.id, at[2]),  # at `before`: included
            ]
            assert [d.id for d in uow.vaccinations.due(T0 + timedelta(minutes=45), 2)] == [
                doses[1].id,
                doses[3].id,
            ]
            assert uow.vaccinations.due(T0 - timedelta(seconds=1), 10) == []
            assert uow.vaccinations.due(T0, 0) == []
            assert uow.care_schedules.due(T0 + timedelta(hours=1), 10) == [
                DueCursor(schedules[1].id, b_pet.id, b_family.id, T0),
                DueCursor(schedules[0].id, a_pet.id, a_family.id, T0 + timedelta(minutes=5)),
            ]

    def test_the_scheduler_advances_cursors_across_families(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        dose, schedule = self.dose(ids, pet), self.schedule(ids, pet)
        with uow_factory(user.id) as uow:
            uow.vaccinations.add(dose, family.id, T0)
            uow.care_schedules.add(schedule, family.id, T0)
            uow.commit()
        with uow_factory(None) as uow:
            uow.vaccinations.advance(dose.id, T0 + timedelta(days=1))
            uow.care_schedules.advance(schedule.id, None)
            uow.commit()
        with uow_factory(None) as uow:
            assert uow.vaccinations.due(T0 + timedelta(hours=23), 10) == []
            assert [d.id for d in uow.vaccinations.due(T0 + timedelta(days=1), 10)] == [dose.id]
            assert uow.care_schedules.due(T0 + timedelta(days=3650), 10) == []
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.next_fire_at(dose.id) == T0 + timedelta(days=1)
            assert uow.care_schedules.next_fire_at(schedule.id) is None
            uow.vaccinations.advance(dose.id, None)  # a member's transaction may move it too
            uow.rollback()
            assert uow.vaccinations.next_fire_at(dose.id) == T0 + timedelta(days=1)

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(
        at=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    )
    def test_cursors_keep_their_instant_exactly(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, at: datetime
    ) -> None:
        at = at.replace(microsecond=0)
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        dose, schedule = self.dose(ids, pet), self.schedule(ids, pet)
        with uow_factory(user.id) as uow:
            uow.vaccinations.add(dose, family.id, at)
            uow.care_schedules.add(schedule, family.id, at)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.next_fire_at(dose.id) == at
            assert uow.care_schedules.next_fire_at(schedule.id) == at
        with uow_factory(None) as uow:
            assert dose.id in [d.id for d in uow.vaccinations.due(at, 10_000)]
            assert dose.id not in [d.id for d in uow.vaccinations.due(at - timedelta(seconds=1), 10_000)]

    # --- medical records ---------------------------------------------------------------------

    def test_a_medical_record_round_trips_and_pages_in_id_order(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        files = (ids.new_id(), ids.new_id(), ids.new_id())
        records = [
            MedicalRecord(
                ids.new_id(),
                pet.id,
                kind,
                date(2025, 5, i + 1),
                f"Entry {i} ✓",
                user.id,
                _now(),
                _now(),
                notes="line one\nline two" if i == 0 else None,
                vet="Dr. Ñandú" if i == 1 else None,
                file_ids=files[::-1] if i == 0 else (),
                version=i + 1,
            )
            for i, kind in enumerate(MedicalRecordKind)
        ]
        with uow_factory(user.id) as uow:
            for r in records:
                uow.medical_records.add(r, family.id)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.medical_records.get(records[0].id) == records[0]
            assert uow.medical_records.list_for_pet(pet.id, None, 100) == records
            assert uow.medical_records.list_for_pet(pet.id, None, 2) == records[:2]
            assert uow.medical_records.list_for_pet(pet.id, records[1].id, 2) == records[2:4]
            assert uow.medical_records.list_for_pet(pet.id, records[-1].id, 2) == []
            assert uow.medical_records.list_for_pet(ids.new_id(), None, 10) == []

    def test_saving_and_deleting_a_medical_record(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        rec = MedicalRecord.create(
            ids.new_id(), pet.id, MedicalRecordKind.LAB, date(2026, 1, 1), "Bloods", user.id, _now()
        )
        with uow_factory(user.id) as uow:
            uow.medical_records.add(rec, family.id)
            uow.commit()
        changed = rec.revise(
            MedicalRecordKind.LAB, rec.occurred_on, "Bloods, fasting", _now(), "ok", None, []
        )
        with uow_factory(user.id) as uow:
            uow.medical_records.save(changed)
            uow.commit()
            with pytest.raises(Conflict):
                uow.medical_records.save(changed)
        with uow_factory(user.id) as uow:
            assert uow.medical_records.get(rec.id) == changed
            uow.medical_records.delete(rec.id)
            uow.commit()
            assert uow.medical_records.get(rec.id) is None

    # --- care schedules and completions ----------------------------------------------------------

    def test_a_care_schedule_round_trips_and_saves_with_its_cursor(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        schedule = self.schedule(
            ids,
            pet,
            rule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=7,19;UNTIL=20271231T235959Z",
            dtstart=datetime(2026, 3, 29, 1, 30),
            notes="with food\ntwice",
        )
        other = self.schedule(ids, pet, kind=CareKind.WALK, timezone="Australia/Lord_Howe")
        with uow_factory(user.id) as uow:
            uow.care_schedules.add(schedule, family.id, T0)
            uow.care_schedules.add(other, family.id, None)
            uow.commit()
        with uow_factory(user.id) as uow:
            got = uow.care_schedules.get(schedule.id)
            assert got == schedule
            assert got is not None
            assert got.dtstart.tzinfo is None
            assert uow.care_schedules.for_pet(pet.id) == [schedule, other]
            assert uow.care_schedules.next_fire_at(schedule.id) == T0
        revised = schedule.revise(
            CareKind.FEEDING, "Dinner", "FREQ=DAILY", datetime(2026, 11, 1, 18, 0), "UTC", None
        )
        with uow_factory(user.id) as uow:
            uow.care_schedules.save(revised, T0 + timedelta(hours=10))
            uow.commit()
            with pytest.raises(Conflict):
                uow.care_schedules.save(revised, None)
        with uow_factory(user.id) as uow:
            assert uow.care_schedules.get(schedule.id) == revised
            assert uow.care_schedules.next_fire_at(schedule.id) == T0 + timedelta(hours=10)

    def test_an_occurrence_is_completed_once(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        schedule = self.schedule(ids, pet)
        with uow_factory(user.id) as uow:
            uow.care_schedules.add(schedule, family.id, None)
            uow.commit()
        occ = schedule.occurrences_between(T0, T0 + timedelta(days=1))[0]
        first = schedule.complete(occ.key, user.id, occ.starts_at + timedelta(minutes=5))
        second = schedule.complete(occ.key, ids.new_id(), occ.starts_at + timedelta(minutes=9))
        with uow_factory(user.id) as uow:
            assert uow.care_schedules.add_completion(first) == first
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.care_schedules.add_completion(second) == first  # the existing one, no twin
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.care_schedules.completions([schedule.id], T0, T0 + timedelta(days=1)) == [first]

    def test_completions_are_found_by_schedule_and_half_open_range(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        a, b = self.schedule(ids, pet), self.schedule(ids, pet, dtstart=datetime(2026, 11, 1, 20, 0))
        start = datetime(2026, 11, 10, tzinfo=UTC)
        with uow_factory(user.id) as uow:
            uow.care_schedules.add(a, family.id, None)
            uow.care_schedules.add(b, family.id, None)
            done: list[CareCompletion] = []
            for s in (a, b):
                for occ in s.occurrences_between(start, start + timedelta(days=3)):
                    done.append(
                        uow.care_schedules.add_completion(s.complete(occ.key, user.id, occ.starts_at))
                    )
            uow.commit()
        by_time = sorted(done, key=lambda c: c.occurs_at or start)
        with uow_factory(user.id) as uow:
            assert uow.care_schedules.completions([a.id, b.id], start, start + timedelta(days=3)) == by_time
            day2 = uow.care_schedules.completions(
                [a.id, b.id], start + timedelta(days=1), start + timedelta(days=2)
            )
            assert day2 == [
                c
                for c in by_time
                if start + timedelta(days=1) <= (c.occurs_at or start) < start + timedelta(days=2)
            ]
            assert len(day2) == 2
            only_a = uow.care_schedules.completions([a.id], start, start + timedelta(days=3))
            assert {c.schedule_id for c in only_a} == {a.id}
            assert len(only_a) == 3
            assert uow.care_schedules.completions([], start, start + timedelta(days=3)) == []
            exact = by_time[0].occurs_at or start
            assert uow.care_schedules.completions([a.id, b.id], start, exact) == []

    def test_deleting_a_schedule_deletes_its_completions(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        schedule = self.schedule(ids, pet)
        occ = schedule.occurrences_between(T0, T0 + timedelta(days=1))[0]
        with uow_factory(user.id) as uow:
            uow.care_schedules.add(schedule, family.id, T0)
            uow.care_schedules.add_completion(schedule.complete(occ.key, user.id, occ.starts_at))
            uow.commit()
            uow.care_schedules.delete(schedule.id)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.care_schedules.get(schedule.id) is None
            assert uow.care_schedules.completions([schedule.id], T0, T0 + timedelta(days=1)) == []
            with pytest.raises(Conflict):
                uow.care_schedules.add_completion(schedule.complete(occ.key, user.id, occ.starts_at))

    # --- cascades and transactions -------------------------------------------------------------

    def _fill(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, user: User, family: Family, pet: Pet
    ) -> dict[str, UUID]:
        dose, schedule = self.dose(ids, pet), self.schedule(ids, pet)
        rec = MedicalRecord.create(
            ids.new_id(), pet.id, MedicalRecordKind.VISIT, date(2026, 1, 1), "Visit", user.id, _now()
        )
        occ = schedule.occurrences_between(T0, T0 + timedelta(days=1))[0]
        with uow_factory(user.id) as uow:
            uow.vaccinations.add(dose, family.id, T0)
            uow.medical_records.add(rec, family.id)
            uow.care_schedules.add(schedule, family.id, T0)
            uow.care_schedules.add_completion(schedule.complete(occ.key, user.id, occ.starts_at))
            uow.commit()
        return {"dose": dose.id, "record": rec.id, "schedule": schedule.id}

    def test_deleting_a_pet_deletes_its_care_rows(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        other = Pet(ids.new_id(), family.id, "Kept", Species.CAT, Sex.FEMALE, _now(), _now())
        with uow_factory(user.id) as uow:
            uow.pets.add(other)
            uow.commit()
        gone = self._fill(uow_factory, ids, user, family, pet)
        kept = self._fill(uow_factory, ids, user, family, other)
        with uow_factory(user.id) as uow:
            uow.pets.delete(pet.id)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.get(gone["dose"]) is None
            assert uow.medical_records.get(gone["record"]) is None
            assert uow.care_schedules.get(gone["schedule"]) is None
            assert uow.vaccinations.for_pet(pet.id) == []
            assert uow.care_schedules.completions([gone["schedule"]], T0, T0 + timedelta(days=1)) == []
            assert uow.vaccinations.get(kept["dose"]) is not None
            assert uow.medical_records.get(kept["record"]) is not None
            assert len(uow.care_schedules.completions([kept["schedule"]], T0, T0 + timedelta(days=1))) == 1
        with uow_factory(None) as uow:
            assert [d.id for d in uow.vaccinations.due(T0, 10)] == [kept["dose"]]
            assert [d.id for d in uow.care_schedules.due(T0, 10)] == [kept["schedule"]]

    def test_deleting_a_family_deletes_its_care_rows(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        gone = self._fill(uow_factory, ids, user, family, pet)
        with uow_factory(user.id) as uow:
            uow.families.delete(family.id)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.get(gone["dose"]) is None
            assert uow.medical_records.get(gone["record"]) is None
            assert uow.care_schedules.get(gone["schedule"]) is None
        with uow_factory(None) as uow:
            assert uow.vaccinations.due(T0, 10) == []
            assert uow.care_schedules.due(T0, 10) == []

    def test_rollback_discards_care_rows(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user, family, pet = self.owner_and_pet(uow_factory, ids)
        dose, schedule = self.dose(ids, pet), self.schedule(ids, pet)
        with uow_factory(user.id) as uow:
            uow.vaccinations.add(dose, family.id, T0)
            uow.care_schedules.add(schedule, family.id, T0)
            uow.rollback()
        with uow_factory(user.id) as uow:
            assert uow.vaccinations.get(dose.id) is None
            assert uow.care_schedules.get(schedule.id) is None
