"""Care and health: vaccinations (with status and the suggested core schedule), medical records,
care schedules, care tasks (expanded occurrences) and their completion.

Roles (domain.md): owners and members write, viewers read, outsiders get NotFound. Every
write sets the reminder cursors of docs/care.md in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol, TypeVar
from uuid import UUID

from attrs import asdict, evolve, frozen

from tailtracker_core.errors import FieldError, NotFound, PreconditionFailed, ValidationFailed
from tailtracker_core.events import (
    CareScheduleChanged,
    CareTaskCompleted,
    MedicalRecordChanged,
    VaccinationChanged,
    VaccinationRecorded,
)
from tailtracker_core.model.care import (
    CareCompletion,
    CareKind,
    CareSchedule,
    Occurrence,
    check_range,
    mark_completed,
)
from tailtracker_core.model.cursors import care_next_fire_at, resume_from, vaccination_cursors
from tailtracker_core.model.medical import MedicalRecord, MedicalRecordKind
from tailtracker_core.model.pets import Pet
from tailtracker_core.model.roles import Action
from tailtracker_core.model.vaccines import (
    CORE_VACCINES,
    PlannedDose,
    SuggestedDose,
    Vaccination,
    VaccinationStatus,
    Vaccine,
    canonical_code,
    core_schedule,
    suggested_doses,
    vaccination_status,
)
from tailtracker_core.policy import require
from tailtracker_core.ports import UnitOfWork
from tailtracker_core.usecases.deps import UNSET, Deps, Unset
from tailtracker_core.usecases.files import check_attachments

__all__ = [
    "CareTask",
    "DoseView",
    "MedicalRecordChanges",
    "MedicalRecordDraft",
    "ScheduleChanges",
    "ScheduleDraft",
    "SuggestedSchedule",
    "VaccinationChanges",
    "VaccinationDraft",
    "complete_care_task",
    "create_care_schedule",
    "create_medical_record",
    "delete_care_schedule",
    "delete_medical_record",
    "delete_vaccination",
    "get_care_schedule",
    "get_medical_record",
    "get_vaccination",
    "list_care_schedules",
    "list_care_tasks",
    "list_medical_records",
    "list_vaccinations",
    "record_vaccination",
    "suggested_vaccinations",
    "tasks_of",
    "update_care_schedule",
    "update_medical_record",
    "update_vaccination",
]


# --- shared ------------------------------------------------------------------------------------


def _pet(uow: UnitOfWork, pet_id: UUID, actor: UUID, action: Action) -> Pet:
    pet = uow.pets.get(pet_id)
    require(uow.families.role_of(pet.family_id, actor) if pet else None, action, "pet")
    assert pet is not None
    return pet


class _PetItem(Protocol):
    @property
    def pet_id(self) -> UUID: ...


_T = TypeVar("_T", bound=_PetItem)


def _of_pet(uow: UnitOfWork, item: _T | None, actor: UUID, action: Action, what: str) -> tuple[Pet, _T]:
    """A pet's record and its pet, if the actor may do `action` there; a missing record and
    one the actor may not see are the same 404 (outsiders learn nothing)."""
    if item is None:
        raise NotFound(f"{what} not found")
    try:
        return _pet(uow, item.pet_id, actor, action), item
    except NotFound:
        raise NotFound(f"{what} not found") from None


def _check_version(expected: int | None, actual: int, what: str) -> None:
    if expected is not None and expected != actual:
        raise PreconditionFailed(f"the {what} changed since you read it; read it again")


def _renamed(exc: ValidationFailed, names: dict[str, str]) -> ValidationFailed:
    """The core's field names as the API spells them (e.g. dtstart -> starts_at)."""
    return ValidationFailed([FieldError(names.get(e.field, e.field), e.message) for e in exc.errors])


def _given(changes: object) -> dict[str, object]:
    return {k: v for k, v in asdict(changes, recurse=False).items() if not isinstance(v, Unset)}  # type: ignore[arg-type]


# --- vaccinations ------------------------------------------------------------------------------

_VACCINE_FIELDS = {"vaccine_code": "vaccine"}


@frozen
class DoseView:
    """A dose with its status among the pet's doses (overdue, due_soon, ok, superseded)."""

    dose: Vaccination
    status: VaccinationStatus


@frozen
class VaccinationDraft:
    vaccine: str  # a code such as "rabies" or "dhpp"; other spellings are kept as given
    administered_on: date
    vaccine_name: str | None = None  # default: the core vaccine's name, else the code
    next_due_on: date | None = None
    lot_number: str | None = None
    clinic: str | None = None
    certificate_id: UUID | None = None


