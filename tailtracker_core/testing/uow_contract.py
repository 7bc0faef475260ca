"""Contract of the UnitOfWork and OutboxStore ports, as a pytest base class.

Subclass `UnitOfWorkContract` in a test module and provide two fixtures over one EMPTY store:

- `uow_factory`: a UnitOfWorkFactory (`actor -> UnitOfWork`);
- `outbox_store`: an OutboxStore over the same store.

Optionally override `ids` (an IdGenerator of time-ordered UUIDv7 ids; a small one is built in).

Every test acts as the user who owns the data it touches, so an adapter that enforces
row-level security runs the whole suite with it switched on: nothing here needs a bypass.
Release every claim before writing again: a SQL outbox claim may hold a write lock.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailtracker_core.errors import Conflict
from tailtracker_core.events import FamilyCreated, PetCreated, PetDeleted, UserRegistered, event_to_json
from tailtracker_core.model.accounts import User
from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, ErasureRequest, Purpose
from tailtracker_core.model.families import Family, Invitation, Membership
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tailtracker_core.ports import IdempotencyRecord, IdGenerator, OutboxStore, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds

__all__ = ["UnitOfWorkContract", "pet_fields"]


def _now() -> datetime:
    return datetime.now(UTC)


# Text a database can hold: no NUL (PostgreSQL refuses it) and no lone surrogates.
_TEXT = st.characters(codec="utf-8", exclude_characters="\x00")
_CHIPS = ["985112345678901", "276098106543210", "A1B2C3D4E5", "123456789"]


@st.composite
def pet_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Field values of a Pet as a repository must keep them (already valid and normalised)."""
    return {
        "name": draw(st.text(_TEXT, min_size=1, max_size=100)),
        "species": draw(st.sampled_from(Species)),
        "sex": draw(st.sampled_from(Sex)),
        "created_at": draw(st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1), timezones=st.just(UTC))),
        "breed": draw(st.none() | st.text(_TEXT, min_size=1, max_size=100)),
        "birth_date": draw(st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1))),
        "colors": draw(st.lists(st.text(_TEXT, min_size=1, max_size=40), max_size=10, unique=True)),
        "size": draw(st.none() | st.sampled_from(Size)),
        "weight_kg": draw(st.none() | st.floats(0.001, 200, allow_nan=False)),
        "microchip": draw(st.none() | st.sampled_from(_CHIPS).map(Microchip)),
        "neutered": draw(st.none() | st.booleans()),
        "notes": draw(st.none() | st.text(_TEXT, max_size=300)),
        "version": draw(st.integers(1, 2**31 - 1)),
    }


