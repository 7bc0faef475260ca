"""Health and care: vaccinations, the suggested schedule, medical records, care schedules, tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.medical import MAX_FILES, MedicalRecord, MedicalRecordKind
from tailtracker_core.model.pets import Species
from tailtracker_core.model.vaccines import VaccinationStatus
from tailtracker_core.usecases.care import (
    CareTask,
    DoseView,
    MedicalRecordChanges,
    MedicalRecordDraft,
    ScheduleChanges,
    ScheduleDraft,
    SuggestedSchedule,
    VaccinationChanges,
    VaccinationDraft,
)
from tailtracker_core.usecases.deps import UNSET as CORE_UNSET

from . import utc

__all__ = [
    "CareScheduleIn",
    "CareScheduleOut",
    "CareSchedulePage",
    "CareSchedulePatch",
    "CareTaskOut",
    "CareTaskPage",
    "MedicalRecordIn",
    "MedicalRecordOut",
    "MedicalRecordPage",
    "MedicalRecordPatch",
    "SuggestedOut",
    "VaccinationIn",
    "VaccinationOut",
    "VaccinationPage",
    "VaccinationPatch",
]

VaccineCode = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=40,
        description="A vaccine code: `dhpp`, `rabies`, `fvrcp`, `felv` (core) or any other "
        "(letters, digits, `-`, `_`); common spellings such as `dhppi` count as `dhpp`.",
        examples=["rabies"],
    ),
]
VaccineName = Annotated[
    str, Meta(max_length=100, description="Default: the core vaccine's name, else the code.")
]
Lot = Annotated[str, Meta(max_length=40)]
Clinic = Annotated[str, Meta(max_length=200)]
Title = Annotated[str, Meta(min_length=1, max_length=200, examples=["Annual check-up"])]
ScheduleTitle = Annotated[str, Meta(min_length=1, max_length=100, examples=["Heartworm tablet"])]
RecordNotes = Annotated[str, Meta(max_length=10000)]
ScheduleNotes = Annotated[str, Meta(max_length=2000)]
Vet = Annotated[str, Meta(max_length=200)]
FileIds = Annotated[list[UUID], Meta(max_length=MAX_FILES, description="Stored files of this pet.")]
Rule = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=500,
        description="An RFC 5545 RRULE value (FREQ HOURLY..YEARLY; at most 24 firings a day).",
        examples=["FREQ=DAILY;BYHOUR=8,20"],
    ),
]
WallTime = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:00)?$",
        description="The first occurrence as a local wall time in `timezone`, without an offset.",
        examples=["2026-12-01T08:00:00"],
    ),
]
Timezone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        description="An IANA timezone; default: yours.",
        examples=["Europe/London"],
    ),
]


def _wall(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.single("starts_at", "not a real date and time") from None


def _given(struct: msgspec.Struct) -> dict[str, object]:
    return {n: getattr(struct, n) for n in struct.__struct_fields__ if getattr(struct, n) is not UNSET}


# --- vaccinations ----------------------------------------------------------------------------------


class VaccinationIn(msgspec.Struct, forbid_unknown_fields=True):
    vaccine: VaccineCode
    administered_on: date
    vaccine_name: VaccineName | None = None
    next_due_on: date | None = None
    lot_number: Lot | None = None
    clinic: Clinic | None = None
    certificate_id: Annotated[UUID, Meta(description="A stored file: the certificate.")] | None = None

    def draft(self) -> VaccinationDraft:
        return VaccinationDraft(
            vaccine=self.vaccine,
            administered_on=self.administered_on,
            vaccine_name=self.vaccine_name,
            next_due_on=self.next_due_on,
            lot_number=self.lot_number,
            clinic=self.clinic,
            certificate_id=self.certificate_id,
        )


class VaccinationPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; `null` clears an optional field."""

    vaccine: VaccineCode | UnsetType = UNSET
    vaccine_name: VaccineName | UnsetType | None = UNSET
    administered_on: date | UnsetType = UNSET
    next_due_on: date | UnsetType | None = UNSET
    lot_number: Lot | UnsetType | None = UNSET
    clinic: Clinic | UnsetType | None = UNSET
    certificate_id: UUID | UnsetType | None = UNSET

    def changes(self) -> VaccinationChanges:
        given = _given(self)
        return VaccinationChanges(**{n: given.get(n, CORE_UNSET) for n in self.__struct_fields__})  # type: ignore[arg-type]


