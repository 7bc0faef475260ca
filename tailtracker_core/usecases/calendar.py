"""Calendar feeds: issue (or rotate), show and revoke one's own secret feed of a pet or a
family, and read a feed's content by its token (no signed-in user: the token is the credential).

Who: every role that may read the pet or family (owner, member, viewer) manages their OWN
feed; a feed only shows what its creator may read. A feed reads as its creator, so it stops
working (404) when the creator leaves or is removed from the family, or when its pet or
family is deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import NotFound
from tailtracker_core.model.calendar import (
    COMPLETIONS_SHOWN,
    CalendarFeed,
    FeedContent,
    FeedScope,
    PetCare,
    describe_feed,
)
from tailtracker_core.model.pets import Pet
from tailtracker_core.model.roles import Action
from tailtracker_core.policy import require
from tailtracker_core.ports import UnitOfWork
from tailtracker_core.usecases.deps import Deps, hash_token

__all__ = [
    "IssuedFeed",
    "get_feed",
    "issue_feed",
    "read_feed",
    "revoke_feed",
]

_PAGE = 100
_NOT_FOUND = "calendar feed not found"


def _pet_care(uow: UnitOfWork, pet: Pet, now: datetime) -> PetCare:
    """A pet's schedules, doses, and the completions the feed marks (recent occurrences)."""
    schedules = uow.care_schedules.for_pet(pet.id)
    doses = uow.vaccinations.for_pet(pet.id)
    start, end = now - COMPLETIONS_SHOWN, now + timedelta(days=2)
    completions = uow.care_schedules.completions([s.id for s in schedules], start, end)
    return PetCare(pet, schedules, doses, completions)


@frozen
class IssuedFeed:
    feed: CalendarFeed
    token: str  # shown once; only its hash is stored


def _family_of_target(uow: UnitOfWork, actor: UUID, scope: FeedScope, target_id: UUID) -> UUID:
    """The target's family, once the actor may read the target (NotFound otherwise)."""
    if scope is FeedScope.PET:
        pet = uow.pets.get(target_id)
        require(uow.families.role_of(pet.family_id, actor) if pet else None, Action.READ, "pet")
        assert pet is not None
        return pet.family_id
    require(uow.families.role_of(target_id, actor), Action.READ, "family")
    return target_id


def issue_feed(deps: Deps, actor: UUID, scope: FeedScope, target_id: UUID) -> IssuedFeed:
    """A new secret feed of the pet or family for the actor; their previous one stops working."""
    now = deps.clock.now()
    token = deps.ids.new_token()
    with deps.uow(actor) as uow:
        family_id = _family_of_target(uow, actor, scope, target_id)
        live = uow.calendar_feeds.live_for(scope, target_id, actor)
        if live is not None:
            live.revoke(now)
            uow.calendar_feeds.save(live)
        pet_id = target_id if scope is FeedScope.PET else None
        feed = CalendarFeed.issue(deps.ids.new_id(), family_id, pet_id, hash_token(token), actor, now)
        uow.calendar_feeds.add(feed)
        uow.commit()
    return IssuedFeed(feed, token)


def get_feed(deps: Deps, actor: UUID, scope: FeedScope, target_id: UUID) -> CalendarFeed:
    """The actor's live feed of the pet or family (its token cannot be shown again)."""
    with deps.uow(actor) as uow:
        _family_of_target(uow, actor, scope, target_id)
        feed = uow.calendar_feeds.live_for(scope, target_id, actor)
    if feed is None:
        raise NotFound(_NOT_FOUND)
    return feed


def revoke_feed(deps: Deps, actor: UUID, scope: FeedScope, target_id: UUID) -> None:
    """The actor's feed of the pet or family stops working at once."""
    with deps.uow(actor) as uow:
        _family_of_target(uow, actor, scope, target_id)
        feed = uow.calendar_feeds.live_for(scope, target_id, actor)
        if feed is None:
            raise NotFound(_NOT_FOUND)
        feed.revoke(deps.clock.now())
        uow.calendar_feeds.save(feed)
        uow.commit()


def _family_pets(uow: UnitOfWork, family_id: UUID) -> list[Pet]:
    pets: list[Pet] = []
    after: UUID | None = None
    while True:
        page = uow.pets.list([family_id], None, after, _PAGE)
        pets += page
        if len(page) < _PAGE:
            return pets
        after = page[-1].id


def read_feed(
    deps: Deps,
    token: str,
    scope: FeedScope,
    target_id: UUID,
) -> FeedContent:
    """The content of the feed behind `token`, which must be a live feed of this pet or family.

    Anything wrong (unknown or revoked token, a token of another pet, a creator no longer in
    the family, a deleted pet) is the same NotFound: the answer never tells which.
    """
    with deps.uow(None) as uow:
        feed = uow.calendar_feeds.find_by_token_hash(hash_token(token))
    if feed is None or not feed.active or feed.scope is not scope or feed.target_id != target_id:
        raise NotFound(_NOT_FOUND)
    now = deps.clock.now()
    # Read as the feed's creator: the ordinary policy (and row-level security) decide what shows.
    with deps.uow(feed.created_by) as uow:
        family = uow.families.get(feed.family_id)
        if family is None or family.role_of(feed.created_by) is None:
            raise NotFound(_NOT_FOUND)
        if feed.pet_id is not None:
            pet = uow.pets.get(feed.pet_id)
            if pet is None or pet.family_id != feed.family_id:
                raise NotFound(_NOT_FOUND)
            pets, name = [pet], pet.name
        else:
            pets, name = _family_pets(uow, family.id), family.name
        cares = [_pet_care(uow, p, now) for p in pets]
    return describe_feed(name, cares, now, [feed.created_at], deps.config.vaccines)
