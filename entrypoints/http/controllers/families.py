"""Families and their members."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody

from tailtracker_core.errors import NotFound
from tailtracker_core.usecases import families
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
)
from ..problems import problem_responses
from ..schemas.families import FamilyIn, FamilyOut, FamilyPage, FamilyPatch, MemberOut, MemberPage, RolePatch

__all__ = ["FamilyController"]


class FamilyController(Controller):
    path = "/v1/families"
    tags: ClassVar[list[str]] = ["Families"]
    security = BEARER

    @post(
        "/",
        summary="Create a family",
        status_code=201,
        responses=problem_responses(409),
        sync_to_thread=True,
    )
    def create_family(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[FamilyIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[FamilyOut]:
        def produce(deps: Deps) -> Response[FamilyOut]:
            family = families.create_family(deps, claims.user_id, data.name)
            out = FamilyOut.for_member(family, claims.user_id)
            location = {"Location": f"/v1/families/{family.id}"}
            return represent(request, out, family.version, status_code=201, headers=location)

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    @get("/", summary="Your families", responses=problem_responses(), sync_to_thread=True)
    def list_families(
        self,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> FamilyPage:
        select_fields(FamilyOut, fields)
        rows, next_cursor = paginate(
            lambda after, n: families.list_families(deps, claims.user_id, after, n),
            cursor,
            limit,
            lambda f: f.id,
        )
        items = [FamilyOut.for_member(f, claims.user_id) for f in rows]
        return page_response(FamilyPage, FamilyOut, items, next_cursor, fields)

    @get("/{family_id:str}", summary="One family", responses=problem_responses(304, 404), sync_to_thread=True)
    def get_family(
        self,
        request: Request[Any, Any, Any],
        family_id: PathId,
        claims: Claims,
        deps: DepsDep,
        fields: Fields = None,
    ) -> Response[FamilyOut]:
        family = families.get_family(deps, claims.user_id, family_id)
        return represent(request, FamilyOut.for_member(family, claims.user_id), family.version, fields)

    @patch(
        "/{family_id:str}",
        summary="Rename a family (owners)",
        responses=problem_responses(403, 404, 412),
        sync_to_thread=True,
    )
    def rename_family(
        self,
        request: Request[Any, Any, Any],
        family_id: PathId,
        data: JSONBody[FamilyPatch],
        claims: Claims,
        deps: DepsDep,
        if_match: IfMatch = None,
    ) -> Response[FamilyOut]:
        version = expected_version(if_match)
        family = families.rename_family(deps, claims.user_id, family_id, data.name, version)
        return represent(request, FamilyOut.for_member(family, claims.user_id), family.version)

    @delete(
        "/{family_id:str}",
        summary="Delete a family with its pets (owners)",
        responses=problem_responses(403, 404),
        sync_to_thread=True,
    )
    def delete_family(self, family_id: PathId, claims: Claims, deps: DepsDep) -> None:
        families.delete_family(deps, claims.user_id, family_id)

    @get(
        "/{family_id:str}/members",
        summary="Members of a family",
        description="Oldest member first.",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def list_members(
        self,
        family_id: PathId,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> MemberPage:
        select_fields(MemberOut, fields)
        views = families.list_members(deps, claims.user_id, family_id)
        rows, next_cursor = page_of(views, lambda v: v.membership.user_id, cursor, limit)
        return page_response(
            MemberPage, MemberOut, [MemberOut.from_view(v) for v in rows], next_cursor, fields
        )

    @patch(
        "/{family_id:str}/members/{user_id:str}",
        summary="Change a member's role (owners)",
        description="The last owner cannot be demoted (409).",
        responses=problem_responses(403, 404, 409),
        sync_to_thread=True,
    )
    def change_role(
        self, family_id: PathId, user_id: PathId, data: JSONBody[RolePatch], claims: Claims, deps: DepsDep
    ) -> MemberOut:
        families.change_role(deps, claims.user_id, family_id, user_id, data.role)
        views = families.list_members(deps, claims.user_id, family_id)
        view = next((v for v in views if v.membership.user_id == user_id), None)
        if view is None:  # removed between the two calls
            raise NotFound("no such member in this family")
        return MemberOut.from_view(view)

    @delete(
        "/{family_id:str}/members/{user_id:str}",
        summary="Remove a member (owners), or leave (your own id)",
        description="The last owner can neither leave nor be removed (409).",
        responses=problem_responses(403, 404, 409),
        sync_to_thread=True,
    )
    def remove_member(self, family_id: PathId, user_id: PathId, claims: Claims, deps: DepsDep) -> None:
        families.remove_member(deps, claims.user_id, family_id, user_id)
