"""Files: upload a pet's photo or document, list, serve and delete them (docs/files.md).

An upload is authorised first (outsiders 404, viewers 403, before any work on the bytes),
then checked by the pure rules (`model.files.check_upload`), then images are decoded and
re-encoded by the ImageProcessor port, outside any transaction. The blobs are written next,
and the row goes in last, under the family's lock with the storage quota checked: if
anything fails after a blob was written, the blobs are deleted again, so there is never a
row without its blob, and a blob without a row only if the process dies in between
(docs/files.md, "Consistency"). Deleting a file deletes the row and records `FileDeleted`;
the worker deletes the blobs after the commit.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import NotFound, TierLimitExceeded, UnsupportedFileType
from tailtracker_core.events import (
    DomainEvent,
    FamilyDeleted,
    FileDeleted,
    FileStored,
    MedicalRecordChanged,
    PetDeleted,
    VaccinationChanged,
)
from tailtracker_core.model.files import (
    FileKind,
    MediaType,
    StoredFile,
    Variant,
    check_upload,
    family_prefix,
    pet_prefix,
    require_files_of_pet,
    safe_filename,
    storage_keys,
)
from tailtracker_core.model.pets import Pet
from tailtracker_core.model.roles import Action
from tailtracker_core.policy import require
from tailtracker_core.ports import BlobNotFound, FileStore, ImageProcessor, UnitOfWork
from tailtracker_core.usecases.deps import Deps, tier_of_family

__all__ = [
    "FileContent",
    "StorageUsage",
    "Upload",
    "check_attachments",
    "delete_blobs_for",
    "delete_file",
    "get_file",
    "list_files",
    "open_file",
    "storage_usage",
    "sweep_orphan_blobs",
    "upload_file",
]

_MB = 1024 * 1024


@frozen
class Upload:
    data: bytes
    filename: str | None = None  # as the client named it; used only, sanitised, for downloads


@frozen
class FileContent:
    file: StoredFile
    content_type: MediaType
    size_bytes: int
    chunks: Iterator[bytes]


def _services(deps: Deps) -> tuple[FileStore, ImageProcessor]:
    if deps.blobs is None or deps.images is None:
        raise RuntimeError("file storage is not configured (Deps.blobs, Deps.images)")
    return deps.blobs, deps.images


def _pet(uow: UnitOfWork, pet_id: UUID, actor: UUID, action: Action) -> Pet:
    pet = uow.pets.get(pet_id)
    require(uow.families.role_of(pet.family_id, actor) if pet else None, action, "pet")
    assert pet is not None
    return pet


def _file(uow: UnitOfWork, file_id: UUID, actor: UUID, action: Action) -> StoredFile:
    stored = uow.files.get(file_id)
    require(uow.families.role_of(stored.family_id, actor) if stored else None, action, "file")
    assert stored is not None
    return stored


def _over_quota(deps: Deps, uow: UnitOfWork, family_id: UUID, adding: int) -> TierLimitExceeded | None:
    family = uow.families.get(family_id)
    assert family is not None
    tier, limits = tier_of_family(uow, deps, family.owners)
    if uow.files.usage_of_family(family_id) + adding > limits.storage_bytes:
        return TierLimitExceeded("MB of file storage", limits.storage_bytes // _MB, tier.value)
    return None


def upload_file(deps: Deps, actor: UUID, pet_id: UUID, kind: FileKind, upload: Upload) -> StoredFile:
    """Store a photo (JPEG, PNG, WebP, HEIC) or a document (those or PDF) of a pet."""
    blobs, images = _services(deps)
    rules = deps.config.files
    with deps.uow(actor) as uow:
        pet = _pet(uow, pet_id, actor, Action.EDIT)
        # A cheap early refusal; the exact check is repeated under the lock below.
        if refusal := _over_quota(deps, uow, pet.family_id, len(upload.data)):
            raise refusal
    media_type = check_upload(upload.data, kind, rules)
    if media_type.is_image and not images.supports(media_type):
        raise UnsupportedFileType(f"{media_type.value} cannot be decoded here; send JPEG, PNG or WebP")

    file_id, now = deps.ids.new_id(), deps.clock.now()
    key, thumbnail_key = storage_keys(pet.family_id, pet.id, file_id)
    name = safe_filename(upload.filename, media_type, kind.value)
    writes: list[tuple[str, bytes, MediaType]]
    if media_type.is_image:
        variants = images.process(
            upload.data,
            media_type,
            max_pixels=rules.max_pixels,
            max_edge=rules.max_edge,
            thumbnail_edge=rules.thumbnail_edge,
        )
        original, thumb = variants.original, variants.thumbnail
        stored = StoredFile(
            id=file_id,
            family_id=pet.family_id,
            pet_id=pet.id,
            kind=kind,
            content_type=original.content_type,
            size_bytes=len(original.data),
            sha256=hashlib.sha256(original.data).hexdigest(),
            storage_key=key,
            original_name=safe_filename(upload.filename, original.content_type, kind.value),
            created_by=actor,
            created_at=now,
            width=original.width,
            height=original.height,
            thumbnail_key=thumbnail_key,
            thumbnail_content_type=thumb.content_type,
            thumbnail_size_bytes=len(thumb.data),
        )
        writes = [
            (key, original.data, original.content_type),
            (thumbnail_key, thumb.data, thumb.content_type),
        ]
    else:
        stored = StoredFile(
            id=file_id,
            family_id=pet.family_id,
            pet_id=pet.id,
            kind=kind,
            content_type=media_type,
            size_bytes=len(upload.data),
            sha256=hashlib.sha256(upload.data).hexdigest(),
            storage_key=key,
            original_name=name,
            created_by=actor,
            created_at=now,
        )
        writes = [(key, upload.data, media_type)]

    written: list[str] = []
    try:
        for blob_key, data, content_type in writes:
            blobs.put(blob_key, data, content_type.value)
            written.append(blob_key)
        with deps.uow(actor) as uow:
            uow.families.lock(pet.family_id)
            _pet(uow, pet_id, actor, Action.EDIT)  # still there, still allowed
            if refusal := _over_quota(deps, uow, pet.family_id, stored.stored_bytes):
                raise refusal
            uow.files.add(stored)
            uow.record(FileStored(file_id, pet.family_id, pet.id, kind.value, stored.stored_bytes))
            uow.commit()
    except BaseException:
        # Nothing half stored: the blobs of a file whose row did not commit go again.
        for blob_key in written:
            with contextlib.suppress(Exception):
                blobs.delete(blob_key)
        raise
    return stored


@frozen
class StorageUsage:
    family_id: UUID
    tier: str
    used_bytes: int
    limit_bytes: int


def storage_usage(deps: Deps, actor: UUID, family_id: UUID) -> StorageUsage:
    """How much of its tier's file storage a family uses (every member may see it)."""
    with deps.uow(actor) as uow:
        family = uow.families.get(family_id)
        require(family.role_of(actor) if family else None, Action.READ, "family")
        assert family is not None
        tier, limits = tier_of_family(uow, deps, family.owners)
        return StorageUsage(family_id, tier.value, uow.files.usage_of_family(family_id), limits.storage_bytes)


