"""SQL repositories of care and health: vaccinations, medical records, care schedules and their
completions, with the reminder cursors (`next_fire_at`) of docs/care.md.

On PostgreSQL `due` and `advance` go through SECURITY DEFINER functions (migration 0010_care): the
reminder scheduler works across families, as the app role, without an acting user, so row-level
security would otherwise hide every row from it. Everything else runs under row-level security.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, Uuid, bindparam, delete, select, text, update

from adapters.sql.repositories import _insert_unless_duplicate
from adapters.sql.tables import UtcDateTime, care_completions, care_schedules, medical_records, vaccinations
from tailtracker_core.errors import Conflict
from tailtracker_core.model.care import CareCompletion, CareKind, CareSchedule
from tailtracker_core.model.medical import MedicalRecord, MedicalRecordKind
from tailtracker_core.model.vaccines import Vaccination, Vaccine
from tailtracker_core.ports import DueCursor

__all__ = ["SqlCareSchedules", "SqlMedicalRecords", "SqlVaccinations"]

Row = Any
ConnectionSource = Callable[[], Connection]


# --- mapping ---------------------------------------------------------------------------------


def vaccination_row(v: Vaccination) -> dict[str, Any]:
    return {
        "id": v.id,
        "pet_id": v.pet_id,
        "vaccine_code": v.vaccine.code,
        "vaccine_name": v.vaccine.display_name,
        "administered_on": v.administered_on,
        "next_due_on": v.next_due_on,
        "lot_number": v.lot_number,
        "clinic": v.clinic,
        "certificate_id": v.certificate_id,
        "version": v.version,
    }


def vaccination_from(r: Row) -> Vaccination:
    return Vaccination(
        id=r["id"],
        pet_id=r["pet_id"],
        vaccine=Vaccine(r["vaccine_code"], r["vaccine_name"]),
        administered_on=r["administered_on"],
        next_due_on=r["next_due_on"],
        lot_number=r["lot_number"],
        clinic=r["clinic"],
        certificate_id=r["certificate_id"],
        version=r["version"],
    )


def medical_record_row(rec: MedicalRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "pet_id": rec.pet_id,
        "kind": rec.kind.value,
        "occurred_on": rec.occurred_on,
        "title": rec.title,
        "notes": rec.notes,
        "vet": rec.vet,
        "file_ids": [str(f) for f in rec.file_ids],
        "created_by": rec.created_by,
        "created_at": rec.created_at,
        "updated_at": rec.updated_at,
        "version": rec.version,
    }


def medical_record_from(r: Row) -> MedicalRecord:
    return MedicalRecord(
        id=r["id"],
        pet_id=r["pet_id"],
        kind=MedicalRecordKind(r["kind"]),
        occurred_on=r["occurred_on"],
        title=r["title"],
        created_by=r["created_by"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        notes=r["notes"],
        vet=r["vet"],
        file_ids=tuple(UUID(f) for f in r["file_ids"]),
        version=r["version"],
    )


def schedule_row(s: CareSchedule) -> dict[str, Any]:
    return {
        "id": s.id,
        "pet_id": s.pet_id,
        "kind": s.kind.value,
        "title": s.title,
        "rrule": s.rrule,
        "dtstart": s.dtstart,
        "timezone": s.timezone,
        "notes": s.notes,
        "version": s.version,
    }


def schedule_from(r: Row) -> CareSchedule:
    # Stored rules were checked when written; rebuilt as they are (no re-validation).
    dtstart = r["dtstart"]
    return CareSchedule(
        id=r["id"],
        pet_id=r["pet_id"],
        kind=CareKind(r["kind"]),
        title=r["title"],
        rrule=r["rrule"],
        dtstart=dtstart.replace(tzinfo=None) if dtstart.tzinfo else dtstart,
        timezone=r["timezone"],
        notes=r["notes"],
        version=r["version"],
    )


def completion_from(r: Row) -> CareCompletion:
    return CareCompletion(
        schedule_id=r["schedule_id"],
        occurrence_key=r["occurrence_key"],
        completed_by=r["completed_by"],
        completed_at=r["completed_at"],
        occurs_at=r["occurs_at"],
    )


# --- helpers ---------------------------------------------------------------------------------


def _stale_or_missing(conn: Connection, table: Table, row_id: UUID, what: str) -> None:
    if conn.execute(select(table.c.id).where(table.c.id == row_id)).first() is not None:
        raise Conflict(f"this {what} was changed by someone else at the same time; read it again and retry")


def _due(conn: Connection, table: Table, function: str, before: datetime, limit: int) -> list[DueCursor]:
    if limit <= 0:
        return []
    if conn.dialect.name == "postgresql":
        stmt = (
            text(f"SELECT id, pet_id, family_id, next_fire_at FROM {function}(:before, :limit)")  # noqa: S608 (a constant)
            .bindparams(bindparam("before", type_=UtcDateTime()))
            .columns(id=Uuid(), pet_id=Uuid(), family_id=Uuid(), next_fire_at=UtcDateTime())
        )
        rows = conn.execute(stmt, {"before": before, "limit": limit}).mappings().all()
    else:
        query = (
            select(table.c.id, table.c.pet_id, table.c.family_id, table.c.next_fire_at)
            .where(table.c.next_fire_at.is_not(None), table.c.next_fire_at <= before)
            .order_by(table.c.next_fire_at, table.c.id)
            .limit(limit)
        )
        rows = conn.execute(query).mappings().all()
    return [DueCursor(r["id"], r["pet_id"], r["family_id"], r["next_fire_at"]) for r in rows]


def _advance(conn: Connection, table: Table, function: str, row_id: UUID, at: datetime | None) -> None:
    if conn.dialect.name == "postgresql":
        stmt = text(f"SELECT {function}(:id, :at)").bindparams(
            bindparam("id", type_=table.c.id.type), bindparam("at", type_=table.c.next_fire_at.type)
        )
        conn.execute(stmt, {"id": row_id, "at": at})
    else:
        conn.execute(update(table).where(table.c.id == row_id).values(next_fire_at=at))


def _cursor(conn: Connection, table: Table, row_id: UUID) -> datetime | None:
    value = conn.execute(select(table.c.next_fire_at).where(table.c.id == row_id)).scalar()
    return value  # type: ignore[no-any-return]


# --- repositories ----------------------------------------------------------------------------


class SqlVaccinations:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, dose: Vaccination, family_id: UUID, next_fire_at: datetime | None) -> None:
        row = {**vaccination_row(dose), "family_id": family_id, "next_fire_at": next_fire_at}
        self._conn().execute(vaccinations.insert().values(row))

    def get(self, dose_id: UUID) -> Vaccination | None:
        row = (
            self._conn().execute(select(vaccinations).where(vaccinations.c.id == dose_id)).mappings().first()
        )
        return vaccination_from(row) if row else None

    def save(self, dose: Vaccination) -> None:
        stmt = update(vaccinations).where(
            vaccinations.c.id == dose.id, vaccinations.c.version == dose.version - 1
        )
        if self._conn().execute(stmt.values(vaccination_row(dose))).rowcount == 0:
            _stale_or_missing(self._conn(), vaccinations, dose.id, "vaccination")

    def delete(self, dose_id: UUID) -> None:
        self._conn().execute(delete(vaccinations).where(vaccinations.c.id == dose_id))

    def for_pet(self, pet_id: UUID) -> list[Vaccination]:
        stmt = select(vaccinations).where(vaccinations.c.pet_id == pet_id).order_by(vaccinations.c.id)
        return [vaccination_from(r) for r in self._conn().execute(stmt).mappings()]

    def next_fire_at(self, dose_id: UUID) -> datetime | None:
        return _cursor(self._conn(), vaccinations, dose_id)

    def advance(self, dose_id: UUID, next_fire_at: datetime | None) -> None:
        _advance(self._conn(), vaccinations, "tt_advance_vaccination", dose_id, next_fire_at)

    def due(self, before: datetime, limit: int) -> list[DueCursor]:
        return _due(self._conn(), vaccinations, "tt_due_vaccinations", before, limit)


class SqlMedicalRecords:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, record: MedicalRecord, family_id: UUID) -> None:
        self._conn().execute(
            medical_records.insert().values({**medical_record_row(record), "family_id": family_id})
        )

    def get(self, record_id: UUID) -> MedicalRecord | None:
        stmt = select(medical_records).where(medical_records.c.id == record_id)
        row = self._conn().execute(stmt).mappings().first()
        return medical_record_from(row) if row else None

    def save(self, record: MedicalRecord) -> None:
        stmt = update(medical_records).where(
            medical_records.c.id == record.id, medical_records.c.version == record.version - 1
        )
        if self._conn().execute(stmt.values(medical_record_row(record))).rowcount == 0:
            _stale_or_missing(self._conn(), medical_records, record.id, "medical record")

    def delete(self, record_id: UUID) -> None:
        self._conn().execute(delete(medical_records).where(medical_records.c.id == record_id))

    def list_for_pet(self, pet_id: UUID, after: UUID | None, limit: int) -> list[MedicalRecord]:
        if limit <= 0:
            return []
        stmt = (
            select(medical_records)
            .where(medical_records.c.pet_id == pet_id)
            .order_by(medical_records.c.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(medical_records.c.id > after)
        return [medical_record_from(r) for r in self._conn().execute(stmt).mappings()]


class SqlCareSchedules:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, schedule: CareSchedule, family_id: UUID, next_fire_at: datetime | None) -> None:
        row = {**schedule_row(schedule), "family_id": family_id, "next_fire_at": next_fire_at}
        self._conn().execute(care_schedules.insert().values(row))

    def get(self, schedule_id: UUID) -> CareSchedule | None:
        stmt = select(care_schedules).where(care_schedules.c.id == schedule_id)
        row = self._conn().execute(stmt).mappings().first()
        return schedule_from(row) if row else None

    def save(self, schedule: CareSchedule, next_fire_at: datetime | None) -> None:
        stmt = update(care_schedules).where(
            care_schedules.c.id == schedule.id, care_schedules.c.version == schedule.version - 1
        )
        values = {**schedule_row(schedule), "next_fire_at": next_fire_at}
        if self._conn().execute(stmt.values(values)).rowcount == 0:
            _stale_or_missing(self._conn(), care_schedules, schedule.id, "care schedule")

    def delete(self, schedule_id: UUID) -> None:
        # Completions go with it (ON DELETE CASCADE).
        self._conn().execute(delete(care_schedules).where(care_schedules.c.id == schedule_id))

    def for_pet(self, pet_id: UUID) -> list[CareSchedule]:
        stmt = select(care_schedules).where(care_schedules.c.pet_id == pet_id).order_by(care_schedules.c.id)
        return [schedule_from(r) for r in self._conn().execute(stmt).mappings()]

    def next_fire_at(self, schedule_id: UUID) -> datetime | None:
        return _cursor(self._conn(), care_schedules, schedule_id)

    def advance(self, schedule_id: UUID, next_fire_at: datetime | None) -> None:
        _advance(self._conn(), care_schedules, "tt_advance_care_schedule", schedule_id, next_fire_at)

    def due(self, before: datetime, limit: int) -> list[DueCursor]:
        return _due(self._conn(), care_schedules, "tt_due_care_schedules", before, limit)

    def add_completion(self, completion: CareCompletion) -> CareCompletion:
        if completion.occurs_at is None:
            raise ValueError("a completion is stored with the start of its occurrence (occurs_at)")
        conn = self._conn()
        family_id = conn.execute(
            select(care_schedules.c.family_id).where(care_schedules.c.id == completion.schedule_id)
        ).scalar()
        if family_id is None:
            raise Conflict("the care schedule no longer exists")
        row = {
            "schedule_id": completion.schedule_id,
            "occurrence_key": completion.occurrence_key,
            "family_id": family_id,
            "completed_by": completion.completed_by,
            "completed_at": completion.completed_at,
            "occurs_at": completion.occurs_at,
        }
        _insert_unless_duplicate(conn, care_completions, row)
        stored = (
            conn.execute(
                select(care_completions).where(
                    care_completions.c.schedule_id == completion.schedule_id,
                    care_completions.c.occurrence_key == completion.occurrence_key,
                )
            )
            .mappings()
            .one()
        )
        return completion_from(stored)

    def completions(
        self, schedule_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[CareCompletion]:
        if not schedule_ids:
            return []
        stmt = (
            select(care_completions)
            .where(
                care_completions.c.schedule_id.in_(list(schedule_ids)),
                care_completions.c.occurs_at >= start,
                care_completions.c.occurs_at < end,
            )
            .order_by(care_completions.c.occurs_at, care_completions.c.occurrence_key)
        )
        return [completion_from(r) for r in self._conn().execute(stmt).mappings()]
