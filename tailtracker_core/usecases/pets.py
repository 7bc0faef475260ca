"""Pets: create (within the tier's limit), read, list, update, delete."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from attrs import asdict, evolve, frozen

from tailtracker_core.errors import PreconditionFailed, TierLimitExceeded
from tailtracker_core.events import PetCreated, PetDeleted, PetUpdated
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, PetDraft, Sex, Size, Species
from tailtracker_core.model.roles import Action
from tailtracker_core.policy import require
from tailtracker_core.ports import UnitOfWork
from tailtracker_core.usecases.deps import UNSET, Deps, Unset, tier_of_family

__all__ = ["PetChanges", "create_pet", "delete_pet", "get_pet", "list_pets", "update_pet"]


def _load(uow: UnitOfWork, pet_id: UUID, actor: UUID, action: Action) -> Pet:
    pet = uow.pets.get(pet_id)
    require(uow.families.role_of(pet.family_id, actor) if pet else None, action, "pet")
    assert pet is not None
    return pet


def create_pet(deps: Deps, actor: UUID, family_id: UUID, draft: PetDraft) -> Pet:
    now = deps.clock.now()
    pet = Pet.create(deps.ids.new_id(), family_id, draft, now)
    with deps.uow(actor) as uow:
        uow.families.lock(family_id)
        family = uow.families.get(family_id)
        require(family.role_of(actor) if family else None, Action.EDIT, "family")
        assert family is not None
        tier, limits = tier_of_family(uow, deps, family.owners)
        if uow.pets.count_in_family(family_id) >= limits.pets_per_family:
            raise TierLimitExceeded("pets per family", limits.pets_per_family, tier.value)
        uow.pets.add(pet)
        uow.record(PetCreated(pet.id, family_id))
        uow.commit()
    return pet


def get_pet(deps: Deps, actor: UUID, pet_id: UUID) -> Pet:
    with deps.uow(actor) as uow:
        return _load(uow, pet_id, actor, Action.READ)


def list_pets(
    deps: Deps,
    actor: UUID,
    family_id: UUID | None,
    species: Species | None,
    after: UUID | None,
    limit: int,
) -> list[Pet]:
    """Pets of one family, or of every family the actor belongs to."""
    with deps.uow(actor) as uow:
        if family_id is not None:
            require(uow.families.role_of(family_id, actor), Action.READ, "family")
            family_ids = [family_id]
        else:
            family_ids = list(uow.families.roles_of(actor))
        if not family_ids:
            return []
        return uow.pets.list(family_ids, species, after, limit)


@frozen
class PetChanges:
    name: str | Unset = UNSET
    species: Species | Unset = UNSET
    sex: Sex | Unset = UNSET
    breed: str | Unset | None = UNSET
    birth_date: date | Unset | None = UNSET
    colors: list[str] | Unset = UNSET
    size: Size | Unset | None = UNSET
    weight_kg: float | Unset | None = UNSET
    microchip: Microchip | Unset | None = UNSET
    neutered: bool | Unset | None = UNSET
    notes: str | Unset | None = UNSET

    def applied_to(self, draft: PetDraft) -> PetDraft:
        given = {k: v for k, v in asdict(self, recurse=False).items() if not isinstance(v, Unset)}
        return evolve(draft, **given)


def update_pet(
    deps: Deps, actor: UUID, pet_id: UUID, changes: PetChanges, expected_version: int | None = None
) -> Pet:
    with deps.uow(actor) as uow:
        pet = _load(uow, pet_id, actor, Action.EDIT)
        if expected_version is not None and expected_version != pet.version:
            raise PreconditionFailed("the pet changed since you read it; read it again")
        pet.apply(changes.applied_to(pet.draft()), deps.clock.now())
        uow.pets.save(pet)
        uow.record(PetUpdated(pet.id, pet.family_id))
        uow.commit()
    return pet


def delete_pet(deps: Deps, actor: UUID, pet_id: UUID) -> None:
    with deps.uow(actor) as uow:
        pet = _load(uow, pet_id, actor, Action.MANAGE)
        uow.pets.delete(pet.id)
        uow.record(PetDeleted(pet.id, pet.family_id))
        uow.commit()
