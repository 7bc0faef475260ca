"""Pet queries for the async read side: the same answers and refusals as `usecases.pets`.

`get_pet` and `list_pets` run in a unit of work; these run on a `PetReader`, which an adapter
may answer in one round trip. Authorization is the same policy call with the same messages.
"""

from __future__ import annotations

from uuid import UUID

from tailtracker_core.errors import AuthenticationFailed
from tailtracker_core.model.pets import Pet, Species
from tailtracker_core.model.roles import Action, Role
from tailtracker_core.policy import require
from tailtracker_core.ports import AccessClaims, PetReader, SessionReader, TokenSigner, UnitOfWork

__all__ = ["authenticate_async", "family_pets_in", "pet_with_role_in", "read_pet", "read_pets"]


async def read_pet(reader: PetReader, actor: UUID, pet_id: UUID) -> Pet:
    """As `pets.get_pet`: NotFound("pet not found") unless the actor may read it."""
    found = await reader.pet_with_role(actor, pet_id)
    require(found[1] if found else None, Action.READ, "pet")
    assert found is not None
    return found[0]


async def read_pets(
    reader: PetReader,
    actor: UUID,
    family_id: UUID | None,
    species: Species | None,
    after: UUID | None,
    limit: int,
) -> list[Pet]:
    """As `pets.list_pets`: one family's pets (NotFound("family not found") for an outsider),
    or the pets of every family the actor belongs to."""
    role, page = await reader.family_pets(actor, family_id, species, after, limit)
    if family_id is not None:
        require(role, Action.READ, "family")
    return page


async def authenticate_async(signer: TokenSigner, sessions: SessionReader, access_token: str) -> AccessClaims:
    """As `accounts.authenticate`: the claims of a valid access token whose session is open."""
    claims = signer.decode_access(access_token)
    session = await sessions.get(claims.session_id)
    if session is None or session.user_id != claims.user_id:
        raise AuthenticationFailed("this session has ended; sign in again")
    return claims


# --- PetReader answers from a unit of work's repositories (for adapters without a faster path)


def pet_with_role_in(uow: UnitOfWork, actor: UUID, pet_id: UUID) -> tuple[Pet, Role | None] | None:
    """`PetReader.pet_with_role`, from the sync repositories."""
    pet = uow.pets.get(pet_id)
    if pet is None:
        return None
    return pet, uow.families.role_of(pet.family_id, actor)


def family_pets_in(
    uow: UnitOfWork,
    actor: UUID,
    family_id: UUID | None,
    species: Species | None,
    after: UUID | None,
    limit: int,
) -> tuple[Role | None, list[Pet]]:
    """`PetReader.family_pets`, from the sync repositories."""
    if family_id is None:
        family_ids = list(uow.families.roles_of(actor))
        return None, uow.pets.list(family_ids, species, after, limit) if family_ids else []
    role = uow.families.role_of(family_id, actor)
    if role is None:
        return None, []
    return role, uow.pets.list([family_id], species, after, limit)
