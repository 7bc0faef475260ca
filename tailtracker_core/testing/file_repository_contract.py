"""Contract of the FileRepository (`uow.files`), as a pytest base class.

Subclass `FileRepositoryContract` and provide `uow_factory` over one EMPTY store (as for
`UnitOfWorkContract`). Every test acts as the owner of the data it touches, so adapters with
row-level security run it with RLS on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tailtracker_core.model.accounts import User
from tailtracker_core.model.families import Family
from tailtracker_core.model.files import FileKind, MediaType, StoredFile, storage_keys
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.ports import IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds

__all__ = ["FileRepositoryContract"]


class FileRepositoryContract:
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return TestIds()

    # --- helpers ------------------------------------------------------------------------------

    def owner_with_pet(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> tuple[User, Family, Pet]:
        now = datetime.now(UTC)
        user = User(ids.new_id(), f"owner-{ids.new_id().hex}@example.org", "Owner", "hash", now)
        family = Family.found(ids.new_id(), "Family", user.id, now)
        with uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.commit()
        with uow_factory(user.id) as uow:
            uow.families.add(family)
            uow.commit()
        return user, family, self.add_pet(uow_factory, ids, user, family)

    def add_pet(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator, user: User, family: Family) -> Pet:
        now = datetime.now(UTC)
        pet = Pet(ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, now, now)
        with uow_factory(user.id) as uow:
            uow.pets.add(pet)
            uow.commit()
        return pet

    def stored(self, ids: IdGenerator, user: User, pet: Pet, **kw: Any) -> StoredFile:
        file_id = ids.new_id()
        key, thumb = storage_keys(pet.family_id, pet.id, file_id)
        fields: dict[str, Any] = {
            "id": file_id,
            "family_id": pet.family_id,
            "pet_id": pet.id,
            "kind": FileKind.PHOTO,
            "content_type": MediaType.JPEG,
            "size_bytes": 123_456,
            "sha256": "ab" * 32,
            "storage_key": key,
            "original_name": "Biscuit at the beach.jpg",
            "created_by": user.id,
            "created_at": datetime(2026, 5, 1, 9, 30, 15, 123000, tzinfo=UTC),
            "width": 4032,
            "height": 3024,
            "thumbnail_key": thumb,
            "thumbnail_content_type": MediaType.JPEG,
            "thumbnail_size_bytes": 20_000,
        }
        fields.update(kw)
        return StoredFile(**fields)

    def add(self, uow_factory: UnitOfWorkFactory, user: User, *files: StoredFile) -> None:
        with uow_factory(user.id) as uow:
            for f in files:
                uow.files.add(f)
            uow.commit()

    # --- tests --------------------------------------------------------------------------------

    def test_a_photo_round_trips_every_field(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user, _, pet = self.owner_with_pet(uow_factory, ids)
        photo = self.stored(ids, user, pet, original_name="Ünïcödé 🐶 photo.jpg")
        self.add(uow_factory, user, photo)
        with uow_factory(user.id) as uow:
            assert uow.files.get(photo.id) == photo

    def test_a_document_without_thumbnail_or_size_round_trips(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, _, pet = self.owner_with_pet(uow_factory, ids)
        pdf = self.stored(
            ids,
            user,
            pet,
            kind=FileKind.DOCUMENT,
            content_type=MediaType.PDF,
            size_bytes=5 * 1024**3,  # beyond 32 bits
            width=None,
            height=None,
            thumbnail_key=None,
            thumbnail_content_type=None,
            thumbnail_size_bytes=0,
        )
        self.add(uow_factory, user, pdf)
        with uow_factory(user.id) as uow:
            got = uow.files.get(pdf.id)
        assert got == pdf
        assert got is not None
        assert got.created_at.tzinfo is not None

    def test_adding_the_same_id_twice_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        from tailtracker_core.errors import Conflict

        user, _, pet = self.owner_with_pet(uow_factory, ids)
        photo = self.stored(ids, user, pet)
        self.add(uow_factory, user, photo)
        with uow_factory(user.id) as uow, pytest.raises(Conflict):
            uow.files.add(photo)

    def test_get_of_an_unknown_id_is_none_and_get_many_skips_it(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, _, pet = self.owner_with_pet(uow_factory, ids)
        a, b = self.stored(ids, user, pet), self.stored(ids, user, pet)
        self.add(uow_factory, user, a, b)
        unknown = ids.new_id()
        with uow_factory(user.id) as uow:
            assert uow.files.get(unknown) is None
            assert sorted(f.id for f in uow.files.get_many([b.id, unknown, a.id, b.id])) == sorted(
                [a.id, b.id]
            )
            assert uow.files.get_many([]) == []

    def test_list_for_pet_pages_in_id_order_and_filters_by_kind(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_with_pet(uow_factory, ids)
        other_pet = self.add_pet(uow_factory, ids, user, family)
        photos = [self.stored(ids, user, pet) for _ in range(3)]
        doc = self.stored(ids, user, pet, kind=FileKind.DOCUMENT, content_type=MediaType.PDF)
        elsewhere = self.stored(ids, user, other_pet)
        self.add(uow_factory, user, *photos, doc, elsewhere)
        with uow_factory(user.id) as uow:
            everything = uow.files.list_for_pet(pet.id, None, None, 10)
            first = uow.files.list_for_pet(pet.id, FileKind.PHOTO, None, 2)
            rest = uow.files.list_for_pet(pet.id, FileKind.PHOTO, first[-1].id, 2)
            docs = uow.files.list_for_pet(pet.id, FileKind.DOCUMENT, None, 10)
        assert [f.id for f in everything] == sorted(f.id for f in [*photos, doc])
        assert [f.id for f in first + rest] == [p.id for p in photos]
        assert docs == [doc]

    def test_delete_removes_one_file(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        user, _, pet = self.owner_with_pet(uow_factory, ids)
        a, b = self.stored(ids, user, pet), self.stored(ids, user, pet)
        self.add(uow_factory, user, a, b)
        with uow_factory(user.id) as uow:
            uow.files.delete(a.id)
            uow.files.delete(ids.new_id())  # an unknown id is no error
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.files.get(a.id) is None
            assert uow.files.get(b.id) == b

    def test_usage_counts_stored_copies_and_thumbnails_of_one_family(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_with_pet(uow_factory, ids)
        other_user, other_family, other_pet = self.owner_with_pet(uow_factory, ids)
        self.add(
            uow_factory,
            other_user,
            self.stored(ids, other_user, other_pet, size_bytes=7, thumbnail_size_bytes=1),
        )
        with uow_factory(user.id) as uow:
            assert uow.files.usage_of_family(family.id) == 0
        second_pet = self.add_pet(uow_factory, ids, user, family)
        self.add(
            uow_factory,
            user,
            self.stored(ids, user, pet, size_bytes=1000, thumbnail_size_bytes=100),
            self.stored(ids, user, second_pet, size_bytes=3 * 1024**3, thumbnail_size_bytes=0),
        )
        with uow_factory(user.id) as uow:
            assert uow.files.usage_of_family(family.id) == 1100 + 3 * 1024**3
        with uow_factory(other_user.id) as uow:
            assert uow.files.usage_of_family(other_family.id) == 8

    def test_files_go_with_their_pet_and_with_their_family(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_with_pet(uow_factory, ids)
        other_pet = self.add_pet(uow_factory, ids, user, family)
        gone, kept = self.stored(ids, user, pet), self.stored(ids, user, other_pet)
        self.add(uow_factory, user, gone, kept)
        with uow_factory(user.id) as uow:
            uow.pets.delete(pet.id)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.files.get(gone.id) is None
            assert uow.files.get(kept.id) == kept
            assert uow.files.usage_of_family(family.id) == kept.stored_bytes
            uow.families.delete(family.id)
            uow.commit()
        with uow_factory(user.id) as uow:
            assert uow.files.get(kept.id) is None

    def test_an_add_rolled_back_leaves_nothing(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, family, pet = self.owner_with_pet(uow_factory, ids)
        photo = self.stored(ids, user, pet)
        with uow_factory(user.id) as uow:
            uow.files.add(photo)
            uow.rollback()
        with uow_factory(user.id) as uow:
            assert uow.files.get(photo.id) is None
            assert uow.files.usage_of_family(family.id) == 0

    def test_timestamps_come_back_aware_and_equal(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        from datetime import timezone

        user, _, pet = self.owner_with_pet(uow_factory, ids)
        when = datetime(2026, 7, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
        photo = self.stored(ids, user, pet, created_at=when)
        self.add(uow_factory, user, photo)
        with uow_factory(user.id) as uow:
            got = uow.files.get(photo.id)
        assert got is not None
        assert got.created_at == when
        assert got.created_at.tzinfo is not None

    def test_known_keys_answers_across_families_whoever_asks(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        user, _, pet = self.owner_with_pet(uow_factory, ids)
        stranger, _, _ = self.owner_with_pet(uow_factory, ids)
        photo = self.stored(ids, user, pet)
        pdf = self.stored(
            ids, user, pet, thumbnail_key=None, thumbnail_content_type=None, thumbnail_size_bytes=0
        )
        self.add(uow_factory, user, photo, pdf)
        unknown = storage_keys(pet.family_id, pet.id, ids.new_id())
        assert photo.thumbnail_key is not None
        asked = [photo.storage_key, photo.thumbnail_key, pdf.storage_key, *unknown]
        for actor in (None, stranger.id, user.id):  # the sweep asks as nobody
            with uow_factory(actor) as uow:
                assert uow.files.known_keys(asked) == {
                    photo.storage_key,
                    photo.thumbnail_key,
                    pdf.storage_key,
                }
                assert uow.files.known_keys([]) == set()