@frozen
class VaccinationChanges:
    vaccine: str | Unset = UNSET
    vaccine_name: str | Unset | None = UNSET
    administered_on: date | Unset = UNSET
    next_due_on: date | Unset | None = UNSET
    lot_number: str | Unset | None = UNSET
    clinic: str | Unset | None = UNSET
    certificate_id: UUID | Unset | None = UNSET


def _vaccine(code: str, name: str | None) -> Vaccine:
    if name is None or not name.strip():
        core = CORE_VACCINES.get(canonical_code(code))
        name = core.display_name if core is not None else code.strip() or code
    return Vaccine(code, name)


def _views(doses: Sequence[Vaccination], today: date, deps: Deps) -> list[DoseView]:
    return [DoseView(d, vaccination_status(d, doses, today, deps.config.vaccines)) for d in doses]


def _set_vaccination_cursors(
    uow: UnitOfWork,
    deps: Deps,
    before: Sequence[Vaccination],
    after: Sequence[Vaccination],
    changed: UUID | None,
    now: datetime,
) -> None:
    """Move the cursor of the changed dose and of every dose whose superseding changed (a later
    dose recorded or deleted), in this transaction; other cursors stay where the scheduler is."""
    today = now.date()

    def superseded(doses: Sequence[Vaccination]) -> dict[UUID, bool]:
        return {d.id: vaccination_status(d, doses, today) is VaccinationStatus.SUPERSEDED for d in doses}

    was, now_is = superseded(before), superseded(after)
    cursors = vaccination_cursors(after, now, deps.config.reminders)
    if changed is not None:  # the edited dose keeps a window the scheduler has not planned yet
        start = resume_from(uow.vaccinations.next_fire_at(changed), now)
        cursors[changed] = vaccination_cursors(after, start, deps.config.reminders)[changed]
    for d in after:
        if d.id == changed or was.get(d.id) != now_is[d.id]:
            uow.vaccinations.advance(d.id, cursors[d.id])


def record_vaccination(deps: Deps, actor: UUID, pet_id: UUID, draft: VaccinationDraft) -> DoseView:
    now = deps.clock.now()
    try:
        dose = Vaccination.record(
            deps.ids.new_id(),
            pet_id,
            _vaccine(draft.vaccine, draft.vaccine_name),
            draft.administered_on,
            now.date(),
            draft.next_due_on,
            draft.lot_number,
            draft.clinic,
            draft.certificate_id,
        )
    except ValidationFailed as exc:
        raise _renamed(exc, _VACCINE_FIELDS) from None
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.EDIT)
        if dose.certificate_id is not None:
            check_attachments(uow, pet.id, [dose.certificate_id], "certificate_id")
        before = uow.vaccinations.for_pet(pet.id)
        after = [*before, dose]
        uow.vaccinations.add(dose, pet.family_id, None)
        _set_vaccination_cursors(uow, deps, before, after, dose.id, now)
        uow.record(VaccinationRecorded(dose.id, pet.id, pet.family_id, dose.code))
        uow.commit()
    return DoseView(dose, vaccination_status(dose, after, now.date(), deps.config.vaccines))


def list_vaccinations(deps: Deps, actor: UUID, pet_id: UUID) -> list[DoseView]:
    """Every dose of the pet in id order (recording order), each with its status."""
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.READ)
        return _views(uow.vaccinations.for_pet(pet.id), deps.clock.now().date(), deps)


def _dose(uow: UnitOfWork, dose_id: UUID, actor: UUID, action: Action) -> tuple[Pet, Vaccination]:
    return _of_pet(uow, uow.vaccinations.get(dose_id), actor, action, "vaccination")


def get_vaccination(deps: Deps, actor: UUID, dose_id: UUID) -> DoseView:
    with deps.uow(actor) as uow:
        pet, dose = _dose(uow, dose_id, actor, Action.READ)
        doses = uow.vaccinations.for_pet(pet.id)
    return DoseView(dose, vaccination_status(dose, doses, deps.clock.now().date(), deps.config.vaccines))


