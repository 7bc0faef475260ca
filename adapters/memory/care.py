"""In-memory care and health repositories: vaccinations, medical records, care schedules and
their completions, each row tied to a pet and its family (deleting either forgets the rows)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from attrs import define, field

from tailtracker_core.errors import Conflict
from tailtracker_core.model.care import CareCompletion, CareSchedule
from tailtracker_core.model.medical import MedicalRecord
from tailtracker_core.model.vaccines import Vaccination
from tailtracker_core.ports import DueCursor

__all__ = ["CareData", "MemoryCareSchedules", "MemoryMedicalRecords", "MemoryVaccinations"]


@define
class _Row:
    item: object
    pet_id: UUID
    family_id: UUID
    next_fire_at: datetime | None = None


@define
class CareData:
    vaccinations: dict[UUID, _Row] = field(factory=dict)
    medical_records: dict[UUID, _Row] = field(factory=dict)
    schedules: dict[UUID, _Row] = field(factory=dict)
    completions: dict[tuple[UUID, str], CareCompletion] = field(factory=dict)

    def forget_pets(self, pet_ids: Iterable[UUID]) -> None:
        """Cascade of deleting pets (or their family)."""
        gone = set(pet_ids)
        for table in (self.vaccinations, self.medical_records, self.schedules):
            for row_id in [i for i, r in table.items() if r.pet_id in gone]:
                del table[row_id]
        for key in [k for k in self.completions if k[0] not in self.schedules]:
            del self.completions[key]


def _stale(what: str) -> Conflict:
    return Conflict(f"this {what} was changed by someone else at the same time; read it again and retry")


def _due(rows: dict[UUID, _Row], before: datetime, limit: int) -> list[DueCursor]:
    hits = sorted(
        (r.next_fire_at, i, r)
        for i, r in rows.items()
        if r.next_fire_at is not None and r.next_fire_at <= before
    )
    return [DueCursor(i, r.pet_id, r.family_id, at) for at, i, r in hits[: max(limit, 0)]]


class MemoryVaccinations:
    def __init__(self, d: CareData) -> None:
        self.d = d

    def add(self, dose: Vaccination, family_id: UUID, next_fire_at: datetime | None) -> None:
        self.d.vaccinations[dose.id] = _Row(dose, dose.pet_id, family_id, next_fire_at)

    def get(self, dose_id: UUID) -> Vaccination | None:
        row = self.d.vaccinations.get(dose_id)
        return row.item if row else None  # type: ignore[return-value]

    def save(self, dose: Vaccination) -> None:
        row = self.d.vaccinations.get(dose.id)
        if row is None:
            return
        stored: Vaccination = row.item  # type: ignore[assignment]
        if stored.version != dose.version - 1:
            raise _stale("vaccination")
        row.item = dose

    def delete(self, dose_id: UUID) -> None:
        self.d.vaccinations.pop(dose_id, None)

    def for_pet(self, pet_id: UUID) -> list[Vaccination]:
        return [r.item for i, r in sorted(self.d.vaccinations.items()) if r.pet_id == pet_id]  # type: ignore[misc]

    def next_fire_at(self, dose_id: UUID) -> datetime | None:
        row = self.d.vaccinations.get(dose_id)
        return row.next_fire_at if row else None

    def advance(self, dose_id: UUID, next_fire_at: datetime | None) -> None:
        row = self.d.vaccinations.get(dose_id)
        if row is not None:
            row.next_fire_at = next_fire_at

    def due(self, before: datetime, limit: int) -> list[DueCursor]:
        return _due(self.d.vaccinations, before, limit)


class MemoryMedicalRecords:
    def __init__(self, d: CareData) -> None:
        self.d = d

    def add(self, record: MedicalRecord, family_id: UUID) -> None:
        self.d.medical_records[record.id] = _Row(record, record.pet_id, family_id)

    def get(self, record_id: UUID) -> MedicalRecord | None:
        row = self.d.medical_records.get(record_id)
        return row.item if row else None  # type: ignore[return-value]

    def save(self, record: MedicalRecord) -> None:
        row = self.d.medical_records.get(record.id)
        if row is None:
            return
        stored: MedicalRecord = row.item  # type: ignore[assignment]
        if stored.version != record.version - 1:
            raise _stale("medical record")
        row.item = record

    def delete(self, record_id: UUID) -> None:
        self.d.medical_records.pop(record_id, None)

    def list_for_pet(self, pet_id: UUID, after: UUID | None, limit: int) -> list[MedicalRecord]:
        mine = [
            r.item
            for i, r in sorted(self.d.medical_records.items())
            if r.pet_id == pet_id and (after is None or i > after)
        ]
        return mine[: max(limit, 0)]  # type: ignore[return-value]


class MemoryCareSchedules:
    def __init__(self, d: CareData) -> None:
        self.d = d

    def add(self, schedule: CareSchedule, family_id: UUID, next_fire_at: datetime | None) -> None:
        self.d.schedules[schedule.id] = _Row(schedule, schedule.pet_id, family_id, next_fire_at)

    def get(self, schedule_id: UUID) -> CareSchedule | None:
        row = self.d.schedules.get(schedule_id)
        return row.item if row else None  # type: ignore[return-value]

    def save(self, schedule: CareSchedule, next_fire_at: datetime | None) -> None:
        row = self.d.schedules.get(schedule.id)
        if row is None:
            return
        stored: CareSchedule = row.item  # type: ignore[assignment]
        if stored.version != schedule.version - 1:
            raise _stale("care schedule")
        row.item, row.next_fire_at = schedule, next_fire_at

    def delete(self, schedule_id: UUID) -> None:
        self.d.schedules.pop(schedule_id, None)
        for key in [k for k in self.d.completions if k[0] == schedule_id]:
            del self.d.completions[key]

    def for_pet(self, pet_id: UUID) -> list[CareSchedule]:
        return [r.item for i, r in sorted(self.d.schedules.items()) if r.pet_id == pet_id]  # type: ignore[misc]

    def next_fire_at(self, schedule_id: UUID) -> datetime | None:
        row = self.d.schedules.get(schedule_id)
        return row.next_fire_at if row else None

    def advance(self, schedule_id: UUID, next_fire_at: datetime | None) -> None:
        row = self.d.schedules.get(schedule_id)
        if row is not None:
            row.next_fire_at = next_fire_at

    def due(self, before: datetime, limit: int) -> list[DueCursor]:
        return _due(self.d.schedules, before, limit)

    def add_completion(self, completion: CareCompletion) -> CareCompletion:
        if completion.schedule_id not in self.d.schedules:
            raise Conflict("the care schedule no longer exists")
        key = (completion.schedule_id, completion.occurrence_key)
        return self.d.completions.setdefault(key, completion)

    def completions(
        self, schedule_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[CareCompletion]:
        wanted = set(schedule_ids)
        hits = [
            c
            for (sid, _), c in self.d.completions.items()
            if sid in wanted and c.occurs_at is not None and start <= c.occurs_at < end
        ]
        return sorted(hits, key=lambda c: (c.occurs_at or c.completed_at, c.occurrence_key))
