"""Invitations: issue and revoke (owners), look up by token (anyone), accept (the invitee)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody, PathParameter

from tailtracker_core.usecases import families
from tailtracker_core.usecases.deps import Deps

from ..conventions import represent
from ..idempotency import idempotent
from ..identity import BEARER
from ..params import (
    Claims,
    DepsDep,
    Fields,
    IdempotencyKey,
    PathId,
)
from ..problems import problem_responses
from ..schemas.families import FamilyOut, InvitationCreated, InvitationIn, InvitationPreview

__all__ = ["FamilyInvitationController", "InvitationController"]

Token = Annotated[
    str, PathParameter(min_length=1, max_length=256, description="The invitation's secret token.")
]


class FamilyInvitationController(Controller):
    path = "/v1/families/{family_id:str}/invitations"
    tags: ClassVar[list[str]] = ["Invitations"]
    security = BEARER

    @post(
        "/",
        summary="Invite someone by email (owners)",
        description="The token is returned once and emailed to the invitee; it expires after 7 days.",
        status_code=201,
        responses=problem_responses(403, 404, 409),
        sync_to_thread=True,
    )
    def invite(
        self,
        request: Request[Any, Any, Any],
        family_id: PathId,
        data: JSONBody[InvitationIn],
        claims: Claims,
        deps: DepsDep,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[InvitationCreated]:
        def produce(deps: Deps) -> Response[InvitationCreated]:
            issued = families.invite(deps, claims.user_id, family_id, data.email, data.role)
            out = InvitationCreated.from_invitation(issued.invitation, issued.token)
            return Response(out, status_code=201)

        return idempotent(deps, request, claims.user_id, idempotency_key, data, produce)

    @delete(
        "/{invitation_id:str}",
        summary="Revoke an invitation (owners)",
        responses=problem_responses(403, 404, 409),
        sync_to_thread=True,
    )
    def revoke(self, family_id: PathId, invitation_id: PathId, claims: Claims, deps: DepsDep) -> None:
        families.revoke_invitation(deps, claims.user_id, family_id, invitation_id)


class InvitationController(Controller):
    path = "/v1/invitations"
    tags: ClassVar[list[str]] = ["Invitations"]

    @get(
        "/{token:str}",
        summary="Look an invitation up by its token",
        description="Public: whoever holds the link sees who invites, to which family, and its state.",
        responses=problem_responses(404, public=True),
        sync_to_thread=True,
    )
    def preview(
        self, request: Request[Any, Any, Any], token: Token, deps: DepsDep, fields: Fields = None
    ) -> Response[InvitationPreview]:
        found, status = families.preview_invitation(deps, token)
        return represent(request, InvitationPreview.from_lookup(found, status), None, fields)

    @post(
        "/{token:str}/accept",
        summary="Accept an invitation",
        description="Needs the invitee signed in with the invited email (403 otherwise). Returns the family.",
        status_code=200,
        security=BEARER,
        responses=problem_responses(403, 404, 409),
        sync_to_thread=True,
    )
    def accept(self, token: Token, claims: Claims, deps: DepsDep) -> FamilyOut:
        membership = families.accept_invitation(deps, claims.user_id, token)
        family = families.get_family(deps, claims.user_id, membership.family_id)
        return FamilyOut.for_member(family, claims.user_id)