def update_vaccination(
    deps: Deps, actor: UUID, dose_id: UUID, changes: VaccinationChanges, expected_version: int | None = None
) -> DoseView:
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        pet, dose = _dose(uow, dose_id, actor, Action.EDIT)
        _check_version(expected_version, dose.version, "vaccination")
        given = _given(changes)
        code = str(given.get("vaccine", dose.vaccine.code))
        if "vaccine_name" in given:
            name = given["vaccine_name"]
        else:  # a new code without a name takes the code's default name
            name = None if "vaccine" in given else dose.vaccine.display_name
        try:
            revised = dose.revise(
                _vaccine(code, name if isinstance(name, str) else None),
                given.get("administered_on", dose.administered_on),  # type: ignore[arg-type]
                now.date(),
                given.get("next_due_on", dose.next_due_on),  # type: ignore[arg-type]
                given.get("lot_number", dose.lot_number),  # type: ignore[arg-type]
                given.get("clinic", dose.clinic),  # type: ignore[arg-type]
                given.get("certificate_id", dose.certificate_id),  # type: ignore[arg-type]
            )
        except ValidationFailed as exc:
            raise _renamed(exc, _VACCINE_FIELDS) from None
        if "certificate_id" in given and revised.certificate_id is not None:
            check_attachments(uow, pet.id, [revised.certificate_id], "certificate_id")
        before = uow.vaccinations.for_pet(pet.id)
        after = [revised if d.id == dose.id else d for d in before]
        uow.vaccinations.save(revised)
        _set_vaccination_cursors(uow, deps, before, after, dose.id, now)
        uow.record(VaccinationChanged(dose.id, pet.id, pet.family_id, "updated"))
        uow.commit()
    return DoseView(revised, vaccination_status(revised, after, now.date(), deps.config.vaccines))


def delete_vaccination(deps: Deps, actor: UUID, dose_id: UUID) -> None:
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        pet, dose = _dose(uow, dose_id, actor, Action.EDIT)
        before = uow.vaccinations.for_pet(pet.id)
        uow.vaccinations.delete(dose.id)
        after = [d for d in before if d.id != dose.id]
        _set_vaccination_cursors(uow, deps, before, after, None, now)  # an earlier dose may be current again
        uow.record(VaccinationChanged(dose.id, pet.id, pet.family_id, "deleted"))
        uow.commit()


@frozen
class SuggestedSchedule:
    """The core schedule for the pet: every slot (`plan`, with the dose matched to it) and the
    doses still to give (`suggested`, each with its status)."""

    pet: Pet
    plan: list[PlannedDose]
    suggested: list[SuggestedDose]


def suggested_vaccinations(deps: Deps, actor: UUID, pet_id: UUID) -> SuggestedSchedule:
    today = deps.clock.now().date()
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.READ)
        doses = uow.vaccinations.for_pet(pet.id)
    settings = deps.config.vaccines
    return SuggestedSchedule(
        pet,
        core_schedule(pet.species, pet.birth_date, doses, today, settings),
        suggested_doses(pet.species, pet.birth_date, doses, today, settings),
    )


# --- medical records -----------------------------------------------------------------------------


@frozen
class MedicalRecordDraft:
    kind: MedicalRecordKind
    occurred_on: date
    title: str
    notes: str | None = None
    vet: str | None = None
    file_ids: tuple[UUID, ...] = ()


@frozen
class MedicalRecordChanges:
    kind: MedicalRecordKind | Unset = UNSET
    occurred_on: date | Unset = UNSET
    title: str | Unset = UNSET
    notes: str | Unset | None = UNSET
    vet: str | Unset | None = UNSET
    file_ids: tuple[UUID, ...] | Unset = UNSET


def create_medical_record(deps: Deps, actor: UUID, pet_id: UUID, draft: MedicalRecordDraft) -> MedicalRecord:
    now = deps.clock.now()
    record = MedicalRecord.create(
        deps.ids.new_id(),
        pet_id,
        draft.kind,
        draft.occurred_on,
        draft.title,
        actor,
        now,
        draft.notes,
        draft.vet,
        draft.file_ids,
    )
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.EDIT)
        check_attachments(uow, pet.id, record.file_ids, "file_ids")
        uow.medical_records.add(record, pet.family_id)
        uow.record(MedicalRecordChanged(record.id, pet.id, pet.family_id, "created", record.file_ids))
        uow.commit()
    return record


def list_medical_records(
    deps: Deps, actor: UUID, pet_id: UUID, after: UUID | None, limit: int
) -> list[MedicalRecord]:
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.READ)
        return uow.medical_records.list_for_pet(pet.id, after, limit)