class UnitOfWorkContract:
    """The behaviour every UnitOfWork adapter shares with the in-memory reference."""

    @pytest.fixture
    def ids(self) -> IdGenerator:
        return TestIds()

    # --- helpers: each writes as the user who owns the data --------------------------------

    def user(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, email: str | None = None, **kw: Any
    ) -> User:
        user_id = ids.new_id()
        user = User(
            user_id,
            email or f"user-{user_id.hex}@example.org",
            kw.pop("display_name", "Alex"),
            "hash",
            _now(),
            **kw,
        )
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.commit()
        return user

    def family(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, owner: User, *others: User) -> Family:
        family = Family.found(ids.new_id(), f"{owner.display_name}'s family", owner.id, _now())
        for other in others:
            family.join(other.id, Role.MEMBER, _now())
        with uow_factory(owner.id) as uow:
            uow.families.add(family)
            uow.commit()
        return family

    def pet(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, owner: User, family: Family, **kw: Any
    ) -> Pet:
        now = _now()
        fields: dict[str, Any] = {"name": "Rex", "species": Species.DOG, "sex": Sex.MALE, **kw}
        pet = Pet(id=ids.new_id(), family_id=family.id, created_at=now, updated_at=now, **fields)
        with uow_factory(owner.id) as uow:
            uow.pets.add(pet)
            uow.commit()
        return pet

    def invitation(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, owner: User, family: Family, email: str
    ) -> Invitation:
        inv = Invitation.issue(
            ids.new_id(), family.id, email, Role.MEMBER, ids.new_token(), owner.id, _now(), timedelta(days=7)
        )
        with uow_factory(owner.id) as uow:
            uow.invitations.add(inv)
            uow.commit()
        return inv

    def drain(self, outbox_store: OutboxStore) -> None:
        messages = outbox_store.claim(10_000)
        if messages:
            outbox_store.mark_sent([m.id for m in messages], _now())
        else:
            outbox_store.release()

    # --- users -------------------------------------------------------------------------------

    def test_user_round_trips_every_field(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user = self.user(
            uow_factory,
            ids,
            "Ana.Maria@Example.ORG",
            display_name="Ana María 🐾",
            locale="pt-BR",
            timezone="America/Sao_Paulo",
            phone="+5511987654321",
            alert_lat=-23.55052,
            alert_lon=-46.633308,
            alert_radius_km=12.5,
            version=7,
        )
        with uow_factory(user.id) as uow:
            assert uow.users.get(user.id) == user

    def test_user_with_optional_fields_unset_round_trips(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user = self.user(uow_factory, ids)
        with uow_factory(user.id) as uow:
            got = uow.users.get(user.id)
        assert got == user
        assert got is not None
        assert (got.phone, got.alert_lat, got.alert_lon, got.alert_radius_km) == (None, None, None, None)

    def test_timestamps_come_back_aware_and_equal(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        created = datetime(2024, 3, 31, 2, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
        user = User(ids.new_id(), "tz@example.org", "Tz", "hash", created)
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.commit()
        with uow_factory(user.id) as uow:
            got = uow.users.get(user.id)
        assert got is not None
        assert got.created_at == created
        assert got.created_at.utcoffset() is not None

    def test_get_by_email_ignores_case_and_surrounding_spaces(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user = self.user(uow_factory, ids, "Mixed.Case@Example.org")
        with uow_factory(None) as uow:
            assert uow.users.get_by_email("  mixed.case@EXAMPLE.ORG ") == user
            assert uow.users.get_by_email("other@example.org") is None

    def test_duplicate_email_is_a_conflict_whatever_its_case(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        self.user(uow_factory, ids, "dup@example.org")
        second = User(ids.new_id(), "DUP@Example.Org", "Dup", "hash", _now())
        third = User(ids.new_id(), "third@example.org", "Third", "hash", _now())
        with uow_factory(second.id) as uow:
            with pytest.raises(Conflict):
                uow.users.add(second)
            uow.users.add(third)  # the unit of work carries on after a conflict
            uow.commit()
        with uow_factory(None) as uow:
            assert uow.users.get(second.id) is None
            assert uow.users.get(third.id) == third

    def test_get_many_returns_the_users_that_exist(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        a, b = self.user(uow_factory, ids), self.user(uow_factory, ids)
        with uow_factory(a.id) as uow:
            got = uow.users.get_many([b.id, ids.new_id(), a.id])
            assert uow.users.get_many([]) == []
        assert sorted(got, key=lambda u: u.id) == [a, b]

    def test_saving_a_user_stores_the_changes(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user = self.user(uow_factory, ids)
        user.display_name, user.phone, user.version = "Renamed", "+447700900123", 2
        with uow_factory(user.id) as uow:
            uow.users.save(user)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.users.get(user.id) == user

    def test_saving_over_a_newer_version_is_a_conflict_and_changes_nothing(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, user)
        pet = self.pet(uow_factory, ids, user, family)
        first_user, first_family, first_pet = copy.deepcopy((user, family, pet))
        user.display_name, user.version = "First", 2
        family.name, family.version = "First", 2
        pet.name, pet.version = "First", 2
        with uow_factory(user.id) as uow:
            uow.users.save(user)
            uow.families.save(family)
            uow.pets.save(pet)
            uow.commit()
        # A second writer read version 1 too, and saves version 2 on top of the first.
        first_user.display_name, first_user.version = "Second", 2
        first_family.name, first_family.version = "Second", 2
        first_pet.name, first_pet.version = "Second", 2
        for repository, stale in (("users", first_user), ("families", first_family), ("pets", first_pet)):
            with uow_factory(user.id) as uow, pytest.raises(Conflict):
                getattr(uow, repository).save(stale)
        with uow_factory(user.id) as uow:
            assert (got_user := uow.users.get(user.id)) is not None
            assert (got_family := uow.families.get(family.id)) is not None
            assert (got_pet := uow.pets.get(pet.id)) is not None
        assert (got_user.display_name, got_family.name, got_pet.name) == ("First", "First", "First")

    # --- families ----------------------------------------------------------------------------

    def test_family_round_trips_with_its_members(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner, member = self.user(uow_factory, ids), self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner, member)
        with uow_factory(owner.id) as uow:
            assert uow.families.get(family.id) == family
        with uow_factory(member.id) as uow:
            assert uow.families.get(family.id) == family

    def test_saving_a_family_stores_name_version_and_member_changes(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner, a, b, c = (self.user(uow_factory, ids) for _ in range(4))
        family = self.family(uow_factory, ids, owner, a, b)
        family.rename("Renamed")
        family.join(c.id, Role.VIEWER, _now())
        family.change_role(a.id, Role.OWNER)
        family.remove(b.id)
        with uow_factory(owner.id) as uow:
            uow.families.save(family)
            uow.commit()
        with uow_factory(owner.id) as uow:
            got = uow.families.get(family.id)
            assert got == family
            assert got is not None
            assert set(got.members) == {owner.id, a.id, c.id}
            assert uow.families.role_of(family.id, b.id) is None

    def test_a_member_may_leave_by_saving_the_family(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner, member = self.user(uow_factory, ids), self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner, member)
        with uow_factory(member.id) as uow:
            mine = uow.families.get(family.id)
            assert mine is not None
            mine.leave(member.id)
            mine.version += 1
            uow.families.save(mine)
            uow.commit()
        with uow_factory(owner.id) as uow:
            got = uow.families.get(family.id)
        assert got is not None
        assert set(got.members) == {owner.id}
        assert got.version == 2

    def test_deleting_a_family_deletes_its_pets_invitations_and_memberships(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner, member = self.user(uow_factory, ids), self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner, member)
        keep = self.family(uow_factory, ids, owner)
        pet = self.pet(uow_factory, ids, owner, family)
        kept_pet = self.pet(uow_factory, ids, owner, keep)
        inv = self.invitation(uow_factory, ids, owner, family, "guest@example.org")
        with uow_factory(owner.id) as uow:
            uow.families.delete(family.id)
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.families.get(family.id) is None
            assert uow.pets.get(pet.id) is None
            assert uow.invitations.get(inv.id) is None
            assert uow.families.role_of(family.id, owner.id) is None
            assert uow.families.roles_of(owner.id) == {keep.id: Role.OWNER}
            assert uow.pets.get(kept_pet.id) == kept_pet
        with uow_factory(None) as uow:
            assert uow.invitations.find_by_token_hash(inv.token_hash) is None
        with uow_factory(member.id) as uow:
            assert uow.families.roles_of(member.id) == {}

    def test_adding_an_existing_member_again_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner, member = self.user(uow_factory, ids), self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner, member)
        with uow_factory(owner.id) as uow:
            with pytest.raises(Conflict):
                uow.families.add_member(Membership(family.id, member.id, Role.VIEWER, _now()))
            assert uow.families.role_of(family.id, member.id) is Role.MEMBER

    def test_an_owner_may_add_a_member(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner, newcomer = self.user(uow_factory, ids), self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        joined = Membership(family.id, newcomer.id, Role.VIEWER, _now())
        with uow_factory(owner.id) as uow:
            uow.families.add_member(joined)
            uow.commit()
        with uow_factory(newcomer.id) as uow:
            got = uow.families.get(family.id)
        assert got is not None
        assert got.members[newcomer.id] == joined

    def test_role_of_and_roles_of(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        alice, bob = self.user(uow_factory, ids), self.user(uow_factory, ids)
        hers = self.family(uow_factory, ids, alice, bob)
        his = self.family(uow_factory, ids, bob)
        with uow_factory(bob.id) as uow:
            assert uow.families.role_of(hers.id, bob.id) is Role.MEMBER
            assert uow.families.role_of(his.id, bob.id) is Role.OWNER
            assert uow.families.role_of(ids.new_id(), bob.id) is None
            roles = uow.families.roles_of(bob.id)
        assert roles == {hers.id: Role.MEMBER, his.id: Role.OWNER}
        assert list(roles) == sorted(roles)
        with uow_factory(alice.id) as uow:
            assert uow.families.role_of(his.id, alice.id) is None
            assert uow.families.roles_of(alice.id) == {hers.id: Role.OWNER}

    def test_list_for_user_pages_through_families_in_id_order(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        me, other = self.user(uow_factory, ids), self.user(uow_factory, ids)
        mine = [self.family(uow_factory, ids, me) for _ in range(3)]
        mine.append(self.family(uow_factory, ids, other, me))
        self.family(uow_factory, ids, other)  # not mine
        with uow_factory(me.id) as uow:
            first = uow.families.list_for_user(me.id, None, 3)
            rest = uow.families.list_for_user(me.id, first[-1].id, 3)
            assert uow.families.list_for_user(me.id, mine[-1].id, 3) == []
        assert first + rest == mine
        assert len(rest) == 1
        assert rest[0].members == mine[-1].members

    # --- invitations -------------------------------------------------------------------------

    def test_invitation_round_trips_and_is_found_by_token_hash_by_anyone(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids, display_name="Olga")
        family = self.family(uow_factory, ids, owner)
        inv = self.invitation(uow_factory, ids, owner, family, "Guest@Example.org")
        with uow_factory(owner.id) as uow:
            assert uow.invitations.get(inv.id) == inv
        with uow_factory(None) as uow:
            found = uow.invitations.find_by_token_hash(inv.token_hash)
            assert uow.invitations.find_by_token_hash("no such hash") is None
        assert found is not None
        assert (found.invitation, found.family_name, found.inviter_name) == (inv, family.name, "Olga")

    def test_an_invitee_accepts_and_joins(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        invitee = self.user(uow_factory, ids, "invitee@example.org")
        inv = self.invitation(uow_factory, ids, owner, family, "Invitee@Example.org")
        now = _now()
        with uow_factory(invitee.id) as uow:  # the order accept_invitation uses
            found = uow.invitations.find_by_token_hash(inv.token_hash)
            assert found is not None
            found.invitation.accept(invitee.id, invitee.email_key, now)
            uow.invitations.save(found.invitation)
            uow.families.add_member(Membership(family.id, invitee.id, Role.MEMBER, now))
            uow.families.lock(family.id)
            joined = uow.families.get(family.id)
            assert joined is not None
            assert set(joined.members) == {owner.id, invitee.id}
            uow.commit()
        with uow_factory(owner.id) as uow:
            got = uow.invitations.get(inv.id)
            assert got is not None
            assert (got.accepted_at, got.accepted_by) == (now, invitee.id)
            assert uow.families.role_of(family.id, invitee.id) is Role.MEMBER

    def test_a_revoked_invitation_keeps_its_revocation(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        inv = self.invitation(uow_factory, ids, owner, family, "someone@example.org")
        inv.revoke(_now())
        with uow_factory(owner.id) as uow:
            uow.invitations.save(inv)
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.invitations.get(inv.id) == inv

    # --- pets --------------------------------------------------------------------------------

    def test_pets_round_trip_every_field(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)

        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(pet_fields())
        def round_trip(fields: dict[str, Any]) -> None:
            pet = Pet(id=ids.new_id(), family_id=family.id, updated_at=_now(), **fields)
            with uow_factory(owner.id) as uow:
                uow.pets.add(pet)
                uow.commit()
            with uow_factory(owner.id) as uow:
                assert uow.pets.get(pet.id) == pet

        round_trip()

    def test_a_pet_with_every_optional_field_set_round_trips(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        pet = self.pet(
            uow_factory,
            ids,
            owner,
            family,
            breed="Border Collie",
            birth_date=date(2020, 2, 29),
            colors=["black", "white"],
            size=Size.MEDIUM,
            weight_kg=18.25,
            microchip=Microchip.parse("985 112 345 678 901"),
            neutered=True,
            notes="Loves frisbees",
        )
        with uow_factory(owner.id) as uow:
            got = uow.pets.get(pet.id)
        assert got == pet
        assert got is not None
        assert got.microchip == Microchip("985112345678901")

    def test_saving_and_deleting_a_pet(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        pet = self.pet(uow_factory, ids, owner, family)
        pet.name, pet.colors, pet.version = "Max", ["brown"], 2
        with uow_factory(owner.id) as uow:
            uow.pets.save(pet)
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.pets.get(pet.id) == pet
            uow.pets.delete(pet.id)
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.pets.get(pet.id) is None
            assert uow.pets.count_in_family(family.id) == 0

    def test_pets_list_pages_by_id_and_filters_by_family_and_species(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        home, cottage, elsewhere = (self.family(uow_factory, ids, owner) for _ in range(3))
        pets = [
            self.pet(uow_factory, ids, owner, fam, species=species)
            for fam, species in [
                (home, Species.DOG),
                (cottage, Species.CAT),
                (home, Species.CAT),
                (elsewhere, Species.DOG),
                (cottage, Species.DOG),
                (home, Species.RABBIT),
            ]
        ]
        wanted = [p for p in pets if p.family_id in {home.id, cottage.id}]
        with uow_factory(owner.id) as uow:
            page1 = uow.pets.list([home.id, cottage.id], None, None, 2)
            page2 = uow.pets.list([home.id, cottage.id], None, page1[-1].id, 2)
            page3 = uow.pets.list([home.id, cottage.id], None, page2[-1].id, 2)
            assert page1 + page2 + page3 == wanted
            assert uow.pets.list([home.id, cottage.id], None, page3[-1].id, 2) == []
            dogs = uow.pets.list([home.id, cottage.id], Species.DOG, None, 10)
            assert dogs == [p for p in wanted if p.species is Species.DOG]
            cats_after = uow.pets.list([home.id, cottage.id], Species.CAT, pets[1].id, 10)
            assert cats_after == [pets[2]]
            assert uow.pets.list([], None, None, 10) == []
            assert uow.pets.list([ids.new_id()], None, None, 10) == []

    def test_count_in_family(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        owner = self.user(uow_factory, ids)
        family, other = self.family(uow_factory, ids, owner), self.family(uow_factory, ids, owner)
        for _ in range(3):
            self.pet(uow_factory, ids, owner, family)
        self.pet(uow_factory, ids, owner, other)
        with uow_factory(owner.id) as uow:
            assert uow.pets.count_in_family(family.id) == 3
            assert uow.pets.count_in_family(other.id) == 1
            assert uow.pets.count_in_family(ids.new_id()) == 0

    # --- consents, subscriptions, erasures -----------------------------------------------------

    def test_consent_history_is_ordered_by_time_then_id(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, other = self.user(uow_factory, ids), self.user(uow_factory, ids)
        t0 = datetime(2025, 1, 1, 12, tzinfo=UTC)
        # Added out of order; two share a timestamp and are then ordered by id.
        same_time = sorted([ids.new_id(), ids.new_id()], reverse=True)
        records = [
            ConsentRecord(
                ids.new_id(),
                user.id,
                Purpose.MARKETING,
                False,
                "v2",
                t0 + timedelta(days=2),
                ConsentMethod.WEB,
            ),
            ConsentRecord(same_time[0], user.id, Purpose.ANALYTICS, True, "v1", t0, ConsentMethod.APP),
            ConsentRecord(same_time[1], user.id, Purpose.ESSENTIAL, True, "v1", t0, ConsentMethod.API),
            ConsentRecord(ids.new_id(), other.id, Purpose.MARKETING, True, "v1", t0, ConsentMethod.APP),
        ]
        with uow_factory(user.id) as uow:
            for r in records:
                uow.consents.add(r)
            uow.commit()
        with uow_factory(user.id) as uow:
            history = uow.consents.history(user.id)
            assert uow.consents.get(records[0].id) == records[0]
            assert uow.consents.get(ids.new_id()) is None
        assert history == [records[2], records[1], records[0]]

    def test_subscriptions_for_users(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        a, b, c = (self.user(uow_factory, ids) for _ in range(3))
        end = datetime(2030, 6, 1, tzinfo=UTC)
        subs = [
            Subscription(ids.new_id(), a.id, Tier.PREMIUM, SubscriptionStatus.ACTIVE, end, "stripe"),
            Subscription(ids.new_id(), b.id, Tier.PRO, SubscriptionStatus.CANCELED, None),
            Subscription(ids.new_id(), c.id, Tier.PRO, SubscriptionStatus.TRIALING, end),
        ]
        with uow_factory(a.id) as uow:
            for s in subs:
                uow.subscriptions.add(s)
            uow.commit()
        with uow_factory(a.id) as uow:
            got = uow.subscriptions.for_users([a.id, b.id])
            assert uow.subscriptions.for_users([]) == []
        assert sorted(got, key=lambda s: s.id) == subs[:2]

    def test_open_erasure_request(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user = self.user(uow_factory, ids)
        done = ErasureRequest(ids.new_id(), user.id, _now(), _now(), "completed", _now())
        pending = ErasureRequest.open(ids.new_id(), user.id, _now())
        with uow_factory(user.id) as uow:
            assert uow.erasures.open_for_user(user.id) is None
            uow.erasures.add(done)
            uow.erasures.add(pending)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.erasures.open_for_user(user.id) == pending

    def test_idempotency_records_round_trip_once_per_user_and_key_and_expire(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        a, b = self.user(uow_factory, ids), self.user(uow_factory, ids)
        made = _now().replace(microsecond=0)
        record = IdempotencyRecord(a.id, "POST /v1/pets:k1", "f" * 64, 201, b'{"id": 1}\x00\xff', "{}", made)
        with uow_factory(a.id) as uow:
            assert uow.idempotency.get(a.id, record.key) is None
            uow.idempotency.add(record)
            uow.commit()
        with uow_factory(b.id) as uow:
            assert uow.idempotency.get(b.id, record.key) is None  # keys are per user
            uow.idempotency.add(IdempotencyRecord(b.id, record.key, "0" * 64, 201, b"", "{}", made))
            uow.commit()
        with uow_factory(a.id) as uow:
            assert uow.idempotency.get(a.id, record.key) == record
            with pytest.raises(Conflict):  # a twin request lost the race
                uow.idempotency.add(IdempotencyRecord(a.id, record.key, "1" * 64, 201, b"", "{}", made))
            uow.rollback()
        with uow_factory(a.id) as uow:
            uow.idempotency.purge(a.id, made + timedelta(seconds=1))
            uow.commit()
        with uow_factory(a.id) as uow:
            assert uow.idempotency.get(a.id, record.key) is None
            assert uow.idempotency.get(b.id, record.key) is not None  # another user's stays

    def test_an_idempotency_record_rolls_back_with_the_change(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        pet = Pet(ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, _now(), _now())
        with uow_factory(owner.id) as uow:
            uow.pets.add(pet)
            uow.idempotency.add(IdempotencyRecord(owner.id, "k", "f" * 64, 201, b"{}", "{}", _now()))
            uow.rollback()
        with uow_factory(owner.id) as uow:
            assert uow.pets.get(pet.id) is None
            assert uow.idempotency.get(owner.id, "k") is None

    def test_purge_expired_takes_every_users_old_records_oldest_first_in_bounded_batches(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        a, b = self.user(uow_factory, ids), self.user(uow_factory, ids)
        now = _now().replace(microsecond=0)
        ages = {"a-3d": (a, 72), "b-2d": (b, 48), "a-25h": (a, 25), "b-23h": (b, 23), "a-now": (a, 0)}
        for key, (user, hours) in ages.items():
            with uow_factory(user.id) as uow:
                made = now - timedelta(hours=hours)
                uow.idempotency.add(IdempotencyRecord(user.id, key, "f" * 64, 201, b"{}", "{}", made))
                uow.commit()
        cut = now - timedelta(hours=24)

        def purge(before: datetime, limit: int) -> int:
            with uow_factory(None) as uow:
                n = uow.idempotency.purge_expired(before, limit)
                uow.commit()
            return n

        def left() -> set[str]:
            with uow_factory(None) as uow:
                return {k for k, (u, _) in ages.items() if uow.idempotency.get(u.id, k) is not None}

        assert purge(cut, 2) == 2
        assert left() == {"a-25h", "b-23h", "a-now"}  # the two oldest went first, across users
        assert purge(cut, 2) == 1
        assert purge(cut, 2) == 0
        assert left() == {"b-23h", "a-now"}  # younger than the cut-off: kept
        with uow_factory(None) as uow:  # a purge rolled back keeps everything
            assert uow.idempotency.purge_expired(now + timedelta(hours=1), 10) == 2
            uow.rollback()
        assert left() == {"b-23h", "a-now"}

    # --- transactions and the outbox ---------------------------------------------------------

    def test_rollback_discards_changes_and_events(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        self.drain(outbox_store)
        pet = Pet(ids.new_id(), family.id, "Ghost", Species.CAT, Sex.FEMALE, _now(), _now())
        with uow_factory(owner.id) as uow:
            uow.pets.add(pet)
            uow.record(PetCreated(pet.id, family.id))
            uow.rollback()
            uow.commit()  # nothing left to commit
        with uow_factory(owner.id) as uow:
            assert uow.pets.get(pet.id) is None
        assert outbox_store.claim(10) == []
        outbox_store.release()

    def test_leaving_without_commit_rolls_back(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        user = User(ids.new_id(), "gone@example.org", "Gone", "hash", _now())

        def fail() -> None:
            with uow_factory(user.id) as uow:
                uow.users.add(user)
                uow.record(UserRegistered(user.id, user.email))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            fail()
        with uow_factory(user.id) as uow:
            uow.users.add(user)  # left without commit either
        with uow_factory(None) as uow:
            assert uow.users.get(user.id) is None
        assert outbox_store.claim(10) == []
        outbox_store.release()

    def test_a_unit_of_work_carries_on_after_commit(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        user = User(ids.new_id(), "twice@example.org", "Twice", "hash", _now())
        family = Family.found(ids.new_id(), "Home", user.id, _now())
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.record(UserRegistered(user.id, user.email))
            uow.commit()
            uow.families.add(family)
            uow.record(FamilyCreated(family.id, user.id))
            uow.commit()
            assert uow.families.get(family.id) == family
            uow.pets.add(Pet(ids.new_id(), family.id, "Never", Species.DOG, Sex.MALE, _now(), _now()))
            uow.rollback()
            assert uow.pets.count_in_family(family.id) == 0
        claimed = outbox_store.claim(10)
        outbox_store.release()
        assert [m.topic for m in claimed] == [UserRegistered.topic, FamilyCreated.topic]

    def test_commit_writes_each_event_to_the_outbox_once(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        family = self.family(uow_factory, ids, owner)
        self.drain(outbox_store)
        events = [PetCreated(ids.new_id(), family.id), PetDeleted(ids.new_id(), family.id)]
        before = _now()
        with uow_factory(owner.id) as uow:
            for e in events:
                uow.record(e)
            uow.commit()
        claimed = outbox_store.claim(10)
        outbox_store.release()
        assert [(m.topic, m.payload) for m in claimed] == [(e.topic, event_to_json(e)) for e in events]
        assert all(m.created_at >= before - timedelta(seconds=1) for m in claimed)
        assert all(m.created_at.utcoffset() is not None for m in claimed)
        assert len({m.id for m in claimed}) == 2

    def test_claims_are_oldest_first_and_mark_sent_removes_release_keeps(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        self.drain(outbox_store)
        events = [PetCreated(ids.new_id(), ids.new_id()) for _ in range(5)]
        for e in events:  # one commit each: the outbox keeps commit order
            with uow_factory(owner.id) as uow:
                uow.record(e)
                uow.commit()
        first = outbox_store.claim(2)
        assert [m.payload for m in first] == [event_to_json(e) for e in events[:2]]
        outbox_store.mark_sent([m.id for m in first], _now())
        second = outbox_store.claim(2)
        assert [m.payload for m in second] == [event_to_json(e) for e in events[2:4]]
        outbox_store.release()
        again = outbox_store.claim(10)
        assert [m.id for m in again[:2]] == [m.id for m in second]
        assert len(again) == 3
        outbox_store.mark_sent([m.id for m in again], _now())
        assert outbox_store.claim(10) == []
        outbox_store.release()

    def test_purge_sent_deletes_only_messages_sent_before_the_cut_off_earliest_first(
        self, uow_factory: UnitOfWorkFactory, outbox_store: OutboxStore, ids: IdGenerator
    ) -> None:
        owner = self.user(uow_factory, ids)
        self.drain(outbox_store)
        now = _now().replace(microsecond=0)
        for _ in range(5):  # one commit each: claimed in this order
            with uow_factory(owner.id) as uow:
                uow.record(PetCreated(ids.new_id(), ids.new_id()))
                uow.commit()
        for days in (10, 9, 8, 1):  # the fifth stays unsent
            (message,) = outbox_store.claim(1)
            outbox_store.mark_sent([message.id], now - timedelta(days=days))
        (unsent,) = outbox_store.claim(10)
        outbox_store.release()
        cut = now - timedelta(days=7)
        assert outbox_store.purge_sent(cut, 2) == 2
        # The earliest sent went first: nothing sent more than 8.5 days ago is left.
        assert outbox_store.purge_sent(now - timedelta(days=8, hours=12), 10) == 0
        assert outbox_store.purge_sent(cut, 2) == 1
        assert outbox_store.purge_sent(cut, 2) == 0
        # However late the cut-off, an unsent message stays (and the one sent a day ago goes).
        assert outbox_store.purge_sent(now + timedelta(days=365), 10) == 1
        assert [m.id for m in outbox_store.claim(10)] == [unsent.id]
        outbox_store.release()