class VaccinationOut(msgspec.Struct):
    id: UUID
    pet_id: UUID
    vaccine: str
    vaccine_name: str
    administered_on: date
    next_due_on: date | None
    lot_number: str | None
    clinic: str | None
    certificate_id: UUID | None
    status: Annotated[
        VaccinationStatus,
        Meta(description="superseded (a later dose of this vaccine exists), else by next_due_on."),
    ]

    @classmethod
    def from_view(cls, v: DoseView) -> VaccinationOut:
        d = v.dose
        return cls(
            d.id,
            d.pet_id,
            d.vaccine.code,
            d.vaccine.display_name,
            d.administered_on,
            d.next_due_on,
            d.lot_number,
            d.clinic,
            d.certificate_id,
            v.status,
        )


class VaccinationPage(msgspec.Struct):
    items: list[VaccinationOut]
    next_cursor: str | None


class SuggestedDoseOut(msgspec.Struct):
    vaccine: str
    vaccine_name: str
    slot: Annotated[str, Meta(examples=["12 weeks", "revaccination 1"])]
    due_on: date
    status: VaccinationStatus


class PlannedDoseOut(msgspec.Struct):
    vaccine: str
    vaccine_name: str
    slot: str
    due_on: date
    state: Annotated[
        Literal["given", "skipped", "suggested"],
        Meta(description="given: a recorded dose fills it; skipped: a later slot is filled."),
    ]
    vaccination_id: UUID | None


class SuggestedOut(msgspec.Struct):
    pet_id: UUID
    species: Species
    birth_date: date | None
    items: Annotated[list[SuggestedDoseOut], Meta(description="Missing and future core doses, by due date.")]
    plan: Annotated[list[PlannedDoseOut], Meta(description="Every slot of the core schedule.")]

    @classmethod
    def from_schedule(cls, s: SuggestedSchedule) -> SuggestedOut:
        items = [
            SuggestedDoseOut(d.vaccine.code, d.vaccine.display_name, d.slot, d.due_on, d.status)
            for d in s.suggested
        ]
        plan = [
            PlannedDoseOut(
                p.vaccine.code,
                p.vaccine.display_name,
                p.slot,
                p.due_on,
                "given" if p.dose is not None else "skipped" if p.skipped else "suggested",
                p.dose.id if p.dose is not None else None,
            )
            for p in s.plan
        ]
        return cls(s.pet.id, s.pet.species, s.pet.birth_date, items, plan)


# --- medical records -----------------------------------------------------------------------------


class MedicalRecordIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: MedicalRecordKind
    occurred_on: date
    title: Title
    notes: RecordNotes | None = None
    vet: Vet | None = None
    file_ids: FileIds = []

    def draft(self) -> MedicalRecordDraft:
        return MedicalRecordDraft(
            self.kind, self.occurred_on, self.title, self.notes, self.vet, tuple(self.file_ids)
        )


class MedicalRecordPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; `null` clears an optional field; `file_ids` replaces the list."""

    kind: MedicalRecordKind | UnsetType = UNSET
    occurred_on: date | UnsetType = UNSET
    title: Title | UnsetType = UNSET
    notes: RecordNotes | UnsetType | None = UNSET
    vet: Vet | UnsetType | None = UNSET
    file_ids: FileIds | UnsetType = UNSET

    def changes(self) -> MedicalRecordChanges:
        given = _given(self)
        if "file_ids" in given:
            given["file_ids"] = tuple(given["file_ids"])  # type: ignore[call-overload]
        return MedicalRecordChanges(**{n: given.get(n, CORE_UNSET) for n in self.__struct_fields__})  # type: ignore[arg-type]


class MedicalRecordOut(msgspec.Struct):
    id: UUID
    pet_id: UUID
    kind: MedicalRecordKind
    occurred_on: date
    title: str
    notes: str | None
    vet: str | None
    file_ids: list[UUID]
    created_by: UUID
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, r: MedicalRecord) -> MedicalRecordOut:
        return cls(
            r.id,
            r.pet_id,
            r.kind,
            r.occurred_on,
            r.title,
            r.notes,
            r.vet,
            list(r.file_ids),
            r.created_by,
            utc(r.created_at),
            utc(r.updated_at),
        )


class MedicalRecordPage(msgspec.Struct):
    items: list[MedicalRecordOut]
    next_cursor: str | None


# --- care schedules and tasks -------------------------------------------------------------------


class CareScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: CareKind
    title: ScheduleTitle
    rrule: Rule
    starts_at: WallTime
    timezone: Timezone | None = None
    notes: ScheduleNotes | None = None

    def draft(self) -> ScheduleDraft:
        return ScheduleDraft(
            self.kind, self.title, self.rrule, _wall(self.starts_at), self.timezone, self.notes
        )


class CareSchedulePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change. A new time or rule gives new occurrences; completions of
    past occurrences stay attached to the old ones."""

    kind: CareKind | UnsetType = UNSET
    title: ScheduleTitle | UnsetType = UNSET
    rrule: Rule | UnsetType = UNSET
    starts_at: WallTime | UnsetType = UNSET
    timezone: Timezone | UnsetType = UNSET
    notes: ScheduleNotes | UnsetType | None = UNSET

    def changes(self) -> ScheduleChanges:
        given = _given(self)
        if "starts_at" in given:
            given["starts_at"] = _wall(str(given["starts_at"]))
        return ScheduleChanges(**{n: given.get(n, CORE_UNSET) for n in self.__struct_fields__})  # type: ignore[arg-type]


class CareScheduleOut(msgspec.Struct):
    id: UUID
    pet_id: UUID
    kind: CareKind
    title: str
    rrule: str
    starts_at: Annotated[
        str, Meta(description="Local wall time in `timezone`.", examples=["2026-12-01T08:00:00"])
    ]
    timezone: str
    notes: str | None

    @classmethod
    def from_schedule(cls, s: CareSchedule) -> CareScheduleOut:
        return cls(s.id, s.pet_id, s.kind, s.title, s.rrule, s.dtstart.isoformat(), s.timezone, s.notes)


class CareSchedulePage(msgspec.Struct):
    items: list[CareScheduleOut]
    next_cursor: str | None


class CareTaskOut(msgspec.Struct):
    schedule_id: UUID
    pet_id: UUID
    kind: CareKind
    title: str
    occurrence: Annotated[
        str,
        Meta(
            description="The occurrence's local wall time as the rule generates it: the "
            "`{occurrence}` of `POST /v1/care-tasks/{schedule_id}/{occurrence}/complete`.",
            examples=["2026-12-01T08:00:00"],
        ),
    ]
    key: Annotated[str, Meta(description="Stable id of the occurrence: `<schedule_id>@<occurrence>`.")]
    starts_at: Annotated[datetime, Meta(description="The instant (UTC) the occurrence starts.")]
    timezone: str
    completed: bool
    completed_at: datetime | None
    completed_by: UUID | None

    @classmethod
    def from_task(cls, t: CareTask) -> CareTaskOut:
        s, o = t.schedule, t.occurrence
        c = o.completion
        return cls(
            s.id,
            s.pet_id,
            s.kind,
            s.title,
            o.local_start.isoformat(),
            o.key,
            utc(o.starts_at),
            s.timezone,
            c is not None,
            utc(c.completed_at) if c is not None else None,
            c.completed_by if c is not None else None,
        )


class CareTaskPage(msgspec.Struct):
    items: list[CareTaskOut]
    next_cursor: str | None