def _record(uow: UnitOfWork, record_id: UUID, actor: UUID, action: Action) -> tuple[Pet, MedicalRecord]:
    return _of_pet(uow, uow.medical_records.get(record_id), actor, action, "medical record")


def get_medical_record(deps: Deps, actor: UUID, record_id: UUID) -> MedicalRecord:
    with deps.uow(actor) as uow:
        return _record(uow, record_id, actor, Action.READ)[1]


def update_medical_record(
    deps: Deps,
    actor: UUID,
    record_id: UUID,
    changes: MedicalRecordChanges,
    expected_version: int | None = None,
) -> MedicalRecord:
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        pet, record = _record(uow, record_id, actor, Action.EDIT)
        _check_version(expected_version, record.version, "medical record")
        g = _given(changes)
        revised = record.revise(
            g.get("kind", record.kind),  # type: ignore[arg-type]
            g.get("occurred_on", record.occurred_on),  # type: ignore[arg-type]
            g.get("title", record.title),  # type: ignore[arg-type]
            now,
            g.get("notes", record.notes),  # type: ignore[arg-type]
            g.get("vet", record.vet),  # type: ignore[arg-type]
            g.get("file_ids", record.file_ids),  # type: ignore[arg-type]
        )
        if "file_ids" in g:
            check_attachments(uow, pet.id, revised.file_ids, "file_ids")
        uow.medical_records.save(revised)
        uow.record(MedicalRecordChanged(record.id, pet.id, pet.family_id, "updated", revised.file_ids))
        uow.commit()
    return revised


def delete_medical_record(deps: Deps, actor: UUID, record_id: UUID) -> None:
    with deps.uow(actor) as uow:
        pet, record = _record(uow, record_id, actor, Action.EDIT)
        uow.medical_records.delete(record.id)
        uow.record(MedicalRecordChanged(record.id, pet.id, pet.family_id, "deleted"))
        uow.commit()


# --- care schedules ------------------------------------------------------------------------------

_SCHEDULE_FIELDS = {"dtstart": "starts_at"}


@frozen
class ScheduleDraft:
    kind: CareKind
    title: str
    rrule: str
    starts_at: datetime  # local wall time, no offset
    timezone: str | None = None  # default: the acting user's timezone
    notes: str | None = None


@frozen
class ScheduleChanges:
    kind: CareKind | Unset = UNSET
    title: str | Unset = UNSET
    rrule: str | Unset = UNSET
    starts_at: datetime | Unset = UNSET
    timezone: str | Unset = UNSET
    notes: str | Unset | None = UNSET


def create_care_schedule(deps: Deps, actor: UUID, pet_id: UUID, draft: ScheduleDraft) -> CareSchedule:
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.EDIT)
        timezone = draft.timezone
        if timezone is None:
            user = uow.users.get(actor)
            timezone = user.timezone if user is not None else "UTC"
        try:
            schedule = CareSchedule.create(
                deps.ids.new_id(),
                pet.id,
                draft.kind,
                draft.title,
                draft.rrule,
                draft.starts_at,
                timezone,
                draft.notes,
            )
        except ValidationFailed as exc:
            raise _renamed(exc, _SCHEDULE_FIELDS) from None
        uow.care_schedules.add(
            schedule, pet.family_id, care_next_fire_at(schedule, now, deps.config.reminders)
        )
        uow.record(CareScheduleChanged(schedule.id, pet.id, pet.family_id, "created"))
        uow.commit()
    return schedule


def list_care_schedules(deps: Deps, actor: UUID, pet_id: UUID) -> list[CareSchedule]:
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.READ)
        return uow.care_schedules.for_pet(pet.id)


def _schedule(uow: UnitOfWork, schedule_id: UUID, actor: UUID, action: Action) -> tuple[Pet, CareSchedule]:
    return _of_pet(uow, uow.care_schedules.get(schedule_id), actor, action, "care schedule")


def get_care_schedule(deps: Deps, actor: UUID, schedule_id: UUID) -> CareSchedule:
    with deps.uow(actor) as uow:
        return _schedule(uow, schedule_id, actor, Action.READ)[1]


