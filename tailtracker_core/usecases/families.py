"""Families: create, read, rename, delete; members, roles and invitations."""

from __future__ import annotations

from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import Conflict, NotFound, PreconditionFailed, TierLimitExceeded
from tailtracker_core.events import (
    FamilyCreated,
    FamilyDeleted,
    InvitationAccepted,
    InvitationCreated,
    InvitationRevoked,
    MemberLeft,
    MemberRemoved,
    MemberRoleChanged,
)
from tailtracker_core.model.accounts import User, check_email, normalise_email
from tailtracker_core.model.families import Family, Invitation, Membership
from tailtracker_core.model.roles import Action, Role
from tailtracker_core.policy import require
from tailtracker_core.ports import InvitationLookup, UnitOfWork
from tailtracker_core.usecases.deps import Deps, hash_token, tier_of_family

__all__ = [
    "IssuedInvitation",
    "MemberView",
    "accept_invitation",
    "change_role",
    "create_family",
    "delete_family",
    "get_family",
    "invite",
    "list_families",
    "list_members",
    "preview_invitation",
    "remove_member",
    "rename_family",
    "revoke_invitation",
]


def _load(uow: UnitOfWork, family_id: UUID, actor: UUID, action: Action) -> Family:
    family = uow.families.get(family_id)
    require(family.role_of(actor) if family else None, action, "family")
    assert family is not None
    return family


def create_family(deps: Deps, actor: UUID, name: str) -> Family:
    family = Family.found(deps.ids.new_id(), name, actor, deps.clock.now())
    with deps.uow(actor) as uow:
        uow.families.add(family)
        uow.record(FamilyCreated(family.id, actor))
        uow.commit()
    return family


def list_families(deps: Deps, actor: UUID, after: UUID | None, limit: int) -> list[Family]:
    with deps.uow(actor) as uow:
        return uow.families.list_for_user(actor, after, limit)


def get_family(deps: Deps, actor: UUID, family_id: UUID) -> Family:
    with deps.uow(actor) as uow:
        return _load(uow, family_id, actor, Action.READ)


def rename_family(
    deps: Deps, actor: UUID, family_id: UUID, name: str, expected_version: int | None = None
) -> Family:
    with deps.uow(actor) as uow:
        family = _load(uow, family_id, actor, Action.MANAGE)
        if expected_version is not None and expected_version != family.version:
            raise PreconditionFailed("the family changed since you read it; read it again")
        family.rename(name)
        uow.families.save(family)
        uow.commit()
    return family


def delete_family(deps: Deps, actor: UUID, family_id: UUID) -> None:
    """Deletes the family with its pets, memberships and invitations."""
    with deps.uow(actor) as uow:
        _load(uow, family_id, actor, Action.MANAGE)
        uow.families.delete(family_id)
        uow.record(FamilyDeleted(family_id, actor))
        uow.commit()


@frozen
class MemberView:
    membership: Membership
    user: User


def list_members(deps: Deps, actor: UUID, family_id: UUID) -> list[MemberView]:
    with deps.uow(actor) as uow:
        family = _load(uow, family_id, actor, Action.READ)
        users = {u.id: u for u in uow.users.get_many(list(family.members))}
    members = sorted(family.members.values(), key=lambda m: (m.joined_at, m.user_id))
    return [MemberView(m, users[m.user_id]) for m in members if m.user_id in users]


def change_role(deps: Deps, actor: UUID, family_id: UUID, user_id: UUID, role: Role) -> Membership:
    with deps.uow(actor) as uow:
        uow.families.lock(family_id)
        family = _load(uow, family_id, actor, Action.MANAGE)
        membership = family.change_role(user_id, role)
        family.version += 1
        uow.families.save(family)
        uow.record(MemberRoleChanged(family_id, user_id, role.value, actor))
        uow.commit()
    return membership


def remove_member(deps: Deps, actor: UUID, family_id: UUID, user_id: UUID) -> None:
    """An owner removes someone; anyone removing themself leaves."""
    with deps.uow(actor) as uow:
        uow.families.lock(family_id)
        if user_id == actor:
            family = _load(uow, family_id, actor, Action.READ)
            family.leave(actor)
            uow.record(MemberLeft(family_id, actor))
        else:
            family = _load(uow, family_id, actor, Action.MANAGE)
            family.remove(user_id)
            uow.record(MemberRemoved(family_id, user_id, actor))
        family.version += 1
        uow.families.save(family)
        uow.commit()


@frozen
class IssuedInvitation:
    invitation: Invitation
    token: str


def invite(deps: Deps, actor: UUID, family_id: UUID, email: str, role: Role) -> IssuedInvitation:
    email = check_email(email)
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        uow.families.lock(family_id)
        family = _load(uow, family_id, actor, Action.MANAGE)
        members = uow.users.get_many(list(family.members))
        if any(u.email_key == normalise_email(email) for u in members):
            raise Conflict("this person is already a member of the family")
        tier, limits = tier_of_family(uow, deps, family.owners)
        if len(family.members) >= limits.members_per_family:
            raise TierLimitExceeded("members per family", limits.members_per_family, tier.value)
        token = deps.ids.new_token()
        invitation = Invitation.issue(
            deps.ids.new_id(),
            family_id,
            email,
            role,
            hash_token(token),
            actor,
            now,
            deps.config.invitation_ttl,
        )
        inviter = next(u for u in members if u.id == actor)
        uow.invitations.add(invitation)
        uow.record(
            InvitationCreated(
                invitation.id,
                family.id,
                family.name,
                email,
                role.value,
                inviter.display_name,
                inviter.locale,
                token,
                invitation.expires_at,
            )
        )
        uow.commit()
    return IssuedInvitation(invitation, token)


def preview_invitation(deps: Deps, token: str) -> tuple[InvitationLookup, str]:
    """What an invitation offers and its state, for whoever holds its token."""
    with deps.uow(None) as uow:
        found = uow.invitations.find_by_token_hash(hash_token(token))
    if found is None:
        raise NotFound("invitation not found")
    return found, found.invitation.state(deps.clock.now())


def accept_invitation(deps: Deps, actor: UUID, token: str) -> Membership:
    """Join the family. The membership goes in first, so that the family becomes visible
    under row-level security, then the member limit is checked under the family's lock."""
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        found = uow.invitations.find_by_token_hash(hash_token(token))
        user = uow.users.get(actor)
        if found is None or user is None:
            raise NotFound("invitation not found")
        invitation = found.invitation
        invitation.accept(actor, user.email_key, now)
        uow.invitations.save(invitation)
        membership = Membership(invitation.family_id, actor, invitation.role, now)
        uow.families.add_member(membership)
        uow.families.lock(invitation.family_id)
        family = uow.families.get(invitation.family_id)
        if family is None:
            raise NotFound("the family of this invitation no longer exists")
        tier, limits = tier_of_family(uow, deps, family.owners)
        if len(family.members) > limits.members_per_family:
            raise TierLimitExceeded("members per family", limits.members_per_family, tier.value)
        uow.record(InvitationAccepted(invitation.id, family.id, actor))
        uow.commit()
    return membership


def revoke_invitation(deps: Deps, actor: UUID, family_id: UUID, invitation_id: UUID) -> None:
    with deps.uow(actor) as uow:
        _load(uow, family_id, actor, Action.MANAGE)
        invitation = uow.invitations.get(invitation_id)
        if invitation is None or invitation.family_id != family_id:
            raise NotFound("invitation not found")
        invitation.revoke(deps.clock.now())
        uow.invitations.save(invitation)
        uow.record(InvitationRevoked(invitation.id, family_id))
        uow.commit()