def list_files(
    deps: Deps, actor: UUID, pet_id: UUID, kind: FileKind | None, after: UUID | None, limit: int
) -> list[StoredFile]:
    with deps.uow(actor) as uow:
        _pet(uow, pet_id, actor, Action.READ)
        return uow.files.list_for_pet(pet_id, kind, after, limit)


def get_file(deps: Deps, actor: UUID, file_id: UUID) -> StoredFile:
    with deps.uow(actor) as uow:
        return _file(uow, file_id, actor, Action.READ)


def open_file(deps: Deps, actor: UUID, file_id: UUID, variant: Variant = Variant.ORIGINAL) -> FileContent:
    """The bytes of a file (or of its thumbnail), for a member of its family."""
    blobs, _ = _services(deps)
    stored = get_file(deps, actor, file_id)
    if variant is Variant.THUMBNAIL:
        if stored.thumbnail_key is None or stored.thumbnail_content_type is None:
            raise NotFound("this file has no thumbnail (only images have one)")
        key, content_type, size = (
            stored.thumbnail_key,
            stored.thumbnail_content_type,
            stored.thumbnail_size_bytes,
        )
    else:
        key, content_type, size = stored.storage_key, stored.content_type, stored.size_bytes
    try:
        chunks = blobs.get(key)
    except BlobNotFound:
        # Deleted between the row read and now (the worker deletes blobs after the row).
        raise NotFound("file not found") from None
    return FileContent(stored, content_type, size, chunks)


