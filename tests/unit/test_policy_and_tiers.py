from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tailtracker_core.errors import Forbidden, NotFound, TierLimitExceeded
from tailtracker_core.model.pets import PetDraft, Species
from tailtracker_core.model.roles import Action, Role, allowed
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus, entitled_tier
from tailtracker_core.model.tiers import DEFAULT_TIER_LIMITS, Tier
from tailtracker_core.policy import require
from tailtracker_core.usecases import families, pets
from tests.unit.support import add_user, memory_deps

# The domain page's matrix, written out row by row.
MATRIX = {
    Action.READ: {Role.OWNER, Role.MEMBER, Role.VIEWER},
    Action.EDIT: {Role.OWNER, Role.MEMBER},
    Action.COMPLETE_TASK: {Role.OWNER, Role.MEMBER},
    Action.MANAGE: {Role.OWNER},
}


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_role_matrix_is_the_domain_page(role, action):
    assert allowed(role, action) is (role in MATRIX[action])
    if role in MATRIX[action]:
        assert require(role, action) is role
    else:
        with pytest.raises(Forbidden):
            require(role, action)


@pytest.mark.parametrize("action", list(Action))
def test_outsiders_get_not_found_never_forbidden(action):
    with pytest.raises(NotFound):
        require(None, action)


def test_tier_table_defaults():
    free, premium, pro = (DEFAULT_TIER_LIMITS[t] for t in Tier)
    assert (free.pets_per_family, premium.pets_per_family, pro.pets_per_family) == (2, 10, 50)
    assert (free.members_per_family, premium.members_per_family, pro.members_per_family) == (2, 6, 12)
    assert (free.alert_radius_km, premium.alert_radius_km, pro.alert_radius_km) == (5, 25, 50)
    assert (free.requests_per_minute, free.burst) == (60, 20)


NOW = datetime(2026, 6, 1, tzinfo=UTC)
statuses = st.sampled_from(list(SubscriptionStatus))
tiers = st.sampled_from(list(Tier))
period_ends = st.none() | st.integers(-60, 60).map(lambda d: NOW + timedelta(days=d))


@given(st.lists(st.tuples(tiers, statuses, period_ends), max_size=5))
def test_entitlement_is_the_highest_tier_still_entitled(subs):
    objs = [Subscription(None, None, t, s, e) for t, s, e in subs]  # type: ignore[arg-type]
    got = entitled_tier(objs, NOW)
    entitled = [
        t
        for t, s, e in subs
        if s is not SubscriptionStatus.EXPIRED
        and (s is not SubscriptionStatus.CANCELED or (e is not None and e > NOW))
    ]
    assert got.rank == max((t.rank for t in entitled), default=0)


def test_cancellation_and_billing_issues_keep_access_until_expiry():
    end = NOW + timedelta(days=3)
    assert (
        entitled_tier([Subscription(None, None, Tier.PRO, SubscriptionStatus.CANCELED, end)], NOW) is Tier.PRO
    )  # type: ignore[arg-type]
    assert (
        entitled_tier([Subscription(None, None, Tier.PRO, SubscriptionStatus.PAST_DUE, None)], NOW)
        is Tier.PRO
    )  # type: ignore[arg-type]
    assert (
        entitled_tier([Subscription(None, None, Tier.PRO, SubscriptionStatus.CANCELED, end)], end)
        is Tier.FREE
    )  # type: ignore[arg-type]


def _draft(name="Rex"):
    return PetDraft(name=name, species=Species.DOG)


def test_the_third_pet_on_the_free_tier_is_refused_and_nothing_is_stored():
    deps, store, _ = memory_deps()
    owner = add_user(deps, "o@example.org")
    family = families.create_family(deps, owner.id, "Home")
    pets.create_pet(deps, owner.id, family.id, _draft("A"))
    pets.create_pet(deps, owner.id, family.id, _draft("B"))
    with pytest.raises(TierLimitExceeded) as err:
        pets.create_pet(deps, owner.id, family.id, _draft("C"))
    assert err.value.code == "tier_limit_exceeded" and err.value.allowed == 2
    assert len(pets.list_pets(deps, owner.id, family.id, None, None, 10)) == 2


