"""The reminder scheduler's cross-family access over the in-memory store (docs/reminders.md).

One memory unit of work holds the store's lock while it is open, so a claim here is exclusive
by construction (what `FOR UPDATE SKIP LOCKED` gives on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from tailtracker_core.model.care import CareCompletion, CareSchedule
from tailtracker_core.model.vaccines import Vaccination
from tailtracker_core.ports import DueDose, DueSchedule, PetAudience

__all__ = ["MemoryReminders"]


def _claim(rows: dict[UUID, Any], before: datetime, limit: int) -> list[tuple[datetime, UUID, Any]]:
    hits = sorted(
        (r.next_fire_at, i, r)
        for i, r in rows.items()
        if r.next_fire_at is not None and r.next_fire_at < before
    )
    return hits[: max(limit, 0)]


class MemoryReminders:
    def __init__(self, d: Any) -> None:  # adapters.memory.uow._Data (the unit of work's copy)
        self.d = d

    def claim_care_schedules(self, before: datetime, limit: int) -> list[DueSchedule]:
        out = []
        for at, _, row in _claim(self.d.care.schedules, before, limit):
            schedule: CareSchedule = row.item
            out.append(DueSchedule(schedule, row.family_id, at))
        return out

    def claim_vaccinations(self, before: datetime, limit: int) -> list[DueDose]:
        out = []
        for at, _, row in _claim(self.d.care.vaccinations, before, limit):
            dose: Vaccination = row.item
            out.append(DueDose(dose, row.family_id, at))
        return out

    def advance_care_schedules(self, cursors: Mapping[UUID, datetime | None]) -> None:
        for row_id, at in cursors.items():
            if (row := self.d.care.schedules.get(row_id)) is not None:
                row.next_fire_at = at

    def advance_vaccinations(self, cursors: Mapping[UUID, datetime | None]) -> None:
        for row_id, at in cursors.items():
            if (row := self.d.care.vaccinations.get(row_id)) is not None:
                row.next_fire_at = at

    def audiences(self, pet_ids: Sequence[UUID]) -> dict[UUID, PetAudience]:
        out = {}
        for pet_id in pet_ids:
            pet = self.d.pets.get(pet_id)
            family = self.d.families.get(pet.family_id) if pet is not None else None
            if pet is None or family is None:
                continue
            members = {m.user_id: m.role for m in family.members.values()}
            out[pet_id] = PetAudience(pet_id, pet.name, family.id, members)
        return out

    def completions(
        self, schedule_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[CareCompletion]:
        wanted = set(schedule_ids)
        hits = [
            c
            for (sid, _), c in self.d.care.completions.items()
            if sid in wanted and c.occurs_at is not None and start <= c.occurs_at < end
        ]
        return sorted(hits, key=lambda c: (c.occurs_at or c.completed_at, c.occurrence_key))
