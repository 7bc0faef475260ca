"""The read side of care tasks over the in-process store (the embedded default's `memory://`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from adapters.memory.uow import MemoryStore
from tailtracker_core.ports import CareTaskSource
from tailtracker_core.usecases.care_queries import care_source_in

__all__ = ["MemoryCareTaskReader"]


class MemoryCareTaskReader:
    """Implements CareTaskReader: a unit of work over the store, inline (no I/O, nothing to
    wait for), so it sees exactly what the sync repositories see."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def care_source(
        self, actor: UUID, pet_id: UUID, start: datetime, end: datetime
    ) -> CareTaskSource | None:
        with self._store.uow_factory(actor) as uow:
            return care_source_in(uow, actor, pet_id, start, end)

    async def close(self) -> None:
        return None
