"""Contract of the CalendarFeedRepository port (`uow.calendar_feeds`), as a pytest base class.

Subclass `CalendarFeedContract` and provide `uow_factory` (a UnitOfWorkFactory over one EMPTY
store); optionally override `ids`. Every write acts as the user who owns the data, and the
token look-up runs as nobody (`uow_factory(None)`), as a calendar app calls it: an adapter
with row-level security runs the whole suite with it switched on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from tailtracker_core.errors import Conflict
from tailtracker_core.model.accounts import User
from tailtracker_core.model.calendar import CalendarFeed, FeedScope
from tailtracker_core.model.families import Family
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.usecases.deps import hash_token

__all__ = ["CalendarFeedContract"]

_T0 = datetime(2026, 11, 25, 12, 0, 0, 123000, tzinfo=UTC)


class CalendarFeedContract:
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return TestIds()

    # --- helpers --------------------------------------------------------------------------

    def user(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> User:
        user_id = ids.new_id()
        user = User(user_id, f"user-{user_id.hex}@example.org", "Alex", "hash", _T0)
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.commit()
        return user

    def family(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, owner: User, *others: User) -> Family:
        family = Family.found(ids.new_id(), "Home", owner.id, _T0)
        for other in others:
            family.join(other.id, Role.VIEWER, _T0)
        with uow_factory(owner.id) as uow:
            uow.families.add(family)
            uow.commit()
        return family

    def pet(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, owner: User, family: Family) -> Pet:
        pet = Pet(
            id=ids.new_id(),
            family_id=family.id,
            name="Rex",
            species=Species.DOG,
            sex=Sex.MALE,
            created_at=_T0,
            updated_at=_T0,
        )
        with uow_factory(owner.id) as uow:
            uow.pets.add(pet)
            uow.commit()
        return pet

    def feed(
        self,
        uow_factory: UnitOfWorkFactory,
        ids: IdGenerator,
        user: User,
        family: Family,
        pet: Pet | None,
        at: datetime = _T0,
    ) -> tuple[CalendarFeed, str]:
        token = ids.new_token()
        feed = CalendarFeed.issue(
            ids.new_id(), family.id, pet.id if pet else None, hash_token(token), user.id, at
        )
        with uow_factory(user.id) as uow:
            uow.calendar_feeds.add(feed)
            uow.commit()
        return feed, token

    def lookup(self, uow_factory: UnitOfWorkFactory, token: str) -> CalendarFeed | None:
        with uow_factory(None) as uow:
            return uow.calendar_feeds.find_by_token_hash(hash_token(token))

    # --- tests ----------------------------------------------------------------------------

    @pytest.mark.parametrize("scope", list(FeedScope))
    def test_a_feed_round_trips_and_is_found_by_token_hash_as_nobody(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, scope: FeedScope
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        pet = self.pet(uow_factory, ids, owner, family) if scope is FeedScope.PET else None
        feed, token = self.feed(uow_factory, ids, owner, family, pet)
        assert feed.scope is scope
        assert self.lookup(uow_factory, token) == feed  # every field, microseconds included
        with uow_factory(owner.id) as uow:
            assert uow.calendar_feeds.live_for(scope, feed.target_id, owner.id) == feed
        assert self.lookup(uow_factory, token + "x") is None
        assert self.lookup(uow_factory, "") is None

    def test_the_token_itself_is_not_stored(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        feed, token = self.feed(uow_factory, ids, owner, family, None)
        assert feed.token_hash == hash_token(token) != token
        with uow_factory(None) as uow:
            assert uow.calendar_feeds.find_by_token_hash(token) is None  # the raw token is no hash

    def test_a_revoked_feed_is_still_found_but_no_longer_live(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        pet = self.pet(uow_factory, ids, owner, family)
        _, token = self.feed(uow_factory, ids, owner, family, pet)
        later = _T0 + timedelta(hours=1)
        with uow_factory(owner.id) as uow:
            stored = uow.calendar_feeds.live_for(FeedScope.PET, pet.id, owner.id)
            assert stored is not None
            stored.revoke(later)
            uow.calendar_feeds.save(stored)
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.calendar_feeds.live_for(FeedScope.PET, pet.id, owner.id) is None
        found = self.lookup(uow_factory, token)
        assert found is not None
        assert found.revoked_at == later
        assert not found.active

    def test_one_live_feed_per_user_and_target(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        viewer = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner, viewer)
        pet = self.pet(uow_factory, ids, owner, family)
        self.feed(uow_factory, ids, owner, family, pet)
        twin = CalendarFeed.issue(ids.new_id(), family.id, pet.id, hash_token(ids.new_token()), owner.id, _T0)
        with uow_factory(owner.id) as uow, pytest.raises(Conflict):
            uow.calendar_feeds.add(twin)
        # other users, other targets and other scopes are independent
        self.feed(uow_factory, ids, viewer, family, pet)
        self.feed(uow_factory, ids, owner, family, None)
        other_pet = self.pet(uow_factory, ids, owner, family)
        self.feed(uow_factory, ids, owner, family, other_pet)

    def test_rotation_revokes_and_adds_in_one_transaction(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        _, old_token = self.feed(uow_factory, ids, owner, family, None)
        new_token = ids.new_token()
        with uow_factory(owner.id) as uow:
            live = uow.calendar_feeds.live_for(FeedScope.FAMILY, family.id, owner.id)
            assert live is not None
            live.revoke(_T0 + timedelta(minutes=1))
            uow.calendar_feeds.save(live)
            new = CalendarFeed.issue(
                ids.new_id(), family.id, None, hash_token(new_token), owner.id, _T0 + timedelta(minutes=1)
            )
            uow.calendar_feeds.add(new)
            uow.commit()
        old_found = self.lookup(uow_factory, old_token)
        assert old_found is not None
        assert not old_found.active
        assert self.lookup(uow_factory, new_token) == new
        with uow_factory(owner.id) as uow:
            assert uow.calendar_feeds.live_for(FeedScope.FAMILY, family.id, owner.id) == new

    def test_a_rolled_back_feed_is_not_stored(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        token = ids.new_token()
        with uow_factory(owner.id) as uow:
            feed = CalendarFeed.issue(ids.new_id(), family.id, None, hash_token(token), owner.id, _T0)
            uow.calendar_feeds.add(feed)
            uow.rollback()
        assert self.lookup(uow_factory, token) is None

    def test_a_feed_goes_with_its_pet(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        pet = self.pet(uow_factory, ids, owner, family)
        _, pet_token = self.feed(uow_factory, ids, owner, family, pet)
        _, family_token = self.feed(uow_factory, ids, owner, family, None)
        with uow_factory(owner.id) as uow:
            uow.pets.delete(pet.id)
            uow.commit()
        assert self.lookup(uow_factory, pet_token) is None
        assert self.lookup(uow_factory, family_token) is not None

    def test_feeds_go_with_their_family(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        pet = self.pet(uow_factory, ids, owner, family)
        _, pet_token = self.feed(uow_factory, ids, owner, family, pet)
        _, family_token = self.feed(uow_factory, ids, owner, family, None)
        with uow_factory(owner.id) as uow:
            uow.families.delete(family.id)
            uow.commit()
        assert self.lookup(uow_factory, pet_token) is None
        assert self.lookup(uow_factory, family_token) is None

    def test_live_feeds_are_per_user(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        viewer = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner, viewer)
        pet = self.pet(uow_factory, ids, owner, family)
        self.feed(uow_factory, ids, owner, family, pet)
        with uow_factory(viewer.id) as uow:
            assert uow.calendar_feeds.live_for(FeedScope.PET, pet.id, viewer.id) is None

    def test_unknown_targets_have_no_live_feed(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        unknown = UUID(int=ids.new_id().int)
        with uow_factory(owner.id) as uow:
            for scope in FeedScope:
                assert uow.calendar_feeds.live_for(scope, unknown, owner.id) is None
