"""The orphan-blob sweep: blobs no row names go once they are older than the grace; blobs of
stored files and blobs of uploads still in flight stay."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from adapters.media import PillowImageProcessor
from adapters.memory.files import MemoryFileStore
from tailtracker_core.model.families import Family
from tailtracker_core.model.files import FileKind, storage_keys
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.usecases import files
from tests.fixtures import files as samples
from tests.unit.support import FakeClock, add_user, memory_deps


def test_the_sweep_deletes_old_orphans_only() -> None:
    clock = FakeClock()
    blobs = MemoryFileStore()
    deps, _, _ = memory_deps(clock, blobs=blobs, images=PillowImageProcessor())
    user = add_user(deps, "owner@example.org")
    family = Family.found(deps.ids.new_id(), "F", user.id, clock.now())
    pet = Pet(deps.ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, clock.now(), clock.now())
    with deps.uow(user.id) as uow:
        uow.families.add(family)
        uow.pets.add(pet)
        uow.commit()
    stored = files.upload_file(deps, user.id, pet.id, FileKind.PHOTO, files.Upload(samples.jpeg(), "a.jpg"))
    orphan, orphan_thumb = storage_keys(family.id, pet.id, uuid4())
    blobs.put(orphan, b"left by a crash", "image/jpeg")
    blobs.put(orphan_thumb, b"left by a crash", "image/jpeg")
    for key in (orphan, orphan_thumb, *stored.keys):
        blobs.written[key] = clock.now() - timedelta(hours=2)
    in_flight, _ = storage_keys(family.id, pet.id, uuid4())
    blobs.put(in_flight, b"an upload about to commit", "image/jpeg")
    blobs.written[in_flight] = clock.now() - timedelta(minutes=5)

    assert files.sweep_orphan_blobs(deps, grace=timedelta(hours=1), batch=2) == 2
    assert not blobs.exists(orphan) and not blobs.exists(orphan_thumb)
    assert all(blobs.exists(k) for k in stored.keys)
    assert blobs.exists(in_flight)
    assert files.sweep_orphan_blobs(deps) == 0  # nothing more to do