def delete_file(deps: Deps, actor: UUID, file_id: UUID) -> None:
    """Owners and members; the blobs go after the commit (FileDeleted, handled by the worker).
    Records that point at the file (a dose's certificate, a medical record's attachments) let
    go of it in the same transaction, so none is left pointing at a file that is gone."""
    with deps.uow(actor) as uow:
        stored = _file(uow, file_id, actor, Action.EDIT)
        if stored.pet_id is not None:
            _detach(uow, stored.pet_id, stored.family_id, stored.id, deps.clock.now())
        uow.files.delete(stored.id)
        uow.record(FileDeleted(stored.id, stored.family_id, stored.pet_id, stored.keys))
        uow.commit()


def _detach(uow: UnitOfWork, pet_id: UUID, family_id: UUID, file_id: UUID, now: datetime) -> None:
    for dose in uow.vaccinations.for_pet(pet_id):
        if dose.certificate_id == file_id:
            uow.vaccinations.save(dose.without_certificate())
            uow.record(VaccinationChanged(dose.id, pet_id, family_id, "updated"))
    after: UUID | None = None
    while page := uow.medical_records.list_for_pet(pet_id, after, 200):
        for record in page:
            if file_id in record.file_ids:
                revised = record.without_file(file_id, now)
                uow.medical_records.save(revised)
                uow.record(MedicalRecordChanged(record.id, pet_id, family_id, "updated", revised.file_ids))
        after = page[-1].id


def check_attachments(uow: UnitOfWork, pet_id: UUID, file_ids: Sequence[UUID], field: str) -> None:
    """For features that refer to files (medical records' `file_ids`, a vaccination's
    certificate): every id must be a stored file of this pet, else ValidationFailed (422)
    naming `field`. Call it inside the unit of work that stores the reference."""
    if file_ids:
        require_files_of_pet(uow.files.get_many(list(dict.fromkeys(file_ids))), file_ids, pet_id, field)


def delete_blobs_for(event: DomainEvent, blobs: FileStore) -> int | None:
    """The worker's side of deletion: the blobs of a deleted file, pet or family (their rows
    are gone already: a file's by `delete_file`, a pet's or a family's files by the database's
    cascade). Idempotent, so a redelivered event is harmless. None when the event is not one
    of these."""
    if isinstance(event, FileDeleted):
        for key in event.keys:
            blobs.delete(key)
        return len(event.keys)
    if isinstance(event, PetDeleted):
        return blobs.delete_prefix(pet_prefix(event.family_id, event.pet_id))
    if isinstance(event, FamilyDeleted):
        return blobs.delete_prefix(family_prefix(event.family_id))
    return None


def sweep_orphan_blobs(deps: Deps, grace: timedelta = timedelta(hours=1), batch: int = 500) -> int:
    """Delete blobs that no file row names and that were written more than `grace` ago: what
    an upload leaves if its process dies between writing the blob and committing the row, and
    what a lost `file.deleted` would leave. The grace keeps in-flight uploads (blob written,
    row not yet committed) safe. Runs across families, through `uow.files.known_keys`.
    Returns how many blobs were deleted."""
    blobs, _ = _services(deps)
    cutoff = deps.clock.now() - grace
    deleted = 0
    pending: list[str] = []

    def flush() -> int:
        if not pending:
            return 0
        with deps.uow(None) as uow:
            known = uow.files.known_keys(pending)
        orphans = [k for k in pending if k not in known]
        for key in orphans:
            blobs.delete(key)
        pending.clear()
        return len(orphans)

    for key in blobs.keys("families/", cutoff):
        pending.append(key)
        if len(pending) >= batch:
            deleted += flush()
    return deleted + flush()
