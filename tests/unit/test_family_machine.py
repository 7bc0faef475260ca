"""A stateful model of one family: whatever sequence of invites, accepts, role changes,
removals and departures happens, the role matrix holds and the family keeps an owner."""

from __future__ import annotations

from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule

from tailtracker_core.errors import Conflict, Forbidden, NotFound, TierLimitExceeded
from tailtracker_core.model.roles import Role
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tailtracker_core.usecases import families
from tests.unit.support import add_user, memory_deps

USERS = 5
person = st.integers(0, USERS - 1)
invitable = st.sampled_from([Role.MEMBER, Role.VIEWER])


class FamilyMachine(RuleBasedStateMachine):
    invitations = Bundle("invitations")

    @initialize(tier=st.sampled_from([Tier.FREE, Tier.PREMIUM]))
    def setup(self, tier: Tier) -> None:
        self.deps, self.store, self.clock = memory_deps()
        self.users = [add_user(self.deps, f"user{i}@example.org") for i in range(USERS)]
        founder = self.users[0]
        if tier is not Tier.FREE:
            with self.deps.uow(founder.id) as uow:
                uow.subscriptions.add(
                    Subscription(self.deps.ids.new_id(), founder.id, tier, SubscriptionStatus.ACTIVE, None)
                )
                uow.commit()
        self.family = families.create_family(self.deps, founder.id, "The Pack")
        self.model: dict[UUID, Role] = {founder.id: Role.OWNER}
        self.subscribed_owner = founder.id if tier is not Tier.FREE else None
        self.tier = tier

    def limit(self) -> int:
        # The family's tier follows its owners: the subscriber's tier counts only while an owner.
        owners = [u for u, r in self.model.items() if r is Role.OWNER]
        tier = self.tier if self.subscribed_owner in owners else Tier.FREE
        return self.deps.config.tiers[tier].members_per_family

    @rule(target=invitations, actor=person, invitee=person, role=invitable)
    def invite(self, actor: int, invitee: int, role: Role):
        a, b = self.users[actor], self.users[invitee]
        expected: type[Exception] | None = None
        if a.id not in self.model:
            expected = NotFound
        elif self.model[a.id] is not Role.OWNER:
            expected = Forbidden
        elif b.id in self.model:
            expected = Conflict
        elif len(self.model) >= self.limit():
            expected = TierLimitExceeded
        try:
            issued = families.invite(self.deps, a.id, self.family.id, b.email, role)
        except Exception as exc:
            assert expected is not None and isinstance(exc, expected), (exc, expected)
            return None
        assert expected is None
        return (issued.token, invitee, role)

    @rule(invitation=consumes(invitations), who=person)
    def accept(self, invitation, who: int) -> None:
        if invitation is None:
            return
        token, invitee, role = invitation
        user = self.users[who]
        try:
            families.accept_invitation(self.deps, user.id, token)
        except Forbidden:
            assert who != invitee  # only the invited address may accept
            return
        except TierLimitExceeded:
            assert len(self.model) >= self.limit()
            return
        except Conflict:
            assert user.id in self.model
            return
        assert who == invitee and user.id not in self.model
        assert len(self.model) < self.limit()
        self.model[user.id] = role

    @rule(actor=person, other=person, role=st.sampled_from(list(Role)))
    def change_role(self, actor: int, other: int, role: Role) -> None:
        a, t = self.users[actor].id, self.users[other].id
        try:
            families.change_role(self.deps, a, self.family.id, t, role)
        except NotFound:
            assert a not in self.model or t not in self.model
            return
        except Forbidden:
            assert self.model[a] is not Role.OWNER
            return
        except Conflict:
            owners = [u for u, r in self.model.items() if r is Role.OWNER]
            assert owners == [t] and role is not Role.OWNER
            return
        assert self.model[a] is Role.OWNER
        self.model[t] = role

    @rule(actor=person, other=person)
    def remove(self, actor: int, other: int) -> None:
        a, t = self.users[actor].id, self.users[other].id
        try:
            families.remove_member(self.deps, a, self.family.id, t)
        except NotFound:
            assert a not in self.model or t not in self.model
            return
        except Forbidden:
            assert a != t and self.model[a] is not Role.OWNER
            return
        except Conflict:
            owners = [u for u, r in self.model.items() if r is Role.OWNER]
            assert owners == [t]
            return
        assert a == t or self.model[a] is Role.OWNER
        del self.model[t]

    @invariant()
    def family_matches_the_model_and_keeps_an_owner(self) -> None:
        if not hasattr(self, "model"):
            return
        founder_view = next(iter(self.model))
        family = families.get_family(self.deps, founder_view, self.family.id)
        assert {u: m.role for u, m in family.members.items()} == self.model
        assert family.owners, "a family must always keep an owner"

    @invariant()
    def outsiders_see_nothing(self) -> None:
        if not hasattr(self, "model"):
            return
        for user in self.users:
            if user.id not in self.model:
                try:
                    families.get_family(self.deps, user.id, self.family.id)
                except NotFound:
                    continue
                raise AssertionError("an outsider could read the family")


TestFamilyMachine = FamilyMachine.TestCase
TestFamilyMachine.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
