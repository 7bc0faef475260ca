"""Care-task queries for the async read side: the same answers and refusals as
`care.list_care_tasks` and the care-tasks endpoint's pages.

`care.list_care_tasks` reads a pet's schedules and completions in a unit of work; this reads
them from a `CareTaskReader`, which an adapter may answer in one round trip. The policy call,
the expansion (`tasks_of`) and the paging (`page_of_tasks`) are the same functions for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from tailtracker_core.model.care import check_range
from tailtracker_core.model.roles import Action
from tailtracker_core.policy import require
from tailtracker_core.ports import CareTaskReader, CareTaskSource, UnitOfWork
from tailtracker_core.usecases.care import CareTask, tasks_of

__all__ = ["TaskCursor", "care_source_in", "page_of_tasks", "read_care_tasks"]

TaskCursor = tuple[datetime, str]  # (starts_at, key) of the last task of the previous page


def page_of_tasks(
    tasks: Sequence[CareTask], after: TaskCursor | None, limit: int
) -> tuple[list[CareTask], bool]:
    """The tasks after the cursor, at most `limit`, and whether more follow."""
    if after is not None:
        tasks = [t for t in tasks if (t.occurrence.starts_at, t.occurrence.key) > after]
    return list(tasks[:limit]), len(tasks) > limit


async def read_care_tasks(
    reader: CareTaskReader,
    actor: UUID,
    pet_id: UUID,
    start: datetime,
    end: datetime,
    after: TaskCursor | None,
    limit: int,
) -> tuple[list[CareTask], bool]:
    """A page of `care.list_care_tasks` (ValidationFailed for a bad range, NotFound("pet not
    found") unless the actor may read the pet): the tasks after `after`, at most `limit`, and
    whether more follow.

    A cursor inside the window narrows the expansion to [cursor's start, end): every task it
    keeps starts there or later. Completions are still read for the whole window, as the use
    case reads them (a revised schedule's completion may be stored under another instant)."""
    check_range(start, end)
    lo = min(max(start, after[0]), end) if after is not None else start
    found = await reader.care_source(actor, pet_id, start, end)
    require(found.role if found else None, Action.READ, "pet")
    assert found is not None
    return page_of_tasks(tasks_of(found.schedules, found.completions, lo, end), after, limit)


# --- CareTaskReader answers from a unit of work's repositories (for adapters without a faster path)


def care_source_in(
    uow: UnitOfWork, actor: UUID, pet_id: UUID, start: datetime, end: datetime
) -> CareTaskSource | None:
    """`CareTaskReader.care_source`, from the sync repositories (what `care.list_care_tasks` reads)."""
    pet = uow.pets.get(pet_id)
    if pet is None:
        return None
    role = uow.families.role_of(pet.family_id, actor)
    if role is None:
        return CareTaskSource(None, [], [])
    schedules = uow.care_schedules.for_pet(pet.id)
    done = uow.care_schedules.completions([s.id for s in schedules], start, end) if schedules else []
    return CareTaskSource(role, schedules, done)
