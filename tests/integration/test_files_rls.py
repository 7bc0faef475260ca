"""Row-level security on `files` (PostgreSQL, as the app role): another family's files are
invisible and cannot be written, and a file cannot be attached to another family's pet."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from adapters.sql import Database
from adapters.system import Uuid7Generator
from tailtracker_core.model.accounts import User
from tailtracker_core.model.families import Family
from tailtracker_core.model.files import FileKind, MediaType, StoredFile, storage_keys
from tailtracker_core.model.pets import Pet, Sex, Species

pytestmark = pytest.mark.postgres
ids = Uuid7Generator()


def _now() -> datetime:
    return datetime.now(UTC)


def _file(user: User, pet: Pet, family_id: Any = None) -> StoredFile:
    file_id = ids.new_id()
    key, _ = storage_keys(pet.family_id, pet.id, file_id)
    return StoredFile(
        file_id,
        family_id or pet.family_id,
        pet.id,
        FileKind.DOCUMENT,
        MediaType.PDF,
        100,
        "0" * 64,
        key,
        "a.pdf",
        user.id,
        _now(),
    )


@pytest.fixture(scope="module")
def world(postgres_db: Database) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for name in ("alice", "bob"):
        user = User(ids.new_id(), f"{name}-{ids.new_id().hex}@example.org", name, "hash", _now())
        family = Family.found(ids.new_id(), name, user.id, _now())
        pet = Pet(ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, _now(), _now())
        with postgres_db.uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.commit()
        with postgres_db.uow_factory(user.id) as uow:
            uow.families.add(family)
            uow.pets.add(pet)
            uow.commit()
        stored = _file(user, pet)
        with postgres_db.uow_factory(user.id) as uow:
            uow.files.add(stored)
            uow.commit()
        made[name] = user
        made[f"{name}_family"] = family
        made[f"{name}_pet"] = pet
        made[f"{name}_file"] = stored
    return made


def test_another_familys_files_are_invisible(postgres_db: Database, world: dict[str, Any]) -> None:
    alice, bob_file, bob_family = world["alice"], world["bob_file"], world["bob_family"]
    with postgres_db.uow_factory(alice.id) as uow:
        assert uow.files.get(bob_file.id) is None
        assert uow.files.usage_of_family(bob_family.id) == 0
        rows = uow._conn().execute(text("SELECT id FROM files")).scalars().all()
        assert rows == [world["alice_file"].id]
        deleted = uow._conn().execute(text("DELETE FROM files WHERE id = :id"), {"id": bob_file.id})
        assert deleted.rowcount == 0
        uow.commit()
    with postgres_db.uow_factory(None) as uow:
        assert uow._conn().execute(text("SELECT count(*) FROM files")).scalar_one() == 0


def test_a_file_cannot_be_written_into_another_family(postgres_db: Database, world: dict[str, Any]) -> None:
    alice, bob_pet, alice_family = world["alice"], world["bob_pet"], world["alice_family"]
    # Bob's pet, in Bob's family: not a member there.
    with postgres_db.uow_factory(alice.id) as uow, pytest.raises(DBAPIError, match="row-level security"):
        uow.files.add(_file(alice, bob_pet))
    # Bob's pet claimed to be in Alice's family: the pet is not one of that family's.
    with postgres_db.uow_factory(alice.id) as uow, pytest.raises(DBAPIError, match="row-level security"):
        uow.files.add(_file(alice, bob_pet, family_id=alice_family.id))
