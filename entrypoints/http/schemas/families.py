"""Families, members and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from tailtracker_core.model.families import Family, Invitation
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import InvitationLookup
from tailtracker_core.usecases.families import MemberView

from . import utc

__all__ = [
    "FamilyIn",
    "FamilyOut",
    "FamilyPage",
    "FamilyPatch",
    "InvitationCreated",
    "InvitationIn",
    "InvitationPreview",
    "MemberOut",
    "MemberPage",
    "RolePatch",
]

FamilyName = Annotated[str, Meta(min_length=1, max_length=100, examples=["The Smiths"])]


class FamilyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: FamilyName


class FamilyPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: FamilyName


class FamilyOut(msgspec.Struct):
    id: UUID
    name: str
    role: Annotated[Role, Meta(description="The caller's role in this family.")]
    member_count: int
    created_at: datetime

    @classmethod
    def for_member(cls, family: Family, user_id: UUID) -> FamilyOut:
        role = family.role_of(user_id)
        assert role is not None  # the use cases only return families the caller belongs to
        return cls(family.id, family.name, role, len(family.members), utc(family.created_at))


class FamilyPage(msgspec.Struct):
    items: list[FamilyOut]
    next_cursor: str | None


class MemberOut(msgspec.Struct):
    user_id: UUID
    display_name: str
    email: str
    role: Role
    joined_at: datetime

    @classmethod
    def from_view(cls, view: MemberView) -> MemberOut:
        m, u = view.membership, view.user
        return cls(m.user_id, u.display_name, u.email, m.role, utc(m.joined_at))


class MemberPage(msgspec.Struct):
    items: list[MemberOut]
    next_cursor: str | None


class RolePatch(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, Meta(min_length=3, max_length=254)]
    role: Annotated[Role, Meta(description="member or viewer (owners are made by promotion).")] = Role.MEMBER


class InvitationCreated(msgspec.Struct):
    id: UUID
    token: Annotated[str, Meta(description="Shown once: the secret the invitee's link carries.")]
    expires_at: datetime
    email: str
    role: Role

    @classmethod
    def from_invitation(cls, invitation: Invitation, token: str) -> InvitationCreated:
        return cls(invitation.id, token, utc(invitation.expires_at), invitation.email, invitation.role)


class InvitationPreview(msgspec.Struct):
    id: UUID
    family_name: str
    inviter_name: str
    email: str
    role: Role
    status: Annotated[str, Meta(description="pending, accepted, revoked or expired.")]
    expires_at: datetime

    @classmethod
    def from_lookup(cls, found: InvitationLookup, status: str) -> InvitationPreview:
        i = found.invitation
        return cls(i.id, found.family_name, found.inviter_name, i.email, i.role, status, utc(i.expires_at))
