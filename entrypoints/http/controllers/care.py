"""Health and care: vaccinations, the suggested schedule, medical records, care schedules and
care tasks (docs/care.md). The iCalendar feeds live elsewhere."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.usecases import care, care_queries
from tailtracker_core.usecases.deps import Deps

from ..conventions import expected_version, page_of, page_response, paginate, represent, select_fields
from ..idempotency import idempotent
from ..identity import BEARER
from ..params import (
    Claims,
    Cursor,
    DepsDep,
    Fields,
    IdempotencyKey,
    IfMatch,
    Limit,
    PathId,
    care_task_reader_of,
    clock_of,
)
from ..problems import problem_responses
from ..schemas.care import (
    CareScheduleIn,
    CareScheduleOut,
    CareSchedulePage,
    CareSchedulePatch,
    CareTaskOut,
    CareTaskPage,
    MedicalRecordIn,
    MedicalRecordOut,
    MedicalRecordPage,
    MedicalRecordPatch,
    SuggestedOut,
    VaccinationIn,
    VaccinationOut,
    VaccinationPage,
    VaccinationPatch,
)

__all__ = [
    "CareScheduleController",
    "CareTaskController",
    "MedicalRecordController",
    "PetCareController",
    "VaccinationController",
]

DEFAULT_TASK_DAYS = 7
From = Annotated[
    datetime | None,
    QueryParameter(name="from", description="Start (inclusive) with a UTC offset; default: now."),
]
To = Annotated[
    datetime | None,
    QueryParameter(
        name="to",
        description=f"End (exclusive) with a UTC offset; default: `from` + {DEFAULT_TASK_DAYS} days. "
        "At most 366 days after `from`.",
    ),
]
TaskLimit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size (1..500).")]
TaskCursor = Annotated[
    str | None,
    QueryParameter(max_length=200, description="Opaque cursor: the `next_cursor` of the previous page."),
]
Occurrence = Annotated[
    str,
    PathParameter(
        max_length=100,
        description="The occurrence's local wall time (`occurrence` of a care task), e.g. "
        "2026-12-01T08:00:00, or its whole `key`.",
    ),
]


def _task_cursor(task: care.CareTask) -> str:
    raw = f"{task.occurrence.starts_at.isoformat()}|{task.occurrence.key}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _after_task(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, key = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if not key or moment.tzinfo is None:
            raise ValueError(raw)
        return moment, key
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.single(
            "cursor", "not a cursor this API gave out; start from the first page"
        ) from None


class PetCareController(Controller):
    """Care resources listed and created under their pet."""

    path = "/v1/pets/{pet_id:str}"
    tags: ClassVar[list[str]] = ["Health and care"]
    security = BEARER

    # --- vaccinations ---

    @post(
        "/vaccinations",
        summary="Record a vaccination (owners and members)",
        description="Answers the dose with its status. A later dose of the same vaccine supersedes "
        "earlier ones (no more reminders for them).",
        status_code=201,
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def record_vaccination(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        data: JSONBody[VaccinationIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[VaccinationOut]:
        def produce(deps: Deps) -> Response[VaccinationOut]:
            view = care.record_vaccination(deps, claims.user_id, pet_id, data.draft())
            location = {"Location": f"/v1/vaccinations/{view.dose.id}"}
            return represent(
                request, VaccinationOut.from_view(view), view.dose.version, status_code=201, headers=location
            )

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    @get(
        "/vaccinations",
        summary="A pet's vaccinations, each with its status",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def list_vaccinations(
        self,
        pet_id: PathId,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> VaccinationPage:
        select_fields(VaccinationOut, fields)
        views = care.list_vaccinations(deps, claims.user_id, pet_id)
        rows, next_cursor = page_of(views, lambda v: v.dose.id, cursor, limit)
        return page_response(
            VaccinationPage, VaccinationOut, [VaccinationOut.from_view(v) for v in rows], next_cursor, fields
        )

    @get(
        "/vaccinations/suggested",
        summary="The suggested core vaccine schedule (WSAVA 2016)",
        description="From the pet's species and birth date, with the recorded doses matched: the "
        "missing and future doses with their status (`items`) and every slot (`plan`). Empty "
        "without a birth date or for species without a core schedule.",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def suggested_vaccinations(self, pet_id: PathId, claims: Claims, deps: DepsDep) -> SuggestedOut:
        return SuggestedOut.from_schedule(care.suggested_vaccinations(deps, claims.user_id, pet_id))

    # --- medical records ---

    @post(
        "/medical-records",
        summary="Add a medical record (owners and members)",
        status_code=201,
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def create_medical_record(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        data: JSONBody[MedicalRecordIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[MedicalRecordOut]:
        def produce(deps: Deps) -> Response[MedicalRecordOut]:
            record = care.create_medical_record(deps, claims.user_id, pet_id, data.draft())
            location = {"Location": f"/v1/medical-records/{record.id}"}
            return represent(
                request,
                MedicalRecordOut.from_record(record),
                record.version,
                status_code=201,
                headers=location,
            )

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    @get(
        "/medical-records",
        summary="A pet's medical records",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def list_medical_records(
        self,
        pet_id: PathId,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> MedicalRecordPage:
        select_fields(MedicalRecordOut, fields)
        rows, next_cursor = paginate(
            lambda after, n: care.list_medical_records(deps, claims.user_id, pet_id, after, n),
            cursor,
            limit,
            lambda r: r.id,
        )
        items = [MedicalRecordOut.from_record(r) for r in rows]
        return page_response(MedicalRecordPage, MedicalRecordOut, items, next_cursor, fields)

    # --- care schedules ---

    @post(
        "/care-schedules",
        summary="Add a care schedule (owners and members)",
        description="An RFC 5545 RRULE over a local wall-time start in an IANA timezone (default: "
        "yours). Occurrences follow wall time across DST changes.",
        status_code=201,
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def create_care_schedule(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        data: JSONBody[CareScheduleIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CareScheduleOut]:
        def produce(deps: Deps) -> Response[CareScheduleOut]:
            schedule = care.create_care_schedule(deps, claims.user_id, pet_id, data.draft())
            location = {"Location": f"/v1/care-schedules/{schedule.id}"}
            return represent(
                request,
                CareScheduleOut.from_schedule(schedule),
                schedule.version,
                status_code=201,
                headers=location,
            )

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    @get(
        "/care-schedules",
        summary="A pet's care schedules",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def list_care_schedules(
        self,
        pet_id: PathId,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> CareSchedulePage:
        select_fields(CareScheduleOut, fields)
        schedules = care.list_care_schedules(deps, claims.user_id, pet_id)
        rows, next_cursor = page_of(schedules, lambda s: s.id, cursor, limit)
        items = [CareScheduleOut.from_schedule(s) for s in rows]
        return page_response(CareSchedulePage, CareScheduleOut, items, next_cursor, fields)

    # --- care tasks ---

    # Runs on the event loop against the async read side (container.care_task_reader): no
    # thread hop, one database statement for the role, the schedules and the completions.
    @get(
        "/care-tasks",
        summary="A pet's care tasks between two instants",
        description="Every occurrence of the pet's schedules starting in [`from`, `to`), by start, "
        "with its completion. `to` before `from` or a range over 366 days: 422.",
        responses=problem_responses(404),
    )
    async def list_care_tasks(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        claims: Claims,
        start: From = None,
        end: To = None,
        limit: TaskLimit = 100,
        cursor: TaskCursor = None,
        fields: Fields = None,
    ) -> CareTaskPage:
        select_fields(CareTaskOut, fields)
        after = _after_task(cursor)
        start = start if start is not None else clock_of(request).now()
        if end is None:
            try:
                end = start + timedelta(days=DEFAULT_TASK_DAYS)
            except OverflowError:
                raise ValidationFailed.single("from", "a date between 1900 and 2200") from None
        reader = care_task_reader_of(request)
        page, more = await care_queries.read_care_tasks(
            reader, claims.user_id, pet_id, start, end, after, limit
        )
        next_cursor = _task_cursor(page[-1]) if more and page else None
        return page_response(
            CareTaskPage, CareTaskOut, [CareTaskOut.from_task(t) for t in page], next_cursor, fields
        )


class VaccinationController(Controller):
    path = "/v1/vaccinations"
    tags: ClassVar[list[str]] = ["Health and care"]
    security = BEARER

    @get(
        "/{vaccination_id:str}",
        summary="One vaccination",
        responses=problem_responses(304, 404),
        sync_to_thread=True,
    )
    def get_vaccination(
        self,
        request: Request[Any, Any, Any],
        vaccination_id: PathId,
        claims: Claims,
        deps: DepsDep,
        fields: Fields = None,
    ) -> Response[VaccinationOut]:
        view = care.get_vaccination(deps, claims.user_id, vaccination_id)
        return represent(request, VaccinationOut.from_view(view), view.dose.version, fields)

    @patch(
        "/{vaccination_id:str}",
        summary="Change a vaccination (owners and members)",
        description="Send only what changes; `null` clears an optional field. Stale If-Match: 412.",
        responses=problem_responses(403, 404, 409, 412),
        sync_to_thread=True,
    )
    def update_vaccination(
        self,
        request: Request[Any, Any, Any],
        vaccination_id: PathId,
        data: JSONBody[VaccinationPatch],
        claims: Claims,
        deps: DepsDep,
        if_match: IfMatch = None,
    ) -> Response[VaccinationOut]:
        version = expected_version(if_match)
        view = care.update_vaccination(deps, claims.user_id, vaccination_id, data.changes(), version)
        return represent(request, VaccinationOut.from_view(view), view.dose.version)

    @delete(
        "/{vaccination_id:str}",
        summary="Delete a vaccination (owners and members)",
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def delete_vaccination(self, vaccination_id: PathId, claims: Claims, deps: DepsDep) -> None:
        care.delete_vaccination(deps, claims.user_id, vaccination_id)


class MedicalRecordController(Controller):
    path = "/v1/medical-records"
    tags: ClassVar[list[str]] = ["Health and care"]
    security = BEARER

    @get(
        "/{medical_record_id:str}",
        summary="One medical record",
        responses=problem_responses(304, 404),
        sync_to_thread=True,
    )
    def get_medical_record(
        self,
        request: Request[Any, Any, Any],
        medical_record_id: PathId,
        claims: Claims,
        deps: DepsDep,
        fields: Fields = None,
    ) -> Response[MedicalRecordOut]:
        record = care.get_medical_record(deps, claims.user_id, medical_record_id)
        return represent(request, MedicalRecordOut.from_record(record), record.version, fields)

    @patch(
        "/{medical_record_id:str}",
        summary="Change a medical record (owners and members)",
        description="Send only what changes; `null` clears an optional field. Stale If-Match: 412.",
        responses=problem_responses(403, 404, 409, 412),
        sync_to_thread=True,
    )
    def update_medical_record(
        self,
        request: Request[Any, Any, Any],
        medical_record_id: PathId,
        data: JSONBody[MedicalRecordPatch],
        claims: Claims,
        deps: DepsDep,
        if_match: IfMatch = None,
    ) -> Response[MedicalRecordOut]:
        version = expected_version(if_match)
        record = care.update_medical_record(deps, claims.user_id, medical_record_id, data.changes(), version)
        return represent(request, MedicalRecordOut.from_record(record), record.version)

    @delete(
        "/{medical_record_id:str}",
        summary="Delete a medical record (owners and members)",
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def delete_medical_record(self, medical_record_id: PathId, claims: Claims, deps: DepsDep) -> None:
        care.delete_medical_record(deps, claims.user_id, medical_record_id)


class CareScheduleController(Controller):
    path = "/v1/care-schedules"
    tags: ClassVar[list[str]] = ["Health and care"]
    security = BEARER

    @get(
        "/{schedule_id:str}",
        summary="One care schedule",
        responses=problem_responses(304, 404),
        sync_to_thread=True,
    )
    def get_care_schedule(
        self,
        request: Request[Any, Any, Any],
        schedule_id: PathId,
        claims: Claims,
        deps: DepsDep,
        fields: Fields = None,
    ) -> Response[CareScheduleOut]:
        schedule = care.get_care_schedule(deps, claims.user_id, schedule_id)
        return represent(request, CareScheduleOut.from_schedule(schedule), schedule.version, fields)

    @patch(
        "/{schedule_id:str}",
        summary="Change a care schedule (owners and members)",
        description="Send only what changes. Stale If-Match: 412.",
        responses=problem_responses(403, 404, 409, 412),
        sync_to_thread=True,
    )
    def update_care_schedule(
        self,
        request: Request[Any, Any, Any],
        schedule_id: PathId,
        data: JSONBody[CareSchedulePatch],
        claims: Claims,
        deps: DepsDep,
        if_match: IfMatch = None,
    ) -> Response[CareScheduleOut]:
        version = expected_version(if_match)
        schedule = care.update_care_schedule(deps, claims.user_id, schedule_id, data.changes(), version)
        return represent(request, CareScheduleOut.from_schedule(schedule), schedule.version)

    @delete(
        "/{schedule_id:str}",
        summary="Delete a care schedule and its completions (owners and members)",
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def delete_care_schedule(self, schedule_id: PathId, claims: Claims, deps: DepsDep) -> None:
        care.delete_care_schedule(deps, claims.user_id, schedule_id)


class CareTaskController(Controller):
    path = "/v1/care-tasks"
    tags: ClassVar[list[str]] = ["Health and care"]
    security = BEARER

    @post(
        "/{schedule_id:str}/{occurrence:str}/complete",
        summary="Complete a care task (owners and members)",
        description="Records who completed the occurrence and when. Completing it again answers the "
        "first completion. An occurrence the rule does not generate: 404; one starting more than "
        "24 hours from now: 422.",
        status_code=200,
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def complete_care_task(
        self, schedule_id: PathId, occurrence: Occurrence, claims: Claims, deps: DepsDep
    ) -> CareTaskOut:
        task, _ = care.complete_care_task(deps, claims.user_id, schedule_id, occurrence)
        return CareTaskOut.from_task(task)