def update_care_schedule(
    deps: Deps,
    actor: UUID,
    schedule_id: UUID,
    changes: ScheduleChanges,
    expected_version: int | None = None,
) -> CareSchedule:
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        pet, schedule = _schedule(uow, schedule_id, actor, Action.EDIT)
        _check_version(expected_version, schedule.version, "care schedule")
        g = _given(changes)
        try:
            revised = schedule.revise(
                g.get("kind", schedule.kind),  # type: ignore[arg-type]
                g.get("title", schedule.title),  # type: ignore[arg-type]
                g.get("rrule", schedule.rrule),  # type: ignore[arg-type]
                g.get("starts_at", schedule.dtstart),  # type: ignore[arg-type]
                g.get("timezone", schedule.timezone),  # type: ignore[arg-type]
                g.get("notes", schedule.notes),  # type: ignore[arg-type]
            )
        except ValidationFailed as exc:
            raise _renamed(exc, _SCHEDULE_FIELDS) from None
        start = resume_from(uow.care_schedules.next_fire_at(schedule.id), now)
        uow.care_schedules.save(revised, care_next_fire_at(revised, start, deps.config.reminders))
        uow.record(CareScheduleChanged(schedule.id, pet.id, pet.family_id, "updated"))
        uow.commit()
    return revised


def delete_care_schedule(deps: Deps, actor: UUID, schedule_id: UUID) -> None:
    with deps.uow(actor) as uow:
        pet, schedule = _schedule(uow, schedule_id, actor, Action.EDIT)
        uow.care_schedules.delete(schedule.id)
        uow.record(CareScheduleChanged(schedule.id, pet.id, pet.family_id, "deleted"))
        uow.commit()


# --- care tasks ----------------------------------------------------------------------------------


@frozen
class CareTask:
    """One occurrence of a schedule, with its completion if any."""

    schedule: CareSchedule
    occurrence: Occurrence


def list_care_tasks(deps: Deps, actor: UUID, pet_id: UUID, start: datetime, end: datetime) -> list[CareTask]:
    """Every occurrence of the pet's schedules starting in [start, end) (at most MAX_RANGE),
    by start time then schedule, each with its completion."""
    check_range(start, end)
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.READ)
        schedules = uow.care_schedules.for_pet(pet.id)
        done = uow.care_schedules.completions([s.id for s in schedules], start, end)
    return tasks_of(schedules, done, start, end)


def tasks_of(
    schedules: Sequence[CareSchedule], completions: Sequence[CareCompletion], start: datetime, end: datetime
) -> list[CareTask]:
    """Every occurrence of `schedules` starting in [start, end), by start time then key, each
    with its completion (the first recorded one) from `completions`. Shared by the use case
    and the read side (`care_queries`), so both answer the same tasks for the same rows."""
    by_schedule: dict[UUID, list[CareCompletion]] = {}
    for c in completions:
        by_schedule.setdefault(c.schedule_id, []).append(c)
    tasks = [
        CareTask(s, o)
        for s in schedules
        for o in mark_completed(s.occurrences_between(start, end), by_schedule.get(s.id, ()))
    ]
    return sorted(tasks, key=lambda t: (t.occurrence.starts_at, t.occurrence.key))


def occurrence_key_of(schedule_id: UUID, occurrence: str) -> str:
    """The path's occurrence (the local wall time, or the whole key) as an occurrence key."""
    text = occurrence.strip()
    if "@" in text:
        return text
    try:
        wall = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.single(
            "occurrence", "the occurrence's local wall time, such as 2026-11-25T08:00:00"
        ) from None
    if wall.tzinfo is not None:
        raise ValidationFailed.single("occurrence", "a local wall time, without a UTC offset")
    return f"{schedule_id}@{wall.isoformat()}"


def complete_care_task(deps: Deps, actor: UUID, schedule_id: UUID, occurrence: str) -> tuple[CareTask, bool]:
    """Complete one occurrence; completing it again returns the first completion. The bool is
    True when this call stored the completion."""
    now = deps.clock.now()
    key = occurrence_key_of(schedule_id, occurrence)
    with deps.uow(actor) as uow:
        pet, schedule = _schedule(uow, schedule_id, actor, Action.COMPLETE_TASK)
        occ = schedule.occurrence(key)
        if occ is None:
            raise NotFound("this schedule has no such occurrence")
        try:
            wanted: CareCompletion = schedule.complete(key, actor, now)
        except ValidationFailed as exc:
            raise _renamed(exc, {"occurrence_key": "occurrence"}) from None
        stored = uow.care_schedules.add_completion(wanted)
        created = stored == wanted
        if created:
            uow.record(CareTaskCompleted(schedule.id, key, pet.id, pet.family_id, actor, stored.completed_at))
        uow.commit()
    return CareTask(schedule, evolve(occ, completion=stored)), created
