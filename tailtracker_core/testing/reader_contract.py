"""Contracts of the read side's ports (PetReader, SessionReader), as pytest base classes.

`PetReaderContract`: subclass it and provide, over one EMPTY store:

- `uow_factory`: a sync UnitOfWorkFactory, used to arrange the data (as its owners) and as the
  reference: the reader must answer what the sync repositories answer;
- `pet_reader`: the PetReader under test, reading the same store. The suite closes it.

`SessionReaderContract`: provide `sessions` (a SessionStore, to arrange) and `session_reader`
(the SessionReader under test over the same store).

The tests are plain sync tests driving the coroutines through one `asyncio.Runner` per test
(no pytest plugin needed): readers that bind connections to an event loop see one loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from tailtracker_core.errors import NotFound
from tailtracker_core.model.accounts import User
from tailtracker_core.model.families import Family
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import PetReader, SessionReader, SessionStore, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.testing.kv_contract import new_session_record
from tailtracker_core.usecases import pet_queries

__all__ = ["PetReaderContract", "ReaderKit", "SessionReaderContract"]

T = TypeVar("T")


_ids = TestIds()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)  # whole seconds: every store keeps them


class ReaderKit:
    """What the read-side contracts share: running a coroutine, and arranging users, a family
    and a pet through the sync unit of work (each written as the user who owns it)."""

    def run(self, aio: asyncio.Runner, coro: Coroutine[Any, Any, T]) -> T:
        return aio.run(coro)

    def user(self, uow_factory: UnitOfWorkFactory) -> User:
        user_id = _ids.new_id()
        user = User(user_id, f"reader-{user_id.hex}@example.org", "Alex", "hash", _now())
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.commit()
        return user

    def family(self, uow_factory: UnitOfWorkFactory, owner: User, *joined: tuple[User, Role]) -> Family:
        family = Family.found(_ids.new_id(), "The family", owner.id, _now())
        for user, role in joined:
            family.join(user.id, role, _now())
        with uow_factory(owner.id) as uow:
            uow.families.add(family)
            uow.commit()
        return family

    def pet(self, uow_factory: UnitOfWorkFactory, owner: User, family: Family, **kw: Any) -> Pet:
        now = _now()
        fields: dict[str, Any] = {"name": "Rex", "species": Species.DOG, "sex": Sex.MALE, **kw}
        pet = Pet(id=_ids.new_id(), family_id=family.id, created_at=now, updated_at=now, **fields)
        with uow_factory(owner.id) as uow:
            uow.pets.add(pet)
            uow.commit()
        return pet


class PetReaderContract(ReaderKit):
    """The behaviour every PetReader shares with the sync repositories it stands in for."""

    @pytest.fixture
    def aio(self, pet_reader: PetReader) -> Iterator[asyncio.Runner]:
        with asyncio.Runner() as runner:
            yield runner
            runner.run(pet_reader.close())

    def reference_list(
        self,
        uow_factory: UnitOfWorkFactory,
        actor: User,
        family_ids: list[UUID],
        species: Species | None,
        after: UUID | None,
        limit: int,
    ) -> list[Pet]:
        with uow_factory(actor.id) as uow:
            return uow.pets.list(family_ids, species, after, limit)

    # --- one pet -------------------------------------------------------------------------------

    def test_a_pet_reads_back_equal_to_the_repository_with_every_field(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        family = self.family(uow_factory, owner)
        pet = self.pet(
            uow_factory,
            owner,
            family,
            name="Biscuit 🐾",
            species=Species.CAT,
            sex=Sex.FEMALE,
            breed="Maine Coon",
            birth_date=date(2020, 5, 1),
            colors=["brown", "white"],
            size=Size.LARGE,
            weight_kg=6.25,
            microchip=Microchip("985112345678901"),
            neutered=True,
            notes="Loves carrots",
            version=3,
        )
        with uow_factory(owner.id) as uow:
            reference = uow.pets.get(pet.id)
        found = self.run(aio, pet_reader.pet_with_role(owner.id, pet.id))
        assert found is not None
        got, role = found
        assert got == reference == pet
        assert type(got.id) is UUID
        assert type(got.family_id) is UUID
        assert got.created_at.utcoffset() is not None
        assert role is Role.OWNER

    def test_a_pet_with_optional_fields_unset_reads_back_equal(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        pet = self.pet(uow_factory, owner, self.family(uow_factory, owner))
        found = self.run(aio, pet_reader.pet_with_role(owner.id, pet.id))
        assert found == (pet, Role.OWNER)

    def test_the_role_of_each_member_comes_with_the_pet(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner, member, viewer = (self.user(uow_factory) for _ in range(3))
        family = self.family(uow_factory, owner, (member, Role.MEMBER), (viewer, Role.VIEWER))
        pet = self.pet(uow_factory, owner, family)
        for user, role in ((owner, Role.OWNER), (member, Role.MEMBER), (viewer, Role.VIEWER)):
            assert self.run(aio, pet_reader.pet_with_role(user.id, pet.id)) == (pet, role)

    def test_an_outsider_gets_nothing(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner, outsider = self.user(uow_factory), self.user(uow_factory)
        self.family(uow_factory, outsider)  # a family of their own does not help
        family = self.family(uow_factory, owner)
        pet = self.pet(uow_factory, owner, family)
        # A reader without row-level security may return the pet with no role; with it, nothing.
        found = self.run(aio, pet_reader.pet_with_role(outsider.id, pet.id))
        assert found is None or found[1] is None
        assert self.run(aio, pet_reader.family_pets(outsider.id, family.id, None, None, 10)) == (None, [])
        with pytest.raises(NotFound, match="pet not found"):
            self.run(aio, pet_queries.read_pet(pet_reader, outsider.id, pet.id))
        with pytest.raises(NotFound, match="family not found"):
            self.run(aio, pet_queries.read_pets(pet_reader, outsider.id, family.id, None, None, 10))

    def test_an_unknown_pet_is_none(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        self.family(uow_factory, owner)
        assert self.run(aio, pet_reader.pet_with_role(owner.id, uuid4())) is None
        assert self.run(aio, pet_reader.family_pets(owner.id, uuid4(), None, None, 10)) == (None, [])

    # --- pages ---------------------------------------------------------------------------------

    def test_a_family_page_pages_by_id_with_the_role(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner, viewer = self.user(uow_factory), self.user(uow_factory)
        family = self.family(uow_factory, owner, (viewer, Role.VIEWER))
        pets = [self.pet(uow_factory, owner, family, name=f"Pet {i}") for i in range(5)]
        seen: list[Pet] = []
        after: UUID | None = None
        while True:
            role, page = self.run(aio, pet_reader.family_pets(viewer.id, family.id, None, after, 2))
            assert role is Role.VIEWER
            assert page == self.reference_list(uow_factory, owner, [family.id], None, after, 2)
            if not page:
                break
            seen += page
            after = page[-1].id
        assert seen == sorted(pets, key=lambda p: p.id)

    def test_a_family_without_pets_gives_the_role_and_an_empty_page(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        family = self.family(uow_factory, owner)
        assert self.run(aio, pet_reader.family_pets(owner.id, family.id, None, None, 10)) == (Role.OWNER, [])

    def test_the_species_filter_applies_with_and_without_a_cursor(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        family = self.family(uow_factory, owner)
        for i in range(6):
            self.pet(uow_factory, owner, family, species=Species.CAT if i % 2 else Species.DOG)
        _, cats = self.run(aio, pet_reader.family_pets(owner.id, family.id, Species.CAT, None, 10))
        assert [p.species for p in cats] == [Species.CAT] * 3
        assert cats == self.reference_list(uow_factory, owner, [family.id], Species.CAT, None, 10)
        _, rest = self.run(aio, pet_reader.family_pets(owner.id, family.id, Species.CAT, cats[0].id, 10))
        assert rest == cats[1:]
        _, none = self.run(aio, pet_reader.family_pets(owner.id, family.id, Species.BIRD, None, 10))
        assert none == []

    def test_without_a_family_every_family_of_the_actor_is_paged_and_no_other(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        me, friend, stranger = (self.user(uow_factory) for _ in range(3))
        mine = self.family(uow_factory, me)
        theirs = self.family(uow_factory, friend, (me, Role.MEMBER))
        other = self.family(uow_factory, stranger)
        expected = [self.pet(uow_factory, me, mine) for _ in range(2)]
        expected += [self.pet(uow_factory, friend, theirs, species=Species.CAT) for _ in range(2)]
        self.pet(uow_factory, stranger, other)
        expected.sort(key=lambda p: p.id)
        role, page = self.run(aio, pet_reader.family_pets(me.id, None, None, None, 10))
        assert (role, page) == (None, expected)
        _, first = self.run(aio, pet_reader.family_pets(me.id, None, None, None, 3))
        _, second = self.run(aio, pet_reader.family_pets(me.id, None, None, first[-1].id, 3))
        assert first + second == expected
        _, cats = self.run(aio, pet_reader.family_pets(me.id, None, Species.CAT, None, 10))
        assert cats == [p for p in expected if p.species is Species.CAT]
        assert cats == self.reference_list(uow_factory, me, [mine.id, theirs.id], Species.CAT, None, 10)
        loner = self.user(uow_factory)
        assert self.run(aio, pet_reader.family_pets(loner.id, None, None, None, 10)) == (None, [])
        assert self.run(aio, pet_queries.read_pets(pet_reader, loner.id, None, None, None, 10)) == []

    def test_a_deleted_pet_is_gone_and_changes_show(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        family = self.family(uow_factory, owner)
        pet, kept = self.pet(uow_factory, owner, family), self.pet(uow_factory, owner, family)
        with uow_factory(owner.id) as uow:
            uow.pets.delete(pet.id)
            uow.commit()
        assert self.run(aio, pet_reader.pet_with_role(owner.id, pet.id)) is None
        assert self.run(aio, pet_queries.read_pets(pet_reader, owner.id, family.id, None, None, 10)) == [kept]
        assert self.run(aio, pet_queries.read_pet(pet_reader, owner.id, kept.id)) == kept


class SessionReaderContract:
    """A SessionReader sees what the SessionStore over the same data holds."""

    @pytest.fixture
    def aio(self, session_reader: SessionReader) -> Iterator[asyncio.Runner]:
        with asyncio.Runner() as runner:
            yield runner
            close = getattr(session_reader, "close", None)
            if close is not None:
                runner.run(close())

    def test_an_open_session_reads_back_equal(
        self, sessions: SessionStore, session_reader: SessionReader, aio: asyncio.Runner
    ) -> None:
        record = new_session_record()
        sessions.create(record, 60)
        assert aio.run(session_reader.get(record.session_id)) == record

    def test_an_unknown_session_is_none(self, session_reader: SessionReader, aio: asyncio.Runner) -> None:
        assert aio.run(session_reader.get(uuid4())) is None

    def test_a_revoked_or_rotated_session_shows_as_the_store_holds_it(
        self, sessions: SessionStore, session_reader: SessionReader, aio: asyncio.Runner
    ) -> None:
        record, other = new_session_record(), new_session_record()
        sessions.create(record, 60)
        sessions.create(other, 60)
        new = uuid4()
        assert sessions.rotate(other.session_id, other.current_token_id, new, 60)
        sessions.revoke(record.session_id)
        assert aio.run(session_reader.get(record.session_id)) is None
        got = aio.run(session_reader.get(other.session_id))
        assert got is not None
        assert (got.current_token_id, got.user_id) == (new, other.user_id)
