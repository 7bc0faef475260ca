"""The read side of care tasks: `CareTaskReader` adapters for `GET /v1/pets/{id}/care-tasks`.

- `AsyncpgCareTaskReader` (PostgreSQL): asyncpg, as the app role, under row-level security,
  on the pet read side's pool (`AsyncpgPetReader`): `BEGIN` + `set_config` in one round trip,
  ONE statement (the caller's role, the pet's schedules and their completions in the window,
  as two arrays of rows), `COMMIT`. A non-member gets no row even if the policy check in the
  core were skipped.
- `ThreadedCareTaskReader` (SQLite, and a generic fallback): the unit of work's sync
  repositories in a worker thread, reading what `care.list_care_tasks` reads.

The expansion into tasks stays in the core (`usecases.care_queries`); see docs/decisions.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from adapters.sql.reads import AsyncpgPetReader, plain_uuid
from tailtracker_core.model.care import CareCompletion, CareKind, CareSchedule
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import CareTaskReader, CareTaskSource, UnitOfWork
from tailtracker_core.usecases.care_queries import care_source_in

__all__ = [
    "CARE_SOURCE",
    "AsyncpgCareTaskReader",
    "ThreadedCareTaskReader",
    "care_source_from_record",
    "care_task_reader_for",
]

# $1 pet, $2 actor, $3 start, $4 end. No row: the pet is not visible (RLS: not a member).
# Schedules by id and completions by (occurs_at, key), the orders of the sync repositories;
# the completions through the schedules' index (ix_care_completions_schedule_occurs).
CARE_SOURCE = (
    "SELECT (SELECT m.role FROM memberships m WHERE m.family_id = p.family_id AND m.user_id = $2) AS role,"
    " ARRAY(SELECT ROW(s.id, s.kind, s.title, s.rrule, s.dtstart, s.timezone, s.notes, s.version)"
    "  FROM care_schedules s WHERE s.pet_id = p.id ORDER BY s.id) AS schedules,"
    " ARRAY(SELECT ROW(c.schedule_id, c.occurrence_key, c.completed_by, c.completed_at, c.occurs_at)"
    "  FROM care_schedules s JOIN care_completions c ON c.schedule_id = s.id"
    "  WHERE s.pet_id = p.id AND c.occurs_at >= $3 AND c.occurs_at < $4"
    "  ORDER BY c.occurs_at, c.occurrence_key) AS completions"
    " FROM pets p WHERE p.id = $1"
)

_KINDS = {k.value: k for k in CareKind}


def care_source_from_record(pet_id: UUID, r: Any) -> CareTaskSource:
    """A CareTaskSource from a record of `CARE_SOURCE`, by the rules of `care.schedule_from`
    and `care.completion_from` (a contract test checks that they agree). Stored rules were
    checked when written: rebuilt as they are, without validation."""
    role = r["role"]
    if role is None:  # visible, but not through a membership (e.g. the owner role): nothing
        return CareTaskSource(None, [], [])
    schedules = [
        CareSchedule(
            id=plain_uuid(sid),
            pet_id=pet_id,
            kind=_KINDS[kind],
            title=title,
            rrule=rule,
            dtstart=dtstart,
            timezone=tz,
            notes=notes,
            version=version,
        )
        for sid, kind, title, rule, dtstart, tz, notes, version in r["schedules"]
    ]
    completions = [
        CareCompletion(
            schedule_id=plain_uuid(sid),
            occurrence_key=key,
            completed_by=plain_uuid(by),
            completed_at=at,
            occurs_at=occurs,
        )
        for sid, key, by, at, occurs in r["completions"]
    ]
    return CareTaskSource(Role(role), schedules, completions)


class AsyncpgCareTaskReader:
    """Implements CareTaskReader on PostgreSQL with asyncpg, as the app role (RLS applies).

    Shares the pet reader's pool when given one (the process keeps one asyncpg pool for the
    read side; that reader closes it); given a URL, it makes and closes a pool of its own.
    """

    def __init__(self, source: AsyncpgPetReader | str, *, max_size: int = 20) -> None:
        self._owns = isinstance(source, str)
        self._reads = AsyncpgPetReader(source, max_size=max_size) if isinstance(source, str) else source

    async def care_source(
        self, actor: UUID, pet_id: UUID, start: datetime, end: datetime
    ) -> CareTaskSource | None:
        rows = await self._reads.fetch_as(actor, CARE_SOURCE, pet_id, actor, start, end)
        return care_source_from_record(pet_id, rows[0]) if rows else None

    async def close(self) -> None:
        if self._owns:
            await self._reads.close()


class ThreadedCareTaskReader:
    """Implements CareTaskReader over a sync UnitOfWorkFactory, each read in a worker thread.

    For SQLite (whose driver is sync) and any database without an async reader.
    """

    def __init__(self, uow_factory: Callable[[UUID | None], UnitOfWork]) -> None:
        self._uow = uow_factory

    def _care_source(
        self, actor: UUID, pet_id: UUID, start: datetime, end: datetime
    ) -> CareTaskSource | None:
        with self._uow(actor) as uow:
            return care_source_in(uow, actor, pet_id, start, end)

    async def care_source(
        self, actor: UUID, pet_id: UUID, start: datetime, end: datetime
    ) -> CareTaskSource | None:
        return await asyncio.to_thread(self._care_source, actor, pet_id, start, end)

    async def close(self) -> None:
        return None  # the Database owns the engine and disposes of it


def care_task_reader_for(
    url: str, database: Any, pet_reader: Any = None, *, max_size: int = 20
) -> CareTaskReader:
    """asyncpg for postgresql:// (on `pet_reader`'s pool when it is an AsyncpgPetReader), the
    threaded reader otherwise."""
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme in {"postgresql", "postgres"}:
        if isinstance(pet_reader, AsyncpgPetReader):
            return AsyncpgCareTaskReader(pet_reader)
        return AsyncpgCareTaskReader(url, max_size=max_size)
    return ThreadedCareTaskReader(database.uow_factory)