def test_a_family_has_the_highest_tier_of_its_owners_and_a_downgrade_hides_nothing():
    deps, store, clock = memory_deps()
    owner, co_owner = add_user(deps, "o@example.org"), add_user(deps, "c@example.org")
    family = families.create_family(deps, owner.id, "Home")
    issued = families.invite(deps, owner.id, family.id, co_owner.email, Role.MEMBER)
    families.accept_invitation(deps, co_owner.id, issued.token)
    families.change_role(deps, owner.id, family.id, co_owner.id, Role.OWNER)
    with deps.uow(co_owner.id) as uow:
        end = clock.now() + timedelta(days=10)
        uow.subscriptions.add(
            Subscription(deps.ids.new_id(), co_owner.id, Tier.PREMIUM, SubscriptionStatus.CANCELED, end)
        )
        uow.commit()
    for i in range(5):
        pets.create_pet(deps, owner.id, family.id, _draft(f"P{i}"))
    clock.advance(days=11)  # premium ended: more pets are refused, none disappear
    with pytest.raises(TierLimitExceeded):
        pets.create_pet(deps, owner.id, family.id, _draft("late"))
    assert len(pets.list_pets(deps, owner.id, family.id, None, None, 100)) == 5


def test_pets_are_private_to_their_family_and_viewers_read_only():
    deps, *_ = memory_deps()
    owner, viewer, stranger = (add_user(deps, f"{n}@example.org") for n in ("o", "v", "s"))
    family = families.create_family(deps, owner.id, "Home")
    issued = families.invite(deps, owner.id, family.id, viewer.email, Role.VIEWER)
    families.accept_invitation(deps, viewer.id, issued.token)
    pet = pets.create_pet(deps, owner.id, family.id, _draft())
    assert pets.get_pet(deps, viewer.id, pet.id).id == pet.id
    with pytest.raises(Forbidden):
        pets.update_pet(deps, viewer.id, pet.id, pets.PetChanges(name="Max"))
    with pytest.raises(NotFound):
        pets.get_pet(deps, stranger.id, pet.id)
    with pytest.raises(NotFound):
        pets.delete_pet(deps, stranger.id, pet.id)
    with pytest.raises(NotFound):
        pets.list_pets(deps, stranger.id, family.id, None, None, 10)
    assert pets.list_pets(deps, stranger.id, None, None, None, 10) == []


def test_pet_list_pages_by_id_and_filters_by_species():
    deps, *_ = memory_deps()
    owner = add_user(deps, "o@example.org")
    with deps.uow(owner.id) as uow:
        uow.subscriptions.add(
            Subscription(deps.ids.new_id(), owner.id, Tier.PRO, SubscriptionStatus.ACTIVE, None)
        )
        uow.commit()
    family = families.create_family(deps, owner.id, "Home")
    made = [
        pets.create_pet(
            deps, owner.id, family.id, PetDraft(name=f"P{i}", species=Species.CAT if i % 2 else Species.DOG)
        )
        for i in range(7)
    ]
    page1 = pets.list_pets(deps, owner.id, family.id, None, None, 3)
    page2 = pets.list_pets(deps, owner.id, family.id, None, page1[-1].id, 3)
    page3 = pets.list_pets(deps, owner.id, family.id, None, page2[-1].id, 3)
    assert [p.id for p in page1 + page2 + page3] == [p.id for p in made]
    cats = pets.list_pets(deps, owner.id, None, Species.CAT, None, 10)
    assert [p.name for p in cats] == ["P1", "P3", "P5"]


def test_update_with_a_stale_version_is_refused():
    from tailtracker_core.errors import PreconditionFailed

    deps, *_ = memory_deps()
    owner = add_user(deps, "o@example.org")
    family = families.create_family(deps, owner.id, "Home")
    pet = pets.create_pet(deps, owner.id, family.id, _draft())
    updated = pets.update_pet(
        deps, owner.id, pet.id, pets.PetChanges(birth_date=date(2020, 1, 1)), expected_version=1
    )
    assert updated.version == 2 and updated.birth_date == date(2020, 1, 1) and updated.name == "Rex"
    with pytest.raises(PreconditionFailed):
        pets.update_pet(deps, owner.id, pet.id, pets.PetChanges(name="Max"), expected_version=1)
