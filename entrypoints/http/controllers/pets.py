"""Pets."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from tailtracker_core.model.pets import Species
from tailtracker_core.usecases import pet_queries, pets
from tailtracker_core.usecases.deps import Deps

from ..conventions import expected_version, page_response, paginate_async, represent, select_fields
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
    pet_reader_of,
)
from ..problems import problem_responses
from ..schemas.pets import PetIn, PetOut, PetPage, PetPatch

__all__ = ["PetController"]

FamilyFilter = Annotated[UUID | None, QueryParameter(description="Only this family's pets.")]
SpeciesFilter = Annotated[Species | None, QueryParameter()]


class PetController(Controller):
    path = "/v1/pets"
    tags: ClassVar[list[str]] = ["Pets"]
    security = BEARER

    @post(
        "/",
        summary="Add a pet",
        description="Owners and members; past the tier's pets per family it is 403 `tier_limit_exceeded`.",
        status_code=201,
        responses=problem_responses(403, 404, 409),
        sync_to_thread=True,
    )
    def create_pet(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[PetIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PetOut]:
        def produce(deps: Deps) -> Response[PetOut]:
            pet = pets.create_pet(deps, claims.user_id, data.family_id, data.draft())
            location = {"Location": f"/v1/pets/{pet.id}"}
            return represent(request, PetOut.from_pet(pet), pet.version, status_code=201, headers=location)

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    # The two reads run on the event loop against the async read side (container.pet_reader):
    # no thread hop, one database statement for the rows and the caller's role.
    @get("/", summary="Pets of your families", responses=problem_responses(404))
    async def list_pets(
        self,
        request: Request[Any, Any, Any],
        claims: Claims,
        family_id: FamilyFilter = None,
        species: SpeciesFilter = None,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> PetPage:
        select_fields(PetOut, fields)
        reader = pet_reader_of(request)
        rows, next_cursor = await paginate_async(
            lambda after, n: pet_queries.read_pets(reader, claims.user_id, family_id, species, after, n),
            cursor,
            limit,
            lambda p: p.id,
        )
        return page_response(PetPage, PetOut, [PetOut.from_pet(p) for p in rows], next_cursor, fields)

    @get("/{pet_id:str}", summary="One pet", responses=problem_responses(304, 404))
    async def get_pet(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        claims: Claims,
        fields: Fields = None,
    ) -> Response[PetOut]:
        pet = await pet_queries.read_pet(pet_reader_of(request), claims.user_id, pet_id)
        return represent(request, PetOut.from_pet(pet), pet.version, fields)

    @patch(
        "/{pet_id:str}",
        summary="Change a pet (owners and members)",
        description="Send only what changes; `null` clears an optional field. Stale If-Match: 412.",
        responses=problem_responses(403, 404, 412),
        sync_to_thread=True,
    )
    def update_pet(
        self,
        request: Request[Any, Any, Any],
        pet_id: PathId,
        data: JSONBody[PetPatch],
        claims: Claims,
        deps: DepsDep,
        if_match: IfMatch = None,
    ) -> Response[PetOut]:
        version = expected_version(if_match)
        pet = pets.update_pet(deps, claims.user_id, pet_id, data.changes(), version)
        return represent(request, PetOut.from_pet(pet), pet.version)

    @delete(
        "/{pet_id:str}",
        summary="Delete a pet (owners)",
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def delete_pet(self, pet_id: PathId, claims: Claims, deps: DepsDep) -> None:
        pets.delete_pet(deps, claims.user_id, pet_id)
