"""The read side of pets over the in-process store (the embedded default's `memory://`)."""

from __future__ import annotations

from uuid import UUID

from adapters.memory.uow import MemoryStore
from tailtracker_core.model.pets import Pet, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.usecases.pet_queries import family_pets_in, pet_with_role_in

__all__ = ["MemoryPetReader"]


class MemoryPetReader:
    """Implements PetReader: a unit of work over the store, inline (no I/O, nothing to wait
    for), so it sees exactly what the sync repositories see."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def pet_with_role(self, actor: UUID, pet_id: UUID) -> tuple[Pet, Role | None] | None:
        with self._store.uow_factory(actor) as uow:
            return pet_with_role_in(uow, actor, pet_id)

    async def family_pets(
        self, actor: UUID, family_id: UUID | None, species: Species | None, after: UUID | None, limit: int
    ) -> tuple[Role | None, list[Pet]]:
        with self._store.uow_factory(actor) as uow:
            return family_pets_in(uow, actor, family_id, species, after, limit)

    async def close(self) -> None:
        return None
