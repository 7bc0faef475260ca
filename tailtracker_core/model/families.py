"""Families (sharing groups), their members and invitations."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from attrs import define, frozen

from tailtracker_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tailtracker_core.model.roles import Role
from tailtracker_core.model.text import check_text

__all__ = ["Family", "Invitation", "InvitationState", "Membership", "check_family_name"]


def check_family_name(name: str) -> str:
    return check_text(name, "name", 100)


@frozen
class Membership:
    family_id: UUID
    user_id: UUID
    role: Role
    joined_at: datetime


@define
class Family:
    """A sharing group. It always keeps at least one owner."""

    id: UUID
    name: str
    created_at: datetime
    members: dict[UUID, Membership]
    version: int = 1

    @classmethod
    def found(cls, family_id: UUID, name: str, owner_id: UUID, now: datetime) -> Family:
        owner = Membership(family_id, owner_id, Role.OWNER, now)
        return cls(family_id, check_family_name(name), now, {owner_id: owner})

    def role_of(self, user_id: UUID) -> Role | None:
        m = self.members.get(user_id)
        return m.role if m else None

    @property
    def owners(self) -> list[UUID]:
        return [m.user_id for m in self.members.values() if m.role is Role.OWNER]

    def rename(self, name: str) -> None:
        self.name = check_family_name(name)
        self.version += 1

    def join(self, user_id: UUID, role: Role, now: datetime) -> Membership:
        if user_id in self.members:
            raise Conflict("already a member of this family")
        m = Membership(self.id, user_id, role, now)
        self.members[user_id] = m
        return m

    def change_role(self, user_id: UUID, role: Role) -> Membership:
        current = self._member(user_id)
        if current.role is Role.OWNER and role is not Role.OWNER and self.owners == [user_id]:
            raise Conflict("the last owner cannot be demoted; make someone else owner first")
        changed = Membership(self.id, user_id, role, current.joined_at)
        self.members[user_id] = changed
        return changed

    def remove(self, user_id: UUID) -> None:
        m = self._member(user_id)
        if m.role is Role.OWNER and self.owners == [user_id]:
            raise Conflict("the last owner cannot be removed; make someone else owner first")
        del self.members[user_id]

    def leave(self, user_id: UUID) -> None:
        m = self._member(user_id)
        if m.role is Role.OWNER and self.owners == [user_id]:
            raise Conflict("the last owner cannot leave; make someone else owner or delete the family")
        del self.members[user_id]

    def _member(self, user_id: UUID) -> Membership:
        m = self.members.get(user_id)
        if m is None:
            raise NotFound("no such member in this family")
        return m


class InvitationState:
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


@define
class Invitation:
    """Bound to an email, single use, expiring, revocable. Only a hash of its token is kept."""

    id: UUID
    family_id: UUID
    email: str
    role: Role
    token_hash: str
    invited_by: UUID
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by: UUID | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        invitation_id: UUID,
        family_id: UUID,
        email: str,
        role: Role,
        token_hash: str,
        invited_by: UUID,
        now: datetime,
        ttl: timedelta,
    ) -> Invitation:
        if role is Role.OWNER:
            # Owners are made by changing the role of an existing member, on purpose.
            raise ValidationFailed.single("role", "invite as member or viewer; promote to owner later")
        return cls(invitation_id, family_id, email, role, token_hash, invited_by, now, now + ttl)

    def state(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if now >= self.expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    def accept(self, user_id: UUID, user_email_key: str, now: datetime) -> None:
        state = self.state(now)
        if state != InvitationState.PENDING:
            raise Conflict(f"this invitation is {state}")
        if user_email_key != self.email.strip().lower():
            raise Forbidden("this invitation was sent to another email address")
        self.accepted_at = now
        self.accepted_by = user_id

    def revoke(self, now: datetime) -> None:
        state = self.state(now)
        if state != InvitationState.PENDING:
            raise Conflict(f"this invitation is {state}")
        self.revoked_at = now
